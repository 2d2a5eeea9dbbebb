"""
The benchmark: the product under gunicorn on PostgreSQL, loaded with wrk, against a floor
(bench/floor.py: the same rows from plain psycopg and orjson), at 10,000 and 1,000,000
signatures. Run it as `bench/run` (see `bench/run --help`).

For each size it
  1. makes (or reuses) a database tracker_bench_<size>: migrate, the seeds, then
     `manage.py generate_synthetic` at that size;
  2. finds its targets by querying that database: the public statement with the fewest
     signatures from 500 up (or the most signed, if none has 500), the organisation with
     the most public signatures, a cursor 90% of the way through /api/v1/signatures/, and a
     search word that matches about one statement in twenty;
  3. counts each address's SQL queries in-process (bench/count_queries.py);
  4. serves the product, then the floor, with the same gunicorn settings, and loads each
     address with wrk for --duration seconds after --warmup seconds;
then writes bench/results.json and docs/benchmarks.md (made from the JSON, so the two
always agree). `--smoke` does all of this on a tiny scratch database in under a minute and
fails if any request did, then runs each staff write once there.

`--writes` measures the staff writes instead (bench/writes.py): on the 1M database (the same
tracker_bench_1m, or --writes-database), in a process with the web statement timeout, each
write in a transaction rolled back afterwards; it writes bench/writes.json (with
`--adapter before`, bench/writes-before.json: the code before the write services, measured
from a checkout of that commit, see bench/writes.py) and the "Staff writes at 1M" section
of docs/benchmarks.md, beside the figures of writes-before.json.
"""

import argparse
import base64
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
RESULTS = BENCH / "results.json"
SMOKE_RESULTS = BENCH / "smoke-results.json"
WRITES = BENCH / "writes.json"
WRITES_BEFORE = BENCH / "writes-before.json"
WRITES_SCRIPT = BENCH / "writes.py"
WRITES_NOTES = BENCH / "writes-notes.md"
ADMIN = BENCH / "admin.json"  # staff pages of a 500-signatory statement (bench/admin_pages.py)
MIX = BENCH / "mix.json"  # the read mixes (bench/mix.py)  # written by hand about the figures
NOTES = BENCH / "notes.md"
DOCS = ROOT / "docs" / "benchmarks.md"
GENERATOR = ROOT / "statements" / "management" / "commands" / "generate_synthetic.py"
PUBLIC = "('published', 'retracted')"

# The targets the issue sets.
FLOOR_RATIO_TARGET = 3.0  # the API's throughput at least a third of the floor's
P95_TARGET_MS = 100.0  # at 1M signatures, concurrency 8, on 2 cores
GROWTH_TARGET = 1.5  # cost per request at 1M over cost at 10k
TARGET_SIZE = "1m"
# The share of CPU time other processes may use while the benchmark measures.
IDLE = 0.15


@dataclass(frozen=True)
class Size:
    name: str
    label: str
    organizations: int
    statements: int
    signatures: int


# 50 signatures per statement on average up to 1M (1,000 organisations at 10k so that a
# statement can have 500 signatories); 10M is the scale PRODUCT.md plans for, 10^5
# organisations and 10^5 statements, so 100 a statement.
SIZES = {
    "smoke": Size("smoke", "200 signatures (smoke)", 50, 10, 200),
    "10k": Size("10k", "10,000 signatures", 1_000, 200, 10_000),
    "1m": Size("1m", "1,000,000 signatures", 20_000, 20_000, 1_000_000),
    "10m": Size("10m", "10,000,000 signatures", 100_000, 100_000, 10_000_000),
}


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    path: str  # filled in from the targets
    floor: bool  # an API endpoint, measured against the floor too


ENDPOINTS = [
    Endpoint("statement-list", "API: statement list", "/api/v1/statements/", True),
    Endpoint(
        "statement-detail",
        "API: statement detail ({statement_signatures} signatories)",
        "/api/v1/statements/{statement}/",
        True,
    ),
    Endpoint(
        "timeline",
        "API: timeline of the most connected organisation",
        "/api/v1/organizations/{organization}/timeline/",
        True,
    ),
    Endpoint(
        "cosigners",
        "API: co-signers of the most connected organisation",
        "/api/v1/organizations/{organization}/cosigners/",
        True,
    ),
    Endpoint(
        "signatures-deep",
        "API: signatures, page {deep_page} of {signature_pages}",
        "/api/v1/signatures/?cursor={cursor}",
        True,
    ),
    Endpoint("statement-page", "Page: statement", "/statements/{statement}/", False),
    Endpoint("organization-page", "Page: organisation", "/organizations/{organization}/", False),
    Endpoint("search", "Page: search “{term}”", "/search/?q={term}", False),
]


class BenchError(Exception):
    """Something that stops the benchmark, with a message for whoever runs it."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- The databases -------------------------------------------------------------------------


def database_url(server: str, name: str) -> str:
    return f"{server.rstrip('/')}/{name}"


def admin_connection(server: str) -> psycopg.Connection:
    try:
        return psycopg.connect(database_url(server, "postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        raise BenchError(f"Cannot reach PostgreSQL at {server}: {exc}".strip()) from exc


def dataset_marker(server: str, name: str) -> dict | None:
    """What a finished build recorded on the database (its comment), or None."""
    with admin_connection(server) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    if row is None:
        return None
    try:
        return json.loads(row[0] or "null")
    except json.JSONDecodeError:
        return {}


def drop_database(server: str, name: str) -> None:
    with admin_connection(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env: dict, *arguments: str) -> None:
    command = [str(BIN / "python"), str(ROOT / "manage.py"), *arguments]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(
            f"manage.py {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}".rstrip()
        )


def prepare_dataset(size: Size, server: str, name: str, rebuild: bool) -> dict:
    """The database for this size: reused if a finished build of the same size is there."""
    url = database_url(server, name)
    env = django_env(url)
    wanted = {
        "organizations": size.organizations,
        "statements": size.statements,
        "signatures": size.signatures,
        "generator": "generate_synthetic" if GENERATOR.exists() else "seeds only",
    }
    marker = dataset_marker(server, name)
    if marker == wanted and not rebuild:
        log(f"{name}: reusing the {size.label} dataset (--rebuild to make it again)")
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        # The write benchmark leaves the rows of its rolled-back writes behind: cleared, as
        # autovacuum would have by the time readers came, so that reads are measured alike.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        return wanted
    if wanted["generator"] != "generate_synthetic" and size.name != "smoke":
        raise BenchError(
            f"{GENERATOR.relative_to(ROOT)} is missing: the {size.name} dataset needs the "
            "generate_synthetic command."
        )
    log(f"{name}: building the {size.label} dataset")
    drop_database(server, name)
    with admin_connection(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    started = time.monotonic()
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "import_statements", str(ROOT / "seeds"))
    if wanted["generator"] == "generate_synthetic":
        manage(
            env,
            "generate_synthetic",
            f"--organizations={size.organizations}",
            f"--statements={size.statements}",
            f"--signatures={size.signatures}",
        )
    else:
        log("generate_synthetic is not there yet: the smoke runs on the seed data alone")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    with admin_connection(server) as conn:
        # Written last: a build that stopped half-way is never reused.
        literal = json.dumps(wanted).replace("'", "''")
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{literal}'")
    log(f"{name}: built in {time.monotonic() - started:.0f} s")
    return wanted


def choose_search_term(titles: list[str]) -> list[str]:
    """Title words, those in about one title in twenty first."""
    frequency = Counter(word for title in titles for word in set(re.findall(r"[a-z]{4,}", title)))
    wanted = max(1.0, len(titles) / 20)
    return sorted(frequency, key=lambda word: (abs(frequency[word] - wanted), word))


def find_targets(url: str) -> dict:
    """What to request, found in the data rather than assumed."""
    with psycopg.connect(url, autocommit=True) as conn:
        counts = conn.execute(
            f"""
            SELECT s.slug, count(*) FROM statements_statement s
            JOIN statements_signature g ON g.statement_id = s.id
            WHERE s.status IN {PUBLIC} GROUP BY s.id, s.slug
            """
        ).fetchall()
        if not counts:
            raise BenchError("The database has no public statement with signatures.")
        at_least_500 = [row for row in counts if row[1] >= 500]
        if at_least_500:
            statement = min(at_least_500, key=lambda row: (row[1], row[0]))
        else:
            statement = max(counts, key=lambda row: (row[1], row[0]))
        organization = conn.execute(
            f"""
            SELECT o.slug, count(*) FROM statements_signature g
            JOIN statements_statement s ON s.id = g.statement_id
            JOIN organizations_organization o ON o.id = g.organization_id
            WHERE s.status IN {PUBLIC} GROUP BY o.id, o.slug
            ORDER BY count(*) DESC, o.slug LIMIT 1
            """
        ).fetchone()
        public_signatures = sum(n for _, n in counts)
        # The page that starts 90% of the way through: the cursor after the row before it.
        deep = public_signatures * 9 // 10
        position = conn.execute(
            f"""
            SELECT g.id FROM statements_signature g
            JOIN statements_statement s ON s.id = g.statement_id
            WHERE s.status IN {PUBLIC} ORDER BY g.id OFFSET %s LIMIT 1
            """,
            (max(0, deep - 1),),
        ).fetchone()[0]
        titles = [
            title.lower()
            for (title,) in conn.execute(
                f"SELECT title FROM statements_statement WHERE status IN {PUBLIC}"
            )
        ]
        for term in choose_search_term(titles):
            matches = conn.execute(
                f"""
                SELECT count(*) FROM statements_statement
                WHERE status IN {PUBLIC} AND to_tsvector('english',
                    title || ' ' || ask || ' ' || summary || ' ' || full_text)
                    @@ websearch_to_tsquery('english', %s)
                """,
                (term,),
            ).fetchone()[0]
            if matches:
                break
        else:
            raise BenchError("No title word of a public statement is found by search.")
        pages = -(-public_signatures // 100)
    return {
        "statement": statement[0],
        "statement_signatures": statement[1],
        "organization": organization[0],
        "organization_signatures": organization[1],
        "public_signatures": public_signatures,
        "cursor": base64.b64encode(f"p={position}".encode()).decode(),
        "deep_page": deep // 100 + 1,
        "signature_pages": pages,
        "term": term,
        "term_matches": matches,
    }


# --- Serving and loading -------------------------------------------------------------------


def django_env(url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        # As behind a proxy that terminates TLS: requests say X-Forwarded-Proto: https
        # (fetch() and wrk.lua), so production mode serves them instead of redirecting.
        DJANGO_BEHIND_TLS_PROXY="1",
        # High enough never to throttle; every request is still counted, as in production.
        API_ANON_RATE="100000/second",
    )
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@contextmanager
def serve(app: str, chdir: Path, env: dict, args, log_path: Path, config: Path | None = None):
    """
    gunicorn serving `app` on a free port of 127.0.0.1, until the block ends: (its address,
    its master process). With `config`, that configuration file first (the flags below
    override it).
    """
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        *([f"--config={config}"] if config else []),
        f"--bind=127.0.0.1:{port}",
        f"--workers={args.workers}",
        "--worker-class=gthread",
        f"--threads={args.threads}",
        "--log-level=warning",
        f"--chdir={chdir}",
        app,
    ]
    with log_path.open("ab") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise BenchError(f"gunicorn ({app}) stopped at start; see {log_path}")
            try:
                fetch(f"{base}/api/v1/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError(f"gunicorn ({app}) did not answer; see {log_path}") from None
                time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wrk(url: str, seconds: float, args) -> dict:
    command = [
        "wrk",
        f"--threads={min(args.wrk_threads, args.concurrency)}",
        f"--connections={args.concurrency}",
        f"--duration={max(1, round(seconds))}s",
        "--timeout=60s",
        f"--script={BENCH / 'wrk.lua'}",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise BenchError(f"wrk failed on {url}:\n{done.stdout}{done.stderr}")
    summary = json.loads(lines[-1])
    latency = summary["latency_us"]
    return {
        "requests": summary["requests"],
        "rps": round(summary["requests"] / (summary["duration_us"] / 1e6), 1),
        "p50_ms": round(latency["p50"] / 1000, 2),
        "p95_ms": round(latency["p95"] / 1000, 2),
        "p99_ms": round(latency["p99"] / 1000, 2),
        "errors": sum(summary["errors"].values()),
    }


def wait_for_idle(args) -> float | None:
    """
    Wait (up to --idle-wait seconds) until other processes leave the CPU nearly idle, as the
    server under test is between loads; returns the share of CPU busy when measuring began.
    """
    if args.idle_wait <= 0:
        return None
    deadline = time.monotonic() + args.idle_wait
    busy = cpu_busy(1.0)
    if busy > IDLE:
        log(f"  waiting: {busy:.0%} of the CPU is in use by something else")
    while busy > IDLE and time.monotonic() < deadline:
        busy = cpu_busy(5.0)
    if busy > IDLE:
        log(f"  warning: measuring with {busy:.0%} of the CPU busy before the load")
    return round(busy, 3)


def measure(base: str, path: str, args, failures: list[str], what: str) -> dict:
    """One address: a request that must answer 200, a warm-up, then the measured load."""
    status, headers, body = fetch(base + path)
    result = {"status": status, "bytes": len(body), "cpu_busy_before": wait_for_idle(args)}
    if "X-Queries" in headers:
        result["queries"] = int(headers["X-Queries"])
    if status != 200:
        failures.append(f"{what}: {path} answered {status}")
        return result
    if args.warmup > 0:
        wrk(base + path, args.warmup, args)
    result.update(wrk(base + path, args.duration, args))
    if result["errors"]:
        failures.append(f"{what}: {path}: {result['errors']} failed requests under load")
    log(
        f"  {what:<5} {result['rps']:>8.1f} req/s  p50 {result['p50_ms']:>7.2f}  "
        f"p95 {result['p95_ms']:>7.2f}  p99 {result['p99_ms']:>7.2f} ms  {path[:60]}"
    )
    return result


def count_queries(env: dict, paths: list[str]) -> dict:
    command = [str(BIN / "python"), str(BENCH / "count_queries.py"), *paths]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"Counting queries failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def run_size(size: Size, name: str, args, failures: list[str]) -> dict:
    # The code measured: the servers below load it as it is now.
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dataset = prepare_dataset(size, args.postgres, name, args.rebuild)
    url = database_url(args.postgres, name)
    targets = find_targets(url)
    log(
        f"{name}: statement {targets['statement']} ({targets['statement_signatures']} "
        f"signatures), organisation {targets['organization']} "
        f"({targets['organization_signatures']}), signatures page {targets['deep_page']}, "
        f"search “{targets['term']}” ({targets['term_matches']} statements)"
    )
    endpoints = [
        {
            "key": endpoint.key,
            "label": endpoint.label.format(**targets),
            "path": endpoint.path.format(**targets),
            "api": endpoint.floor,
        }
        for endpoint in ENDPOINTS
    ]
    env = django_env(url)
    queries = count_queries(env, [endpoint["path"] for endpoint in endpoints])
    for endpoint in endpoints:
        counted = queries[endpoint["path"]]
        endpoint["queries"] = counted["queries"]
        endpoint["build_ms"] = counted.get("build_ms")
        if counted["status"] != 200:
            failures.append(f"{endpoint['path']} answered {counted['status']} in-process")
    log_path = Path(args.logs) / f"gunicorn-{size.name}.log"
    log(f"{name}: the product under gunicorn (log: {log_path})")
    with serve("tracker.wsgi:application", ROOT, env, args, log_path) as (base, _):
        for endpoint in endpoints:
            endpoint.update(measure(base, endpoint["path"], args, failures, "app"))
    log(f"{name}: the product under gunicorn, without kept answers (RESPONSE_CACHE=0)")
    with serve("tracker.wsgi:application", ROOT, {**env, "RESPONSE_CACHE": "0"}, args,
               log_path) as (base, _):  # fmt: skip
        for endpoint in endpoints:
            endpoint["uncached"] = measure(base, endpoint["path"], args, failures, "uncached")
    log(f"{name}: the floor under gunicorn")
    with serve("floor:application", BENCH, env, args, log_path) as (base, _):
        for endpoint in endpoints:
            if endpoint["api"]:
                endpoint["floor"] = measure(base, endpoint["path"], args, failures, "floor")
    return {
        "label": size.label,
        "commit": commit or "unknown",
        "database": name,
        "dataset": dataset,
        "targets": targets,
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "endpoints": endpoints,
    }


# --- Results -------------------------------------------------------------------------------


def cpu_busy(seconds: float = 2.0) -> float:
    """The share of the machine's CPU time in use over a few seconds, from /proc/stat."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="utf-8") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]  # all, idle + iowait

    total, idle = sample()
    time.sleep(seconds)
    total_after, idle_after = sample()
    return 1 - (idle_after - idle) / max(1, total_after - total)


def machine(server: str) -> dict:
    cpu = platform.processor() or platform.machine()
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        kilobytes = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    system = platform.system()
    with open("/etc/os-release", encoding="utf-8") as release:
        for line in release:
            if line.startswith("PRETTY_NAME="):
                system = line.split("=", 1)[1].strip().strip('"')
    with admin_connection(server) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    wrk_version = (
        subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
        if shutil.which("wrk")
        else []
    )
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "ram_gib": round(kilobytes / 2**20, 1),
        "os": f"{system}, Linux {platform.release()}",
        "postgresql": postgres,
        "python": platform.python_version(),
        "django": metadata.version("Django"),
        "gunicorn": metadata.version("gunicorn"),
        "psycopg": metadata.version("psycopg"),
        "orjson": metadata.version("orjson"),
        "wrk": wrk_version[1] if len(wrk_version) > 1 else "?",
    }


# Growth is measured from each size to the one before it: 10k to 1M (issue 6's target), 1M
# to 10M (the scale PRODUCT.md plans for).
GROWTH_FROM = {"1m": "10k", "10m": "1m"}
SHORT = {"smoke": "smoke", "10k": "10k", "1m": "1M", "10m": "10M"}
# The statement page built in-process, at 1M: the one build time the issue names.
BUILD_TARGET_MS = {"statement-page": 25.0}


def evaluate(results: dict) -> None:
    """
    Each endpoint's ratio to its floor, growth from the size before, and targets met: for
    the product as it runs (`targets`), and again for the pass without kept answers
    (`uncached_targets`).
    """
    sizes = results["sizes"]
    for size_name, size in sizes.items():
        smaller = sizes.get(GROWTH_FROM.get(size_name, ""), {})
        small = {e["key"]: e for e in smaller.get("endpoints", [])}
        for endpoint in size["endpoints"]:
            before = small.get(endpoint["key"], {})
            endpoint["targets"], ratio, growth = _targets(
                size_name, endpoint, endpoint.get("floor") or {}, before
            )
            if ratio is not None:
                endpoint["floor_ratio"] = ratio
            if growth is not None:
                endpoint["growth"] = growth
            endpoint["targets_met"] = all(endpoint["targets"].values())
            uncached = endpoint.get("uncached")
            if uncached:
                endpoint["uncached_targets"], _, _ = _targets(
                    size_name, uncached, endpoint.get("floor") or {}, before.get("uncached") or {}
                )
                limit = BUILD_TARGET_MS.get(endpoint["key"])
                if size_name == TARGET_SIZE and limit and endpoint.get("build_ms") is not None:
                    endpoint["uncached_targets"]["build_25ms"] = endpoint["build_ms"] < limit


def _targets(size_name: str, measured: dict, floor: dict, before: dict):
    targets, ratio, growth = {}, None, None
    if measured.get("rps") and floor.get("rps"):
        ratio = round(floor["rps"] / measured["rps"], 2)
        targets["floor_3x"] = ratio <= FLOOR_RATIO_TARGET
    if size_name == TARGET_SIZE and "p95_ms" in measured:
        targets["p95_100ms"] = measured["p95_ms"] < P95_TARGET_MS
    if size_name in GROWTH_FROM and before.get("rps") and measured.get("rps"):
        growth = round(before["rps"] / measured["rps"], 2)
        targets["growth_1_5x"] = growth <= GROWTH_TARGET
    return targets, ratio, growth


TARGET_NAMES = {
    "floor_3x": f"within {FLOOR_RATIO_TARGET:g}x of floor",
    "p95_100ms": f"p95 < {P95_TARGET_MS:g} ms",
    "growth_1_5x": f"cost ≤ {GROWTH_TARGET:g}x the size before",
    "build_25ms": "built in < 25 ms in-process",
}


def verdict(endpoint: dict) -> str:
    if "rps" not in endpoint:
        return f"**failed** ({endpoint.get('status')})"
    missed = [TARGET_NAMES[key] for key, met in endpoint.get("targets", {}).items() if not met]
    said = (
        ("**missed**: " + ", ".join(missed))
        if missed
        else ("met" if endpoint.get("targets") else "—")
    )
    uncached = [
        TARGET_NAMES[key] for key, met in endpoint.get("uncached_targets", {}).items() if not met
    ]
    if uncached:
        said += "; uncached missed: " + ", ".join(uncached)
    elif endpoint.get("uncached_targets"):
        said += "; uncached met"
    return said


def number(value, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def kept_queries(endpoint: dict) -> str:
    """Queries of a kept answer (its check against the change log), then of building it."""
    built = endpoint.get("queries")
    return "—" if built is None else f"1 / {built}"


def size_table(size: dict) -> list[str]:
    lines = [
        "| endpoint | KiB | req/s | p50 ms | p95 ms | p99 ms | queries | uncached req/s "
        "| uncached p95 ms | build ms | floor req/s | floor p95 ms | floor queries "
        "| floor ÷ app | floor ÷ uncached | targets |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for e in size["endpoints"]:
        floor = e.get("floor") or {}
        uncached = e.get("uncached") or {}
        ratio = e.get("floor_ratio")
        uncached_ratio = (
            floor["rps"] / uncached["rps"] if floor.get("rps") and uncached.get("rps") else None
        )
        busy = max(e.get("cpu_busy_before") or 0, floor.get("cpu_busy_before") or 0)
        label = e["label"] + (f" (⚠ CPU {busy:.0%} busy before)" if busy > IDLE else "")
        lines.append(
            f"| {label} | {number(e.get('bytes', 0) / 1024, 0)} | {number(e.get('rps'))} "
            f"| {number(e.get('p50_ms'), 2)} "
            f"| {number(e.get('p95_ms'), 2)} | {number(e.get('p99_ms'), 2)} "
            f"| {kept_queries(e)} | {number(uncached.get('rps'))} "
            f"| {number(uncached.get('p95_ms'), 2)} | {number(e.get('build_ms'), 1)} "
            f"| {number(floor.get('rps'))} "
            f"| {number(floor.get('p95_ms'), 2)} | {floor.get('queries', '—')} "
            f"| {'—' if ratio is None else f'{ratio:.2f}x'} "
            f"| {'—' if uncached_ratio is None else f'{uncached_ratio:.2f}x'} | {verdict(e)} |"
        )
    return lines


def growth_table(results: dict, size_name: str) -> list[str]:
    """Each endpoint's cost at `size_name` over its cost at the size before it."""
    sizes = results["sizes"]
    before_name = GROWTH_FROM[size_name]
    small_label, large_label = SHORT[before_name], SHORT[size_name]
    small = {e["key"]: e for e in sizes[before_name]["endpoints"]}
    commits = {sizes[before_name].get("commit"), sizes[size_name].get("commit")}
    lines = []
    if len(commits) > 1:
        lines += [
            "⚠ The two sizes were measured at different commits "
            f"({', '.join(sorted(map(str, commits)))}): the growth mixes changes to the code "
            "with growth of the data.",
            "",
        ]
    lines += [
        f"| endpoint | req/s {small_label} | req/s {large_label} "
        f"| cost {large_label} ÷ {small_label} | p95 ms {small_label} | p95 ms {large_label} "
        f"| within {GROWTH_TARGET:g}x | uncached cost {large_label} ÷ {small_label} "
        f"| build ms {small_label} | build ms {large_label} |",
        "|---|--:|--:|--:|--:|--:|---|--:|--:|--:|",
    ]
    for e in sizes[size_name]["endpoints"]:
        before = small.get(e["key"], {})
        growth = e.get("growth")
        met = e.get("targets", {}).get("growth_1_5x")
        cold, cold_before = e.get("uncached") or {}, before.get("uncached") or {}
        cold_growth = (
            cold_before["rps"] / cold["rps"] if cold.get("rps") and cold_before.get("rps") else None
        )
        lines.append(
            f"| {e['label']} | {number(before.get('rps'))} | {number(e.get('rps'))} "
            f"| {'—' if growth is None else f'{growth:.2f}x'} "
            f"| {number(before.get('p95_ms'), 2)} | {number(e.get('p95_ms'), 2)} "
            f"| {'—' if met is None else 'yes' if met else '**no**'} "
            f"| {'—' if cold_growth is None else f'{cold_growth:.2f}x'} "
            f"| {number(before.get('build_ms'), 1)} | {number(e.get('build_ms'), 1)} |"
        )
    return lines


def markdown(results: dict) -> str:
    m = results["machine"]
    method = results["method"]
    all_targets = [
        met for size in results["sizes"].values()
        for e in size["endpoints"] for met in e.get("targets", {}).values()
    ]  # fmt: skip
    uncached_targets = [
        met for size in results["sizes"].values()
        for e in size["endpoints"] for met in e.get("uncached_targets", {}).values()
    ]  # fmt: skip
    out = [
        "# Benchmarks",
        "",
        "<!-- Made by bench/run from bench/results.json, with the analysis from bench/notes.md;",
        "     edit those, then run `bench/run --report`. -->",
        "",
        f"{sum(all_targets)} of {len(all_targets)} target checks met. Targets: every API "
        f"endpoint within {FLOOR_RATIO_TARGET:g}x of its floor's throughput; p95 under "
        f"{P95_TARGET_MS:g} ms for every endpoint at 1,000,000 signatures, concurrency 8, on "
        f"2 cores; the cost of a request within {GROWTH_TARGET:g}x from 10k to 1M, and from 1M "
        "to 10M; the 500-signatory statement page built in under 25 ms in-process at 1M.",
        "",
        f"Without kept answers (every request builds its answer, as the first request after "
        f"a change does): {sum(uncached_targets)} of {len(uncached_targets)} checks met.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu']} |",
        f"| cores | {m['cores']} |",
        f"| memory | {m['ram_gib']} GiB |",
        f"| system | {m['os']} |",
        f"| PostgreSQL | {m['postgresql']} (on the same machine) |",
        f"| Python | {m['python']} |",
        f"| Django, gunicorn, psycopg, orjson | {m['django']}, {m['gunicorn']}, "
        f"{m['psycopg']}, {m['orjson']} |",
        f"| load generator | wrk {m['wrk']} |",
        "",
        "## Method",
        "",
        f"- **Server**: gunicorn, {method['workers']} workers x {method['threads']} threads "
        "(gthread), `DJANGO_DEBUG=0`, on 127.0.0.1, sharing the machine with PostgreSQL and "
        "wrk: two processes a core, so that one waiting on PostgreSQL leaves the core to "
        "another, and a thread for each of wrk's connections, kept alive. The floor is served "
        "by the same gunicorn settings. The API's rate limit is raised so that it never "
        "throttles (`API_ANON_RATE=100000/second`); every request is still counted.",
        f"- **Load**: wrk, {method['concurrency']} connections kept alive, "
        f"{method['wrk_threads']} thread(s), {method['warmup']:g} s of warm-up then "
        f"{method['duration']:g} s measured per address. req/s is requests completed over "
        "the measured time; p50/p95/p99 are wrk's latency percentiles.",
        "- **Kept answers**: the product keeps each rendered answer (in its worker's memory, "
        "or in Redis with `REDIS_URL`) until the change log, which database triggers write, "
        "shows a change to what it shows (`tracker/response_cache.py`), so a repeated "
        "request costs one small query. req/s, "
        "p50/p95/p99 and the targets are the product as it runs, with them. The *uncached* "
        "columns are a second pass of the same server with `RESPONSE_CACHE=0`, where every "
        "request builds its answer; *build ms* is the median time to build an answer "
        "in-process (Django's test client, no load), and *queries* gives a kept answer's "
        "queries, then a built one's.",
        "- **Floor** (`bench/floor.py`): a WSGI app with no framework that answers each API "
        "address with the same JSON (same rows, fields, order, page size, counts and links; "
        "`tests/test_bench_floor.py` compares the two) from hand-written SQL through psycopg "
        "and orjson. floor ÷ app is the floor's req/s over the app's: 1.00x would be as fast "
        "as the floor.",
        "- **Queries**: the app's SQL queries per request, counted by requesting each address "
        "in-process with Django's test client under `CaptureQueriesContext` "
        "(`bench/count_queries.py`); the floor reports its own in an `X-Queries` header.",
        "- **Data**: `manage.py generate_synthetic` at each size, after the seeds. Targets are "
        "found in the data: the public statement with the fewest signatures from 500 up, the "
        "organisation with the most public signatures, the keyset page that starts 90% of "
        "the way through `/api/v1/signatures/`, and a title word found by about one "
        "statement in twenty.",
        "- **Cost growth**: a request's cost is its time at a fixed concurrency, 1 ÷ req/s; "
        "growth is req/s at the smaller size over req/s at the larger (10k to 1M, 1M to 10M).",
        "",
    ]
    for size in results["sizes"].values():
        d = size["dataset"]
        t = size["targets"]
        out += [
            f"## {size['label'].capitalize()}",
            "",
            f"Database `{size['database']}`: {d['organizations']:,} organisations, "
            f"{d['statements']:,} statements, {d['signatures']:,} signatures generated, plus "
            f"the seeds; {t['public_signatures']:,} public signatures. Statement "
            f"`{t['statement']}` ({t['statement_signatures']} signatories); organisation "
            f"`{t['organization']}` ({t['organization_signatures']:,} signatures); search "
            f"“{t['term']}” ({t['term_matches']:,} statements). Finished {size['measured_at']} "
            f"at commit {size.get('commit', 'unknown')}.",
            "",
            *size_table(size),
            "",
        ]
    for size_name, before_name in GROWTH_FROM.items():
        if size_name in results["sizes"] and before_name in results["sizes"]:
            out += [
                f"## Growth from {SHORT[before_name]} to {SHORT[size_name]} signatures",
                "",
                *growth_table(results, size_name),
                "",
            ]
    out += writes_section(load_writes(WRITES), load_writes(WRITES_BEFORE))
    if MIX.exists():
        out += mix_section(json.loads(MIX.read_text(encoding="utf-8")))
    if ADMIN.exists():
        out += admin_section(json.loads(ADMIN.read_text(encoding="utf-8")))
    out += ["## What the numbers say: targets met and missed, and why", ""]
    out.append(NOTES.read_text(encoding="utf-8").strip() if NOTES.exists() else "No notes yet.")
    return "\n".join(out) + "\n"


# --- Staff writes --------------------------------------------------------------------------

QUERY_GROWTH_ALLOWED = 10  # as bench/writes.py: a constant number of queries, not per line


def writes_note(runs: dict) -> str | None:
    """What to say of a run made while other work shared the machine's cores."""
    loaded = [
        name
        for name, run in runs.items()
        if run
        and (
            run.get("cpu_busy_before", 0) > 0.15
            or run.get("load_average_before", [0])[0] > run.get("machine", {}).get("cores", 1)
        )
    ]
    if not loaded:
        return None
    return (
        f"The machine's cores were shared with other work while {' and '.join(loaded)} ran "
        "(see the load average and CPU busy share recorded): a write's time varies with it, "
        "its queries do not."
    )


def code_version() -> dict:
    """The commit measured, and the files that differ from it (a checkout's own changes)."""

    def git(*arguments: str) -> list[str]:
        done = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.split()

    changed = git("diff", "--name-only", "HEAD") + git("ls-files", "--others", "--exclude-standard")
    return {
        "commit": next(iter(git("rev-parse", "--short", "HEAD")), "unknown"),
        "changed": [path for path in changed if path != ".venv"],
    }


def run_writes(
    size: Size, server: str, name: str, args, *, dataset: dict | None = None, extra=()
) -> dict:
    """bench/writes.py on the database `name` (made or reused as for the reads)."""
    dataset = dataset or prepare_dataset(size, server, name, args.rebuild)
    url = database_url(server, name)
    env = {**django_env(url), "TRACKER_WEB_PROCESS": "1", "RESPONSE_CACHE": "0"}
    busy, load = cpu_busy(2.0), os.getloadavg()
    started = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    out = Path(args.logs) / f"writes-{os.getpid()}.json"
    command = [
        str(BIN / "python"),
        str(WRITES_SCRIPT),
        f"--adapter={args.adapter}",
        f"--repetitions={args.repetitions}",
        f"--rounds={args.rounds}",
        f"--out={out}",
        *extra,
    ]
    log(
        f"{name}: the staff writes ({args.adapter}), "
        + ("without the statement timeout" if "--without-timeout" in extra else "in a web process")
    )
    done = subprocess.run(command, env=env, cwd=ROOT)
    if done.returncode == 3:
        raise BenchError("bench/writes.py refused to run: see its message above.")
    if done.returncode != 0:
        raise BenchError("bench/writes.py failed: see its output above.")
    measured = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return {
        "machine": machine(server),
        **code_version(),
        "database": name,
        "dataset": dataset,
        "size": size.label,
        "started_at": started,
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpu_busy_before": round(busy, 3),
        "load_average_before": [round(n, 2) for n in load],
        **measured,
    }


def seconds_text(value: float) -> str:
    return f"{value:,.2f} s" if value < 100 else f"{value:,.0f} s"


def write_figure(operation: dict | None) -> str:
    """One write's figures, as a table cell."""
    if operation is None:
        return "not measured"
    if operation["key"] == "concurrent-publish":
        if not operation.get("rounds"):
            return operation.get("fails", "not measured")
        said = (
            f"{operation['deadlocks']} deadlock(s) in {operation['rounds']} rounds "
            f"(median {seconds_text(operation['median_s'])} a round)"
        )
        if operation.get("other_failures"):
            said += "; also: " + ", ".join(operation["other_failures"])
        return said
    parts = []
    if "median_s" in operation:
        said = f"{seconds_text(operation['median_s'])}"
        if operation.get("repetitions", 1) > 1:
            said += f" (max {seconds_text(operation['max_s'])})"
        parts.append(f"{said}, {operation['queries']:,} queries")
    if operation.get("fails"):
        failed = operation["fails"]
        queries = f"{operation.get('failed_queries', 0):,} queries"
        if failed.startswith("stopped after"):
            said = f"did not finish in {failed[len('stopped after ') :]} ({queries} by then)"
        else:
            said = f"fails: {failed}"
            if operation.get("failed_after_s") is not None:
                said += f" (after {seconds_text(operation['failed_after_s'])}, {queries})"
        if parts:
            failed_runs = sum(run["outcome"] != "ok" for run in operation["runs"])
            said = f"{failed_runs} of {operation['repetitions']} runs {said}"
        parts.append(said)
    return "; ".join(parts) or "not measured"


def write_verdict(operation: dict | None, others: dict) -> str:
    """Met or missed (and by how much) for a write measured now."""
    if operation is None:
        return "—"
    if operation["key"] == "concurrent-publish":
        if not operation.get("rounds"):
            return "**missed**: not run"
        if operation["deadlocks"]:
            return f"**missed**: {operation['deadlocks']} deadlock(s), target 0"
        return "met" if not operation.get("other_failures") else "**missed**: failures"
    target = operation.get("target_s")
    if operation.get("fails"):
        return f"**missed**: {operation['fails']}" if target else "fails"
    if target is None:
        return "reported"
    missed = []
    if operation["median_s"] > target:
        over = operation["median_s"] - target
        missed.append(f"by {seconds_text(over)} ({operation['median_s'] / target:.1f}x the target)")
    if operation["key"] == "paste-long":
        fewer = others.get("paste-short")
        if fewer and "queries" in fewer:
            if operation["queries"] > fewer["queries"] + QUERY_GROWTH_ALLOWED:
                missed.append(
                    f"queries grow with the lines ({fewer['queries']:,} for "
                    f"{fewer['lines']} lines, {operation['queries']:,} for {operation['lines']})"
                )
        else:
            missed.append("queries not compared (the shorter list did not run)")
    return "**missed** " + "; ".join(missed) if missed else "met"


def write_target(operation: dict) -> str:
    if operation["key"] == "concurrent-publish":
        return "0 deadlocks"
    target = operation.get("target_s")
    if target is None:
        return "—"
    said = f"≤ {target:g} s"
    if operation["key"] == "paste-long":
        said += ", queries not growing with lines"
    return said


def admin_section(results: dict) -> list[str]:
    """The section made from bench/admin.json (bench/admin_pages.py)."""
    out = [
        "## Staff pages of a 500-signatory statement (bench/admin_pages.py)",
        "",
        "In-process, Django's test client, no load: each step once to warm up, then "
        "the median of the runs. Target: every step under 1 s.",
        "",
    ]
    for engine, measured in results.items():
        before = measured["before"]
        out += [
            f"### {engine}, {measured['signatories']} signatories ({measured['measured_at']})",
            "",
            f"Before (every signature inline on the statement's page): the page took "
            f"{before['ms']:,.0f} ms and weighed {before['kib']:,} KiB; its form posts "
            f"{before['fields']:,} fields, past Django's limit of 1,000, and saving it "
            f"answered {before['save_status']}. Now the page's form posts "
            f"{measured['after_fields']:,} fields.",
            "",
            "| step | ms | status | KiB | target < 1 s |",
            "|---|--:|--:|--:|---|",
        ]
        for step in measured["steps"]:
            verdict = "met" if step["target_met"] else "**missed**"
            out.append(
                f"| {step['step']} | {step['ms']:,.1f} | {step['status']} | {step['kib']:,} | "
                f"{verdict} |"
            )
        out.append("")
    return out


def mix_section(results: dict) -> list[str]:
    """The section made from bench/mix.json (bench/mix.py)."""
    out = ["## Read mixes at 1M", ""]
    titles = {
        "changes": "The read mix while an editor commits public changes",
        "long-tail": "The long tail: random addresses over the whole dataset",
        "instances": "Two instances behind one Redis, against one",
    }
    for mode, title in titles.items():
        if mode not in results:
            continue
        measured = results[mode]
        out += [
            f"### {title}",
            "",
            f"{measured['clients']} connections for {measured['seconds']:g} s a run; gunicorn, "
            f"{measured['workers']} workers of {measured['threads']} threads, with "
            "tracker/gunicorn.conf.py; "
            f"database `{measured.get('dataset', '')}`, commit {measured['code']['commit']}, "
            f"measured {measured['measured_at']} (bench/mix.py {mode}).",
            "",
            "| run | req/s | p50 ms | p95 ms | worst p95 of a kind | hit rate | errors |",
            "|---|--:|--:|--:|---|--:|--:|",
        ]
        for name, run in measured["runs"].items():
            if not isinstance(run, dict):
                out.append(f"| {name} | {run} | | | | | |")
                continue
            kinds = run.get("p95_ms_by_kind", {})
            worst = max(kinds.items(), key=lambda item: item[1] or 0) if kinds else ("", None)
            failed = sum(n for status, n in run["statuses"].items() if not status.startswith("2"))
            hit = "n/a" if run["hit_rate"] is None else f"{run['hit_rate']:.0%}"
            out.append(
                f"| {name} | {run['req_per_s']:,.1f} | {run['p50_ms']} | {run['p95_ms']} "
                f"| {worst[1]} ({worst[0]}) | {hit} | {failed + sum(run['errors'].values())} |"
            )
        out += ["", *mix_targets(mode, measured["runs"]), ""]
    return out


MIX_P95_TARGET_MS = 50.0  # with an edit every 10 s, on every kind of address
MIX_RATIO_TARGET = 10.0  # with an edit every 10 s, over RESPONSE_CACHE=0
LONG_TAIL_P95_TARGET_MS = 100.0


def mix_targets(mode: str, runs: dict) -> list[str]:
    """The issue's targets for a mix, met or missed, from its runs."""
    if mode == "changes" and "an edit every 10 s" in runs:
        run, built = runs["an edit every 10 s"], runs.get("RESPONSE_CACHE=0")
        kinds = run.get("p95_ms_by_kind", {})
        over = {kind: p95 for kind, p95 in kinds.items() if p95 is not None and p95 >= 50}
        said = [
            f"Target, with an edit every 10 s: p95 under {MIX_P95_TARGET_MS:g} ms on every "
            "kind of address: "
            + (
                "met (worst " + f"{max(kinds.values()):g} ms)"
                if kinds and not over
                else "**missed** by " + ", ".join(f"{k} ({v:g} ms)" for k, v in over.items())
            )
            + "."
        ]
        if built and built.get("req_per_s"):
            ratio = run["req_per_s"] / built["req_per_s"]
            verdict = "met" if ratio >= MIX_RATIO_TARGET else "**missed**"
            said.append(
                f"Target: at least {MIX_RATIO_TARGET:g}x the throughput of RESPONSE_CACHE=0: "
                f"{ratio:.1f}x ({run['req_per_s']:,.0f} against {built['req_per_s']:,.0f} "
                f"req/s), {verdict}."
            )
        return said
    if mode == "long-tail" and "kept answers" in runs:
        lines = []
        for name in ("kept answers", "RESPONSE_CACHE=0"):
            p95 = runs.get(name, {}).get("p95_ms")
            if p95 is not None:
                verdict = "met" if p95 < LONG_TAIL_P95_TARGET_MS else "**missed**"
                lines.append(
                    f"Target: p95 under {LONG_TAIL_P95_TARGET_MS:g} ms at 1M ({name}): "
                    f"{p95:g} ms, {verdict}."
                )
        return lines
    if mode == "instances" and runs.get("throughput ratio") is not None:
        return [f"Two instances give {runs['throughput ratio']:g}x the throughput of one."]
    return []


def writes_section(
    now: dict | None, before: dict | None, title: str = "Staff writes at 1M", notes: bool = True
) -> list[str]:
    """The "Staff writes at 1M" section: each write before, now, its target and verdict."""
    out = [f"## {title}", ""]
    if now is None and before is None:
        return [*out, "Not measured yet: `bench/run --writes`.", ""]
    reference = now or before
    now_ops = {o["key"]: o for o in (now or {}).get("operations", [])}
    before_ops = {o["key"]: o for o in (before or {}).get("operations", [])}

    def described(run: dict | None, what: str) -> str:
        if run is None:
            return f"{what}: not measured."
        changed = [path for path in run.get("changed", []) if not path.startswith("bench/")]
        return (
            f"{what}: commit {run['commit']}"
            + (f" with changes to {', '.join(changed)}" if changed else "")
            + f", `{run['adapter']}` adapter, measured {run['measured_at']}"
            + (
                f" (some writes again {run['partly_measured_at']})"
                if run.get("partly_measured_at")
                else ""
            )
            + " on "
            f"{run['machine']['cores']} cores ({run['machine']['cpu']}), load average "
            f"{run['load_average_before'][0]:g} and {run['cpu_busy_before']:.0%} of the CPU "
            f"busy before it began; database `{run['database']}`, statement timeout "
            f"{run['statement_timeout']}{'' if run['web_process'] else ' (not a web process)'}."
        )

    t = reference["targets"]
    draft = (
        f"draft `{t['draft']}`"
        if t.get("draft")
        else "a draft made in each transaction from the statement's signers"
    )
    out += [
        "Each write in a transaction rolled back afterwards, in a process with the web "
        "statement timeout (`TRACKER_WEB_PROCESS=1`), repeated (median, then the slowest; a "
        "write slower than 30 s or failing runs once; one still running after "
        f"{reference.get('give_up_s', 120):g} s is stopped), with its SQL queries counted "
        "by `CaptureQueriesContext` (`bench/writes.py`). Verdicts are of the median. "
        f"Statement `{t['statement']}` ({t['statement_signatures']} signatories), {draft}; "
        f"organisation `{t['small']}` ({t['small_signatures']} signatures) merged into the "
        f"biggest hub `{t['hub']}` ({t['hub_signatures']:,}), which is merged into the next, "
        f"`{t['second_hub']}` ({t['second_hub_signatures']:,}); the pasted lists go to the "
        f"statement, at {t['organizations']:,} organisations.",
        "",
        f"- {described(before, 'Before')}",
        f"- {described(now, 'Now')}",
        "",
        "| staff write | before | now | target | now against the target |",
        "|---|---|---|---|---|",
    ]
    untimed = {o["key"]: o for o in (before or {}).get("without_timeout", {}).get("operations", [])}
    for operation in reference["operations"]:
        key = operation["key"]
        current = now_ops.get(key)
        shown = current or before_ops.get(key) or operation
        before_figure = write_figure(before_ops.get(key))
        if key in untimed and (before_ops.get(key) or {}).get("fails"):
            before_figure += f"; without the timeout: {write_figure(untimed[key])}"
        out.append(
            f"| {shown['label']} | {before_figure} "
            f"| {write_figure(current)} | {write_target(shown)} "
            f"| {write_verdict(current, now_ops)} |"
        )
    note = writes_note({"before": before, "now": now})
    if note:
        out += ["", note]
    if notes and WRITES_NOTES.exists():
        out += ["", WRITES_NOTES.read_text(encoding="utf-8").strip()]
    return [*out, ""]


def combine_writes(path: Path, measured: dict, args) -> dict:
    """
    A partial run (--only) replaces its writes' figures in the file written before; a run
    --without-timeout is kept in it apart.
    """
    if not (args.only or args.without_timeout):
        return measured
    old = load_writes(path)
    if old is None or old.get("commit") != measured["commit"] or old["adapter"] != args.adapter:
        raise BenchError(
            f"{path.relative_to(ROOT)} is missing or of another commit or adapter: run all the "
            "writes with the web timeout first."
        )
    if args.without_timeout:
        base = old.get("without_timeout")
        if base and args.only:
            measured["operations"] = _replaced(base["operations"], measured["operations"])
        old["without_timeout"] = measured
        return old
    old["operations"] = _replaced(old["operations"], measured["operations"])
    old["partly_measured_at"] = measured["measured_at"]
    old["changed"], old["targets"] = measured["changed"], measured["targets"]
    return old


def _replaced(operations: list[dict], new: list[dict]) -> list[dict]:
    by_key = {operation["key"]: operation for operation in new}
    kept = [by_key.pop(operation["key"], operation) for operation in operations]
    return kept + list(by_key.values())


def load_writes(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def merge(new: dict) -> dict:
    """Sizes measured now replace the same sizes in results.json; others stay if comparable."""
    if not RESULTS.exists():
        return new
    old = json.loads(RESULTS.read_text(encoding="utf-8"))
    same = all(old["machine"].get(k) == new["machine"][k] for k in ("cpu", "cores", "ram_gib"))
    same = same and old.get("method") == new["method"]
    if not same:
        log("results.json was measured on another machine or method: dropping its sizes")
        return new
    sizes = {**old["sizes"], **new["sizes"]}
    new["sizes"] = {name: sizes[name] for name in SIZES if name in sizes}
    return new


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="10k,1m,10m", help="comma-separated: 10k, 1m, 10m")
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per address")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per address")
    parser.add_argument("--concurrency", type=int, default=8, help="connections kept open")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk's threads")
    parser.add_argument(
        "--idle-wait",
        type=float,
        default=300,
        help="seconds to wait, before each address, for other processes to leave the CPU "
        f"idle (under {IDLE * 100:.0f}%% busy)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
        help="the PostgreSQL server, as a URL without a database name (env BENCH_POSTGRES)",
    )
    parser.add_argument("--rebuild", action="store_true", help="make the datasets again")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a tiny scratch database, 2 s per address; writes bench/smoke-results.json and "
        "fails if any request failed",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="only remake docs/benchmarks.md from results.json, writes.json and writes-before.json",
    )
    parser.add_argument(
        "--writes",
        action="store_true",
        help="measure the staff writes at 1M instead of the reads (bench/writes.py): writes "
        "bench/writes.json (bench/writes-before.json with --adapter before) and the write "
        "section of docs/benchmarks.md",
    )
    parser.add_argument(
        "--adapter",
        choices=["services", "before"],
        default="services",
        help="with --writes: the write services (default), or the code of commit 6b42047, "
        "run from a checkout of it (see bench/writes.py)",
    )
    parser.add_argument(
        "--writes-database",
        default="tracker_bench_1m",
        help="with --writes: the 1M database to build or reuse (default tracker_bench_1m)",
    )
    parser.add_argument("--repetitions", type=int, default=5, help="with --writes: of each")
    parser.add_argument(
        "--only",
        default="",
        help="with --writes: only these writes (comma-separated keys, see bench/writes.py), "
        "replacing their figures in the JSON written before",
    )
    parser.add_argument(
        "--without-timeout",
        action="store_true",
        help="with --writes: without the web statement timeout, kept apart in the JSON "
        "(`without_timeout`) to say how long the writes that fail at it take",
    )
    parser.add_argument(
        "--rounds", type=int, default=50, help="with --writes: of the two editors publishing"
    )
    parser.add_argument("--logs", default=os.environ.get("TMPDIR", "/tmp"), help="gunicorn logs")
    args = parser.parse_args()

    if args.report:
        write_docs()
        return 0
    if args.writes:
        written = WRITES_BEFORE if args.adapter == "before" else WRITES
        extra = [f"--only={args.only}"] if args.only else []
        if args.without_timeout:
            extra.append("--without-timeout")
        measured = run_writes(
            SIZES[TARGET_SIZE], args.postgres, args.writes_database, args, extra=extra
        )
        measured = combine_writes(written, measured, args)
        written.write_text(json.dumps(measured, indent=2) + "\n", encoding="utf-8")
        log(f"wrote {written.relative_to(ROOT)}")
        if RESULTS.exists():
            write_docs()
        return 0
    if args.smoke:
        args.duration, args.warmup, args.idle_wait = 2, 0, 0
        sizes = ["smoke"]
    else:
        sizes = [name.strip().lower() for name in args.sizes.split(",") if name.strip()]
        unknown = sorted(set(sizes) - {"10k", "1m", "10m"})
        if unknown:
            parser.error(f"unknown size(s): {', '.join(unknown)}; choose from 10k, 1m, 10m")
    if shutil.which("wrk") is None:
        raise BenchError(
            "wrk is not installed: install Debian's package (apt-get install -y -q wrk), "
            "or run `make bench`, which does."
        )

    method = {
        key: getattr(args, key)
        for key in ("duration", "warmup", "concurrency", "workers", "threads", "wrk_threads")
    }
    results = {"machine": machine(args.postgres), "method": method, "sizes": {}}
    failures: list[str] = []
    for name in sizes:
        size = SIZES[name]
        database = f"tracker_bench_smoke_{os.getpid()}" if args.smoke else f"tracker_bench_{name}"
        try:
            results["sizes"][name] = run_size(size, database, args, failures)
            if args.smoke:
                results["writes"] = smoke_writes(
                    size, database, results["sizes"][name]["dataset"], args, failures
                )
        finally:
            if args.smoke:
                drop_database(args.postgres, database)

    if args.smoke:
        evaluate(results)
        SMOKE_RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print("\n".join(size_table(results["sizes"]["smoke"])))
        log(f"wrote {SMOKE_RESULTS.relative_to(ROOT)}")
    else:
        results = merge(results)
        evaluate(results)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        DOCS.parent.mkdir(exist_ok=True)
        DOCS.write_text(markdown(results), encoding="utf-8")
        log(f"wrote {RESULTS.relative_to(ROOT)} and {DOCS.relative_to(ROOT)}")
    for failure in failures:
        log(f"FAILED {failure}")
    return 1 if failures else 0


def write_docs() -> None:
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    evaluate(results)
    DOCS.write_text(markdown(results), encoding="utf-8")
    log(f"wrote {DOCS.relative_to(ROOT)}")


def smoke_writes(size: Size, database: str, dataset: dict, args, failures: list[str]) -> dict:
    """Each staff write once on the smoke database, through whichever adapter the code has."""
    args.adapter, args.repetitions, args.rounds = "auto", 1, 2
    measured = run_writes(
        size,
        args.postgres,
        database,
        args,
        dataset=dataset,
        extra=["--paste-lines=5,15", "--signatories=20", "--give-up=30"],
    )
    for operation in measured["operations"]:
        if operation.get("deadlocks") or (
            operation.get("fails") and not operation["fails"].startswith("not run")
        ):
            failures.append(f"write {operation['key']}: {operation.get('fails') or 'deadlock'}")
    section = writes_section(measured, None, "Staff writes (smoke: no targets apply)", notes=False)
    print("\n".join(section))
    return measured


def stop(signum, frame):
    # Raised where the run is, so that the servers it started are stopped on the way out.
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        sys.exit(main())
    except BenchError as exc:
        log(f"error: {exc}")
        sys.exit(2)
