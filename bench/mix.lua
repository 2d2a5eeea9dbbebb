-- wrk script for bench/mix.py: each request the next address of a list drawn beforehand, and
-- for each response its address's kind, status, latency and X-Cache header, written to a file
-- per thread when the run ends. wrk runs one connection per thread (-t N -c N), so a thread's
-- requests follow each other and the time from request() to response() is the latency.
--
--   wrk -t8 -c8 -d30s -s bench/mix.lua http://127.0.0.1:PORT -- ADDRESSES OUTPUT_PREFIX THREADS
--
-- ADDRESSES: lines "kind<TAB>path"; thread n of THREADS starts at line n * lines / THREADS.
-- Written: OUTPUT_PREFIX.<thread>, lines "kind<TAB>status<TAB>microseconds<TAB>x-cache".

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1000000 + tonumber(now_ts.tv_nsec) / 1000
end

-- As behind a proxy that terminates TLS (the server runs with DJANGO_BEHIND_TLS_PROXY=1).
wrk.headers["X-Forwarded-Proto"] = "https"

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local kinds, paths = {}, {}
local position, started, current = 1, 0, nil
records, output = {}, nil  -- globals: done() reads them from each thread

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local kind, path = line:match("^([^\t]*)\t(.*)$")
    table.insert(kinds, kind)
    table.insert(paths, path)
  end
  file:close()
  output = args[2]
  position = math.floor(id * #paths / tonumber(args[3])) % #paths + 1
end

function request()
  current = position
  position = position % #paths + 1
  started = now_us()
  return wrk.format("GET", paths[current])
end

function response(status, headers, body)
  local elapsed = now_us() - started
  records[#records + 1] = string.format(
    "%s\t%d\t%.0f\t%s", kinds[current], status, elapsed, headers["X-Cache"] or ""
  )
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local n = thread:get("id")
    local lines = thread:get("records")
    local file = assert(io.open(thread:get("output") .. "." .. n, "w"))
    for _, line in ipairs(lines) do
      file:write(line, "\n")
    end
    file:close()
  end
  local e = summary.errors
  io.write(string.format(
    '\n{"requests": %d, "duration_us": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}}\n',
    summary.requests, summary.duration,
    e.connect, e.read, e.write, e.timeout, e.status))
end
