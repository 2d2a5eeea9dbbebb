"""
The staff-write benchmark (bench/writes.py) finds its targets in the data, leaves the data as
it found it, reports a stopped query as a failure rather than crashing, and its figures make
the "Staff writes at 1M" section of docs/benchmarks.md (bench/harness.py). Not timed: a small
synthetic database.
"""

import importlib.util
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from organizations.models import Organization
from statements import synthetic
from statements.models import Signature, Statement

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="synthetic data and the benchmark need PostgreSQL"
    ),
]

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def writes():
    return load("writes")


@pytest.fixture(scope="module")
def harness():
    return load("harness")


@pytest.fixture
def data(seeded):
    synthetic.generate(synthetic.Sizes(1500, 100, 5000), log=lambda line: None)


def signatures_of(pk):
    return Signature.objects.filter(organization_id=pk).count()


def test_the_targets_are_found_in_the_data(writes, data):
    targets = writes.find_targets(signatories=500, paste_lines=(100, 300))

    public = Statement.objects.public().annotate(n=Count("signatures"))
    statement = Statement.objects.get(slug=targets["statement"])
    assert statement.is_public and targets["statement_signatures"] == 500
    assert min(n for n in public.values_list("n", flat=True) if n >= 500) == 500
    # No draft has 500 signatories at this size: one is made inside each transaction.
    assert targets["draft"] is None

    counts = dict(Organization.objects.annotate(n=Count("signatures")).values_list("pk", "n"))
    assert targets["hub_signatures"] == max(counts.values()) == signatures_of(targets["hub_id"])
    assert targets["second_hub_signatures"] == signatures_of(targets["second_hub_id"])
    assert targets["second_hub_signatures"] <= targets["hub_signatures"]
    others = {
        pk: n
        for pk, n in counts.items()
        if n and pk not in (targets["hub_id"], targets["second_hub_id"])
    }
    assert abs(targets["small_signatures"] - 49) == min(abs(n - 49) for n in others.values())

    signed = set(statement.signatures.values_list("organization_id", flat=True))
    for lines, known in ((100, 82), (300, 245)):
        pasted = targets["lists"][lines]
        assert (pasted["lines"], pasted["known"], pasted["new"]) == (lines, known, lines - known)
        names = pasted["text"].splitlines()
        known_ids = [pk for pk in pasted["choices"] if pk]
        assert not signed & set(known_ids)
        by_id = Organization.objects.in_bulk(known_ids)
        assert names[:known] == [by_id[pk].name for pk in known_ids]
        assert not Organization.objects.filter(name__in=names[known:]).exists()

    editors = targets["editors"]
    if editors:  # two drafts: each editor adds a signer of the other's
        first = Signature.objects.filter(statement_id=editors["first_id"])
        second = Signature.objects.filter(statement_id=editors["second_id"])
        assert second.filter(organization_id=editors["first_adds_id"]).exists()
        assert not first.filter(organization_id=editors["first_adds_id"]).exists()
        assert first.filter(organization_id=editors["second_adds_id"]).exists()
        # The pair with the fewest signers in common.
        shared = set(first.values_list("organization_id", flat=True)) & set(
            second.values_list("organization_id", flat=True)
        )
        assert editors["shared_signers"] == len(shared)


def test_each_write_runs_and_is_rolled_back(writes, harness, data):
    before = (
        Statement.objects.count(),
        Signature.objects.count(),
        Organization.objects.count(),
        sorted(Statement.objects.values_list("pk", "status", "issued_on")),
    )
    # The admin's page of a statement of 60 rather than 500, and no second connection (the
    # two editors need committed data): each write once, for what it does, not how fast.
    only = {o.key for o in writes.OPERATIONS} - {"concurrent-publish"}
    results = writes.run("auto", repetitions=1, paste_lines=(10, 30), signatories=60, only=only)

    operations = {o["key"]: o for o in results["operations"]}
    assert set(operations) == only
    for operation in operations.values():
        assert "fails" not in operation, operation
        assert operation["repetitions"] == 1 and operation["queries"] > 0
    assert operations["paste-long"]["runs"][0]["add_s"] >= 0
    assert operations["paste-long"]["lines"] == 30
    assert operations["paste-long"]["label"] == "add a pasted list of 30 lines (24 known, 6 new)"
    signatories = results["targets"]["statement_signatures"]
    assert signatories >= 60
    assert operations["publish"]["label"] == f"publish the {signatories}-signatory draft"
    assert before == (
        Statement.objects.count(),
        Signature.objects.count(),
        Organization.objects.count(),
        sorted(Statement.objects.values_list("pk", "status", "issued_on")),
    )

    # The figures make the report's section, each write with its target and verdict.
    now = {
        **results,
        "commit": "abc1234",
        "changed": [],
        "measured_at": "2026-01-01T00:00:00+00:00",
        "machine": {"cores": 2, "cpu": "test CPU"},
        "load_average_before": [1.0, 1.0, 1.0],
        "cpu_busy_before": 0.5,
        "database": "test",
    }
    section = "\n".join(harness.writes_section(now, None))
    assert section.startswith("## Staff writes at 1M")
    assert f"| publish the {signatories}-signatory draft | not measured |" in section
    assert "| ≤ 1 s |" in section and "queries not growing with lines" in section


def test_a_stopped_query_is_reported_not_raised(writes, db):
    def slow(seconds):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [seconds])

    def with_timeout():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 50")
        return (2,)

    run = writes.run_once(with_timeout, slow, give_up=60)
    assert run["outcome"] == "statement timeout" and run["seconds"] < 2
    assert run["last_query"] == "SELECT pg_sleep(2)"
    run = writes.run_once(lambda: (5,), slow, give_up=0.3)
    assert run["outcome"] == "stopped after 0.3 s" and run["seconds"] < 5
    # The connection is usable afterwards, outside any transaction.
    assert not connection.needs_rollback
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def test_the_report_says_before_now_target_and_by_how_much(harness):
    def op(key, label, target, **figures):
        return {"key": key, "label": label, "target_s": target, "repetitions": 5, **figures}

    def ran(operations, commit):
        return {
            "adapter": "before" if commit == "6b42047" else "services",
            "commit": commit,
            "changed": ["bench/writes.py"],
            "measured_at": "2026-01-01T00:00:00+00:00",
            "machine": {"cores": 2, "cpu": "test CPU"},
            "load_average_before": [3.5, 2.0, 1.0],
            "cpu_busy_before": 0.4,
            "database": "tracker_bench_1m",
            "statement_timeout": "10s",
            "web_process": True,
            "give_up_s": 120,
            "targets": {
                "statement": "s-500",
                "statement_signatures": 500,
                "draft": None,
                "small": "org-49",
                "small_signatures": 49,
                "hub": "hub",
                "hub_signatures": 16000,
                "second_hub": "hub-2",
                "second_hub_signatures": 15000,
                "organizations": 20000,
            },
            "operations": operations,
        }

    timeout = {"outcome": "statement timeout", "seconds": 10.2, "queries": 3}
    before = ran(
        [
            op("redate", "re-date", 1.0, runs=[timeout], fails="statement timeout",
               failed_after_s=10.2, failed_queries=3, repetitions=1),
            op("publish", "publish", 1.0, median_s=2.8, max_s=3.1, queries=1605, runs=[]),
            op("paste-short", "paste 100", None, median_s=1.0, max_s=1.0, queries=1605, runs=[],
               lines=100),
            op("paste-long", "paste 300", 2.0, median_s=3.6, max_s=3.9, queries=6204, runs=[],
               lines=300),
            {"key": "concurrent-publish", "label": "two editors", "target_s": None,
             "rounds": 15, "deadlocks": 7, "median_s": 1.5, "max_s": 2.0, "runs": []},
        ],
        "6b42047",
    )  # fmt: skip
    now = ran(
        [
            op("redate", "re-date", 1.0, median_s=0.2, max_s=0.3, queries=12, runs=[]),
            op("publish", "publish", 1.0, median_s=1.5, max_s=1.6, queries=20, runs=[]),
            op("paste-short", "paste 100", None, median_s=0.2, max_s=0.2, queries=30, runs=[],
               lines=100),
            op("paste-long", "paste 300", 2.0, median_s=0.5, max_s=0.6, queries=90, runs=[],
               lines=300),
            {"key": "concurrent-publish", "label": "two editors", "target_s": None,
             "rounds": 50, "deadlocks": 0, "median_s": 0.4, "max_s": 0.9, "runs": [],
             "other_failures": []},
        ],
        "abc1234",
    )  # fmt: skip
    rows = {
        line.split(" | ")[0].lstrip("| "): line
        for line in harness.writes_section(now, before)
        if line.startswith("| ") and not line.startswith("| staff")
    }
    assert rows["re-date"] == (
        "| re-date | fails: statement timeout (after 10.20 s, 3 queries) "
        "| 0.20 s (max 0.30 s), 12 queries | ≤ 1 s | met |"
    )
    assert rows["publish"].endswith("| **missed** by 0.50 s (1.5x the target) |")
    assert "2.80 s (max 3.10 s), 1,605 queries" in rows["publish"]
    # 300 lines cost three times the queries of 100: they grow with the lines.
    assert rows["paste 300"].endswith(
        "| **missed** queries grow with the lines (30 for 100 lines, 90 for 300) |"
    )
    assert rows["paste 100"].endswith("| — | reported |")
    assert rows["two editors"] == (
        "| two editors | 7 deadlock(s) in 15 rounds (median 1.50 s a round) "
        "| 0 deadlock(s) in 50 rounds (median 0.40 s a round) | 0 deadlocks | met |"
    )
    section = "\n".join(harness.writes_section(now, before))
    assert "Before: commit 6b42047, `before` adapter" in section
    assert "on 2 cores (test CPU), load average 3.5" in section
    assert "cores were shared with other work while before and now ran" in section
    # Measured on a quiet machine, neither run is said to have shared it.
    for run in (before, now):
        run["load_average_before"], run["cpu_busy_before"] = [0.6, 0.5, 0.4], 0.01
    assert "shared with other work" not in "\n".join(harness.writes_section(now, before))
