"""
The read mixes, at 1,000,000 signatures on PostgreSQL: what readers get while staff edit, and
when they arrive from search engines over the whole dataset.

    .venv/bin/python bench/mix.py changes      # the read mix while an editor commits changes
    .venv/bin/python bench/mix.py long-tail    # random addresses over the whole dataset
    .venv/bin/python bench/mix.py instances    # two instances behind one Redis, against one
    .venv/bin/python bench/mix.py all --seconds 30

`changes`: the read mix of bench/reliability.py (API answers and pages over 60 statements
and 60 organisations, the lists, topics and searches) at --clients connections for
--seconds, while an editor commits one public change (a statement's summary, through
statements.publishing.save_statement) every 1 s, 10 s and 60 s; then the same mix with
RESPONSE_CACHE=0, no editor, as the measure of "every request builds its answer".
`long-tail`: each request a random address over the whole dataset - any public statement's
page or API answer, any organisation's page, timeline or co-signers, a search for any title
word - with kept answers on, then with RESPONSE_CACHE=0.
`instances`: the read mix against two instances of --workers workers each sharing one Redis,
requests spread over both, against one instance alone (needs REDIS_URL support in the
product, and redis-server at --redis).

For each run: requests per second, p50 and p95 overall, p95 for each kind of address, the
share of answers served from the kept answers (the `X-Cache: hit` header; "n/a" when the
product does not send it), and errors. The load comes from wrk (bench/mix.lua: one
connection per client, each response's address, status, latency and X-Cache recorded), on
the same machine as the server.
Results go to bench/mix.json, and `bench/run --report` puts them in docs/benchmarks.md.
The dataset is the harness's tracker_bench_1m (built if missing; --size 10k for a quick try).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness
import reliability

ROOT = harness.ROOT
PUBLIC = harness.PUBLIC
RESULTS = harness.BENCH / "mix.json"
INTERVALS = "1,10,60"

# An address's kind, for the p95 of each: the first pattern that matches names it.
KINDS = [
    ("API: statement", r"^/api/v1/statements/[^/?]+/$"),
    ("API: statement list", r"^/api/v1/statements/"),
    ("API: timeline", r"^/api/v1/organizations/[^/]+/timeline/"),
    ("API: co-signers", r"^/api/v1/organizations/[^/]+/cosigners/"),
    ("API: organisation", r"^/api/v1/organizations/[^/?]+/$"),
    ("API: other", r"^/api/"),
    ("page: statement", r"^/statements/[^/?]+/$"),
    ("page: organisation", r"^/organizations/[^/?]+/$"),
    ("page: search", r"^/search/"),
    ("page: other", r"."),
]
_KINDS = [(name, re.compile(pattern)) for name, pattern in KINDS]


def kind(path: str) -> str:
    return next(name for name, pattern in _KINDS if pattern.search(path))


def draw(pick, count: int, seed: int) -> list[str]:
    """The addresses the clients will ask for, in order, drawn before the load starts."""
    rng = random.Random(seed)
    return [pick(rng) for _ in range(count)]


def wrk_load(base: tuple[str, int], paths: list[str], clients: int, seconds: float, folder: Path):
    """wrk with bench/mix.lua: one connection per thread, each response recorded."""
    folder.mkdir(parents=True, exist_ok=True)
    addresses = folder / "addresses.tsv"
    addresses.write_text("".join(f"{kind(path)}\t{path}\n" for path in paths))
    prefix = folder / "records"
    command = [
        "wrk", f"--threads={clients}", f"--connections={clients}",
        f"--duration={max(1, round(seconds))}s", "--timeout=60s",
        f"--script={harness.BENCH / 'mix.lua'}", f"http://{base[0]}:{base[1]}",
        "--", str(addresses), str(prefix), str(clients),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise harness.BenchError(f"wrk failed on {base}:\n{done.stdout}{done.stderr}")
    summary = json.loads(lines[-1])
    rows = []
    for n in range(clients):
        for line in Path(f"{prefix}.{n}").read_text().splitlines():
            name, status, micros, cache = line.split("\t")
            rows.append((name, int(status), int(micros) / 1e6, cache))
    errors = {key: value for key, value in summary["errors"].items() if value and key != "status"}
    return rows, errors, summary["duration_us"] / 1e6


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def summary(rows: list[tuple[str, int, float, str]], errors: dict, seconds: float) -> dict:
    ok = [row for row in rows if 200 <= row[1] < 400]
    marked = [row for row in ok if row[3]]
    by_kind = defaultdict(list)
    for row in ok:
        by_kind[row[0]].append(row[2])
    return {
        "requests": len(rows),
        "req_per_s": round(len(rows) / seconds, 1),
        "p50_ms": ms(percentile([row[2] for row in ok], 0.50)),
        "p95_ms": ms(percentile([row[2] for row in ok], 0.95)),
        "p95_ms_by_kind": {
            name: ms(percentile(by_kind[name], 0.95)) for name, _ in KINDS if by_kind[name]
        },
        "hit_rate": (
            round(sum(row[3] == "hit" for row in marked) / len(marked), 3) if marked else None
        ),
        "statuses": dict(Counter(str(row[1]) for row in rows)),
        "errors": errors,
    }


def load(bases, pick, args, editor_every: float | None = None, url: str = "") -> dict:
    """--clients connections for --seconds, spread over `bases`, with an editor if asked."""
    editor = None
    if editor_every:
        editor = subprocess.Popen(
            [sys.executable, __file__, "edit", "--every", str(editor_every),
             "--seconds", str(args.seconds)],
            env=harness.django_env(url),
            cwd=ROOT,
        )  # fmt: skip
    # More addresses than the run can ask for: at 3,000 req/s, each client's share lasts.
    # Each instance its own draw, so that two are not asked the same address at once.
    count = max(20_000, int(3_000 * args.seconds))
    share = max(1, args.clients // len(bases))
    results: list = [None] * len(bases)

    def run(index: int):
        folder = Path(args.logs) / f"mix-{os.getpid()}-{index}"
        paths = draw(pick, count, seed=100 + index)
        results[index] = wrk_load(bases[index], paths, share, args.seconds, folder)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(bases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if any(result is None for result in results):
        raise harness.BenchError("wrk did not finish against every instance")
    rows = [row for result in results for row in result[0]]
    errors = Counter()
    for result in results:
        errors.update(result[1])
    seconds = max(result[2] for result in results)
    result = summary(rows, dict(errors), seconds)
    if editor is not None:
        editor.wait(timeout=120)
        result["editor_every_s"] = editor_every
        result["editor_exit"] = editor.returncode
    return result


def edit(every: float, seconds: float) -> int:
    """The editor: one public change every `every` seconds, committed through the services."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()
    from statements.models import Statement
    from statements.publishing import save_statement

    ids = list(Statement.objects.public().order_by("id").values_list("id", flat=True)[:500])
    rng = random.Random(11)
    until = time.monotonic() + seconds
    changes = 0
    while time.monotonic() < until:
        statement = Statement.objects.get(pk=rng.choice(ids))
        statement.summary = f"Summary revised at {time.time():.3f}."
        save_statement(statement=statement, form_changed=["summary"])
        changes += 1
        time.sleep(max(0.0, min(every, until - time.monotonic())))
    print(f"editor: {changes} changes", file=sys.stderr)
    return 0


def whole_dataset(url: str):
    """A picker of random addresses over the whole dataset."""
    with psycopg.connect(url, autocommit=True) as conn:
        statements = [
            s
            for (s,) in conn.execute(
                f"SELECT slug FROM statements_statement WHERE status IN {PUBLIC}"
            )
        ]
        organizations = [
            s
            for (s,) in conn.execute(
                "SELECT slug FROM organizations_organization WHERE public_statement_count > 0"
            )
        ]
        titles = [t for (t,) in conn.execute("SELECT title FROM statements_statement LIMIT 5000")]
    words = sorted({w.lower() for t in titles for w in re.findall(r"[A-Za-z]{4,}", t)})

    def pick(rng: random.Random) -> str:
        roll = rng.random()
        if roll < 0.3:
            return f"/statements/{rng.choice(statements)}/"
        if roll < 0.45:
            return f"/api/v1/statements/{rng.choice(statements)}/"
        organization = rng.choice(organizations)
        if roll < 0.65:
            return f"/organizations/{organization}/"
        if roll < 0.75:
            return f"/api/v1/organizations/{organization}/timeline/"
        if roll < 0.85:
            return f"/api/v1/organizations/{organization}/cosigners/"
        return f"/search/?q={rng.choice(words)}"

    return pick


def the_mix(url: str):
    mix = reliability.addresses(url, random.Random(7))
    return lambda rng: rng.choice(mix)


def serve(stack: ExitStack, url: str, args, name: str, **extra) -> tuple[str, int]:
    """An instance, as deployed: the shipped gunicorn settings and the shared Redis."""
    env = harness.django_env(url)
    if args.redis:
        env["REDIS_URL"] = args.redis
    env.update(extra)
    base, _ = stack.enter_context(
        harness.serve(
            "tracker.wsgi:application",
            ROOT,
            env,
            args,
            Path(args.logs) / f"gunicorn-mix-{name}.log",
            ROOT / "tracker" / "gunicorn.conf.py",
        )
    )
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def run_changes(url: str, args) -> dict:
    out = {}
    pick = the_mix(url)
    with ExitStack() as stack:
        bases = [serve(stack, url, args, "changes")]
        load(bases, pick, args)  # warm-up: every worker builds what it will keep
        for every in (float(n) for n in args.intervals.split(",")):
            harness.log(f"changes: an edit every {every:g} s")
            out[f"an edit every {every:g} s"] = load(bases, pick, args, every, url)
    with ExitStack() as stack:
        bases = [serve(stack, url, args, "built", RESPONSE_CACHE="0")]
        harness.log("changes: RESPONSE_CACHE=0, no edits")
        out["RESPONSE_CACHE=0"] = load(bases, pick, args)
    return out


def run_long_tail(url: str, args) -> dict:
    out = {}
    pick = whole_dataset(url)
    for name, extra in (("kept answers", {}), ("RESPONSE_CACHE=0", {"RESPONSE_CACHE": "0"})):
        with ExitStack() as stack:
            bases = [serve(stack, url, args, "long-tail", **extra)]
            harness.log(f"long tail: {name}")
            out[name] = load(bases, pick, args)
    return out


def run_instances(url: str, args) -> dict:
    out = {}
    pick = the_mix(url)
    redis = {"REDIS_URL": args.redis or "redis://127.0.0.1:6379/5"}
    with ExitStack() as stack:
        bases = [serve(stack, url, args, "one", **redis)]
        harness.log("instances: one")
        load(bases, pick, args)
        out["one instance"] = load(bases, pick, args)
    with ExitStack() as stack:
        bases = [serve(stack, url, args, f"two-{n}", **redis) for n in (1, 2)]
        harness.log("instances: two, one Redis")
        load(bases, pick, args)
        out["two instances"] = load(bases, pick, args)
    one, two = out["one instance"]["req_per_s"], out["two instances"]["req_per_s"]
    out["throughput ratio"] = round(two / one, 2) if one else None
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="bench/mix.py", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("mode", choices=["changes", "long-tail", "instances", "all", "edit"])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--every", type=float, default=10, help="edit: seconds between changes")
    parser.add_argument(
        "--intervals", default=INTERVALS, help="changes: seconds between edits, for each run"
    )
    parser.add_argument(
        "--postgres", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--size", choices=["10k", "1m"], default="1m", help="the dataset")
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"),
        help="the shared cache every instance uses ('' for each worker's own memory)",
    )
    parser.add_argument("--logs", default=os.environ.get("TMPDIR", "/tmp"))
    args = parser.parse_args()
    if args.mode == "edit":
        return edit(args.every, args.seconds)
    name = f"tracker_bench_{args.size}"
    harness.prepare_dataset(harness.SIZES[args.size], args.postgres, name, rebuild=False)
    url = harness.database_url(args.postgres, name)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    modes = ["changes", "long-tail", "instances"] if args.mode == "all" else [args.mode]
    for mode in modes:
        runner = {"changes": run_changes, "long-tail": run_long_tail, "instances": run_instances}
        results[mode] = {
            "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "dataset": name,
            "seconds": args.seconds,
            "clients": args.clients,
            "workers": args.workers,
            "threads": args.threads,
            "code": harness.code_version(),
            "machine": harness.machine(args.postgres),
            "runs": runner[mode](url, args),
        }
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        harness.log(f"wrote {RESULTS.relative_to(ROOT)} ({mode})")
    print(json.dumps({mode: results[mode]["runs"] for mode in modes}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
