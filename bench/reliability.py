"""
Load and faults: the product in production mode (gunicorn with tracker/gunicorn.conf.py,
DJANGO_DEBUG off, PostgreSQL) under many concurrent clients, optionally with PostgreSQL
restarted in the middle.

    .venv/bin/python bench/reliability.py load              # 50 clients, 60 s
    .venv/bin/python bench/reliability.py restart           # the same, PostgreSQL restarted at 20 s
    .venv/bin/python bench/reliability.py load --seconds 5  # a quick look
    .venv/bin/python bench/reliability.py slow-clients      # 32 slow clients: direct, then nginx

Each client keeps one connection and asks, one request after another, for a random address
from a mix of API answers and pages over many different statements and organisations (so
that kept answers do not serve everything). Every request's time, status and latency are
recorded; workers' memory (RSS) is read every second. Results go to
bench/reliability-<mode>.json and a summary to standard output (docs/reliability.md quotes
them). The dataset is the benchmark's 10k one (bench/harness.py builds it if needed).

`slow-clients` opens 32 connections that each send a request a byte every 1.5 s (16 their
headers, 16 a form's body after whole headers), and meanwhile asks, one request after another
on new connections, for a few addresses: first straight to gunicorn, then through nginx with
the shipped site file (deploy/nginx.conf; Debian's nginx package). It writes
bench/reliability-slow-clients.json: straight to gunicorn the other requests wait for the slow
ones; through nginx they are answered as without them. It runs on a scratch database (the
seeds and a small synthetic set), dropped at the end.

`restart` runs `pg_ctlcluster <version> main restart`: it needs to run as root on a machine
where that cluster is the one in BENCH_POSTGRES, and it interrupts every other user of it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness

from tests.production import SlowClients, fetch, nginx

ROOT = harness.ROOT
PUBLIC = harness.PUBLIC


def addresses(url: str, rng: random.Random) -> list[str]:
    """A mix of API answers and pages over many records, found in the data."""
    with psycopg.connect(url, autocommit=True) as conn:
        statements = [
            slug
            for (slug,) in conn.execute(
                f"SELECT slug FROM statements_statement WHERE status IN {PUBLIC} ORDER BY slug"
            )
        ]
        organizations = [
            slug
            for (slug,) in conn.execute(
                "SELECT slug FROM organizations_organization WHERE public_statement_count > 0"
                " ORDER BY slug"
            )
        ]
        topics = [slug for (slug,) in conn.execute("SELECT slug FROM statements_topic")]
    statements = rng.sample(statements, min(60, len(statements)))
    organizations = rng.sample(organizations, min(60, len(organizations)))
    mix = ["/", "/statements/", "/organizations/", "/topics/", "/static/tracker/site.css"]
    mix += ["/api/v1/statements/", "/api/v1/organizations/", "/api/v1/signatures/"]
    mix += [f"/api/v1/statements/?topic={t}" for t in topics]
    mix += [f"/topics/{t}/" for t in topics]
    for slug in statements:
        mix += [f"/statements/{slug}/", f"/api/v1/statements/{slug}/"]
    for slug in organizations:
        mix += [
            f"/organizations/{slug}/",
            f"/api/v1/organizations/{slug}/",
            f"/api/v1/organizations/{slug}/timeline/",
            f"/api/v1/organizations/{slug}/cosigners/",
        ]
    mix += [f"/search/?q={word}" for word in ("peace", "gaza", "rights", "letter", "synthetic")]
    mix += [f"/statements/?page={n}" for n in range(2, 12)]
    return mix


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.rows: list[tuple[float, int, float]] = []  # (time, status or 0, seconds)
        self.errors: Counter = Counter()

    def add(self, started: float, status: int, seconds: float, error: str = ""):
        with self.lock:
            self.rows.append((started, status, seconds))
            if error:
                self.errors[error] += 1


def client(host: str, port: int, mix: list[str], until: float, seed: int, recorder: Recorder):
    rng = random.Random(seed)
    connection = None
    while (now := time.monotonic()) < until:
        path = rng.choice(mix)
        if connection is None:
            connection = http.client.HTTPConnection(host, port, timeout=30)
        started = time.monotonic()
        try:
            connection.request("GET", path, headers={"X-Forwarded-Proto": "https"})
            response = connection.getresponse()
            response.read()
            recorder.add(started, response.status, time.monotonic() - started)
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException) as exc:
            recorder.add(started, 0, time.monotonic() - started, type(exc).__name__)
            connection.close()
            connection = None
        del now


def workers(master: int) -> list[int]:
    try:
        text = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def sample_memory(master: int, until: float, start: float, series: dict):
    while time.monotonic() < until:
        moment = round(time.monotonic() - start, 1)
        for pid in workers(master):
            value = rss_mb(pid)
            if value is not None:
                series.setdefault(str(pid), []).append((moment, round(value, 1)))
        time.sleep(1)


def restart_postgres(at: float, start: float, events: dict):
    time.sleep(max(0.0, start + at - time.monotonic()))
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    events["restart_started"] = round(time.monotonic() - start, 2)
    done = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        capture_output=True,
        text=True,
    )
    events["restart_finished"] = round(time.monotonic() - start, 2)
    events["restart_returncode"] = done.returncode
    events["restart_output"] = (done.stdout + done.stderr).strip()[-500:]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summarise(recorder: Recorder, start: float, seconds: float, memory: dict, events: dict):
    rows = [(t - start, status, latency) for t, status, latency in recorder.rows]
    statuses = Counter(str(status) for _, status, _ in rows)
    latencies = [latency for _, _, latency in rows]
    per_second = []
    for second in range(int(seconds) + 1):
        bucket = [r for r in rows if second <= r[0] < second + 1]
        if bucket:
            per_second.append(
                {
                    "second": second,
                    "requests": len(bucket),
                    "statuses": dict(Counter(str(s) for _, s, _ in bucket)),
                    "max_ms": round(max(lat for _, _, lat in bucket) * 1000, 1),
                }
            )
    workers_memory = {}
    for pid, points in memory.items():
        warm = [mb for moment, mb in points if 5 <= moment <= 15] or [points[0][1]]
        last = [mb for moment, mb in points if moment >= seconds - 10] or [points[-1][1]]
        by_10s = {}
        for moment, mb in points:
            by_10s.setdefault(int(moment // 10) * 10, []).append(mb)
        workers_memory[pid] = {
            "after_warm_up_mb": round(statistics.mean(warm), 1),
            "last_10s_mb": round(statistics.mean(last), 1),
            "max_mb": max(mb for _, mb in points),
            "samples": len(points),
            # The mean RSS of each 10-second window, from its start (s): the shape of growth.
            "by_10s_mb": {str(k): round(statistics.mean(v), 1) for k, v in by_10s.items()},
        }
    result = {
        "requests": len(rows),
        "per_second": round(len(rows) / seconds, 1),
        "statuses": dict(statuses),
        "client_errors": dict(recorder.errors),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 1),
            "p95": round(percentile(latencies, 0.95) * 1000, 1),
            "p99": round(percentile(latencies, 0.99) * 1000, 1),
            "max": round(max(latencies, default=0) * 1000, 1),
        },
        "workers_memory": workers_memory,
        "timeline": per_second,
        "events": events,
    }
    if "restart_started" in events:
        failed = [r for r in rows if r[1] != 200]
        result["outage"] = {
            "failed_requests": len(failed),
            "failed_statuses": dict(Counter(str(s) for _, s, _ in failed)),
            "first_failure_s": round(min((r[0] for r in failed), default=0), 2),
            "last_failure_s": round(max((r[0] + r[2] for r in failed), default=0), 2),
            "slowest_failure_ms": round(max((r[2] for r in failed), default=0) * 1000, 1),
            "slowest_request_ms": round(max(latencies, default=0) * 1000, 1),
        }
        after = [r for r in rows if r[0] >= events["restart_finished"] and r[1] == 200]
        result["outage"]["first_200_after_restart_s"] = (
            round(min(r[0] for r in after) - events["restart_finished"], 2) if after else None
        )
        later = [r for r in rows if r[0] > result["outage"]["last_failure_s"]]
        result["outage"]["requests_after_recovery"] = len(later)
        result["outage"]["all_200_after_recovery"] = all(r[1] == 200 for r in later)
    return result


# What the runs must show.
MEMORY_GROWTH_LIMIT_MB = 10.0  # per worker, from after warm-up (5-15 s) to the last 10 s
FAIL_FAST_LIMIT_S = 5.0  # the slowest failed request while PostgreSQL is down


def verdict(result: dict, mode: str) -> list[str]:
    """What the run failed to show; empty when it held."""
    problems = []
    allowed = {"200"} if mode == "load" else {"200", "503"}
    unexpected = {s: n for s, n in result["statuses"].items() if s not in allowed}
    if unexpected:
        problems.append(f"unexpected statuses: {unexpected}")
    if result["client_errors"]:
        problems.append(f"connection errors: {result['client_errors']}")
    for pid, memory in result["workers_memory"].items():
        growth = memory["last_10s_mb"] - memory["after_warm_up_mb"]
        if growth > MEMORY_GROWTH_LIMIT_MB:
            problems.append(f"worker {pid} grew {growth:.1f} MB")
    outage = result.get("outage")
    if mode == "restart":
        if outage is None or result["events"].get("restart_returncode") != 0:
            problems.append(f"PostgreSQL was not restarted: {result['events']}")
        else:
            if outage["slowest_failure_ms"] > FAIL_FAST_LIMIT_S * 1000:
                problems.append(f"a failure took {outage['slowest_failure_ms']} ms")
            if not outage["all_200_after_recovery"] or not outage["requests_after_recovery"]:
                problems.append("not every request answered 200 after the outage")
    return problems


SLOW_PATHS = ["/statements/", "/health/", "/organizations/", "/api/v1/statements/"]
SLOW_LIMIT_S = 5.0  # the slowest other request allowed behind nginx


def other_requests(base: str, seconds: float, context) -> dict:
    """One request after another, each on a new connection, for `seconds`."""
    rows = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        path = SLOW_PATHS[len(rows) % len(SLOW_PATHS)]
        started = time.monotonic()
        try:
            status = fetch(base + path, https=context is None, context=context, timeout=30)[0]
        except OSError as exc:  # 30 s without an answer, or refused
            status = type(exc).__name__
        rows.append((status, time.monotonic() - started))
    latencies = [latency for _, latency in rows]
    return {
        "requests": len(rows),
        "statuses": dict(Counter(str(status) for status, _ in rows)),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 1),
            "max": round(max(latencies, default=0) * 1000, 1),
        },
    }


def slow_round(base: str, port: int, args, context=None) -> dict:
    """The other requests alone, then beside args.clients slow clients."""
    alone = other_requests(base, 2, context)
    kinds = {"headers": args.clients - args.clients // 2, "bodies": args.clients // 2}
    with (
        SlowClients(port, kinds["headers"], args.interval, context) as heads,
        SlowClients(port, kinds["bodies"], args.interval, context, body=True) as bodies,
    ):
        connected = [clients.wait_connected(timeout=30) for clients in (heads, bodies)]
        beside = other_requests(base, args.seconds, context)
        held = heads.open + bodies.open
        heads.wait_hung_up(timeout=0 if context is None else 30)
        hung_up = sorted(heads.hung_up_after)
    return {
        "alone": alone,
        "beside_slow_clients": beside,
        "slow_clients": {
            "slow_headers": kinds["headers"],
            "slow_bodies": kinds["bodies"],
            "all_connected": all(connected),
            "still_sending_at_end": held,
            "slow_headers_hung_up_on": len(hung_up),
            "hung_up_after_s": round(hung_up[0], 1) if hung_up else None,
        },
    }


def slow_clients(args) -> int:
    name = f"tracker_bench_slow_{harness.os.getpid()}"
    harness.prepare_dataset(harness.SIZES["smoke"], args.postgres, name, rebuild=True)
    try:
        url = harness.database_url(args.postgres, name)
        env = harness.django_env(url)
        env.update(GUNICORN_ACCESS_LOG="", DATABASE_CONNECT_TIMEOUT="2")
        log_path = Path("/tmp/reliability-slow-clients.log")
        config = ROOT / "tracker" / "gunicorn.conf.py"
        with harness.serve(
            "tracker.wsgi:application", ROOT, env, args, log_path, config=config
        ) as (
            base,
            _,
        ):
            harness.log(
                f"slow-clients: {args.clients} clients sending a byte every {args.interval} s; "
                f"other requests for {args.seconds:.0f} s; gunicorn {args.workers}x{args.threads}"
            )
            port = int(base.rsplit(":", 1)[1])
            result = {"direct": slow_round(base, port, args)}
            harness.log(f"direct: {json.dumps(result['direct']['beside_slow_clients'])}")
            with tempfile.TemporaryDirectory() as directory, nginx(base, Path(directory)) as proxy:
                result["nginx"] = slow_round(proxy.base, proxy.port, args, proxy.context)
            harness.log(f"nginx: {json.dumps(result['nginx']['beside_slow_clients'])}")
    finally:
        harness.drop_database(args.postgres, name)
    result["setup"] = {
        "slow_clients": args.clients,
        "byte_every_s": args.interval,
        "seconds": args.seconds,
        "gunicorn": f"{args.workers} workers x {args.threads} threads (gthread)",
        "addresses": SLOW_PATHS,
        "date": time.strftime("%Y-%m-%d"),
    }
    behind = result["nginx"]["beside_slow_clients"]
    problems = []
    if set(behind["statuses"]) != {"200"}:
        problems.append(f"through nginx, statuses {behind['statuses']}")
    if behind["latency_ms"]["max"] > SLOW_LIMIT_S * 1000:
        problems.append(f"through nginx, a request took {behind['latency_ms']['max']} ms")
    if result["nginx"]["slow_clients"]["still_sending_at_end"] != args.clients:
        problems.append("through nginx, slow clients were cut off before the other requests ended")
    result["problems"] = problems
    out = Path(args.out or ROOT / "bench" / "reliability-slow-clients.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written: {out}")
    for problem in problems:
        print(f"FAILED: {problem}")
    print("held" if not problems else "did not hold")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["load", "restart", "slow-clients"])
    parser.add_argument("--clients", type=int, default=None, help="50; slow-clients: 32")
    parser.add_argument("--seconds", type=float, default=None, help="60; slow-clients: 8")
    parser.add_argument("--interval", type=float, default=1.5, help="slow-clients: s a byte")
    parser.add_argument("--restart-at", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--postgres",
        default=harness.os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    slow = args.mode == "slow-clients"
    args.clients = args.clients or (32 if slow else 50)
    args.seconds = args.seconds or (8 if slow else 60)
    if slow:
        return slow_clients(args)

    size = harness.SIZES["10k"]
    name = "tracker_bench_10k"
    harness.prepare_dataset(size, args.postgres, name, rebuild=False)
    url = harness.database_url(args.postgres, name)
    mix = addresses(url, random.Random(7))

    env = harness.django_env(url)
    env.update(
        # No recycling of workers during the run: a leak would show in their memory.
        GUNICORN_MAX_REQUESTS="0",
        GUNICORN_ACCESS_LOG="",
        DATABASE_CONNECT_TIMEOUT="2",
    )
    log_path = Path(f"/tmp/reliability-{args.mode}.log")
    config = ROOT / "tracker" / "gunicorn.conf.py"  # as `make serve` runs it
    with harness.serve("tracker.wsgi:application", ROOT, env, args, log_path, config=config) as (
        base,
        server,
    ):
        harness.log(
            f"{args.mode}: {args.clients} clients for {args.seconds:.0f} s over {len(mix)} "
            f"addresses; gunicorn {args.workers}x{args.threads} (log: {log_path})"
        )
        port = int(base.rsplit(":", 1)[1])
        recorder = Recorder()
        memory: dict = {}
        events: dict = {}
        start = time.monotonic()
        until = start + args.seconds
        threads = [
            threading.Thread(
                target=client, args=("127.0.0.1", port, mix, until, n, recorder), daemon=True
            )
            for n in range(args.clients)
        ]
        threads.append(
            threading.Thread(
                target=sample_memory, args=(server.pid, until, start, memory), daemon=True
            )
        )
        if args.mode == "restart":
            threads.append(
                threading.Thread(
                    target=restart_postgres, args=(args.restart_at, start, events), daemon=True
                )
            )
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 120)
        result = summarise(recorder, start, args.seconds, memory, events)
        result["setup"] = {
            "clients": args.clients,
            "seconds": args.seconds,
            "addresses": len(mix),
            "gunicorn": f"{args.workers} workers x {args.threads} threads (gthread)",
            "dataset": size.label,
            "server_alive_at_end": server.poll() is None,
            "date": time.strftime("%Y-%m-%d"),
        }
    result["problems"] = verdict(result, args.mode)
    out = Path(args.out or ROOT / "bench" / f"reliability-{args.mode}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    brief = {k: v for k, v in result.items() if k not in ("timeline",)}
    print(json.dumps(brief, indent=2))
    print(f"written: {out}")
    for problem in result["problems"]:
        print(f"FAILED: {problem}")
    print("held" if not result["problems"] else "did not hold")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
