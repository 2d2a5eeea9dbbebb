-- wrk script: prints the run's summary as one line of JSON (latencies in microseconds),
-- which bench/run reads. It defines no response() callback on purpose: with one, wrk keeps
-- every response body for Lua, which costs the load generator CPU that the server under
-- test shares. bench/run checks each address answers 200 before loading it; during the load
-- wrk counts socket errors and responses with a status of 400 or more.

-- As behind a proxy that terminates TLS (the server runs with DJANGO_BEHIND_TLS_PROXY=1).
wrk.headers["X-Forwarded-Proto"] = "https"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\n{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}, ' ..
    '"latency_us": {"p50": %.0f, "p95": %.0f, "p99": %.0f, "mean": %.1f, "max": %.0f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.mean, latency.max))
end
