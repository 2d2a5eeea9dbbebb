#!/usr/bin/env python3
"""
Staff pages at the size of a real sign-on letter: a statement of 500 signatories, opened and
saved in the admin, in-process with Django's test client (no network, no load), each step
once to warm up and then five times, the median reported. Target: every step under 1 s.

Compared in the same run with the page as it was before (every signature inline on the
statement's page): its size, the fields its form posts (Django refuses more than 1,000), and
what saving it answers.

    .venv/bin/python bench/admin_pages.py                       # a scratch SQLite database
    .venv/bin/python bench/admin_pages.py --postgres postgres://postgres@127.0.0.1:5432

Writes bench/admin.json; `bench/run --report` puts it in docs/benchmarks.md.
"""

import argparse
import datetime
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "admin.json"
SIGNATORIES = 500
TARGET_MS = 1000.0
RUNS = 5
DATABASE = "tracker_bench_admin"


def configure(postgres: str | None) -> str:
    if postgres:
        import psycopg

        with psycopg.connect(f"{postgres}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        os.environ["DATABASE_URL"] = f"{postgres}/{DATABASE}"
        return "PostgreSQL"
    folder = tempfile.mkdtemp(prefix="tracker-bench-admin-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/admin.sqlite3"
    return "SQLite"


def timed(call) -> tuple[float, object]:
    call()  # warm
    times, result = [], None
    for _ in range(RUNS):
        start = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    engine = configure(args.postgres)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    os.environ["RESPONSE_CACHE"] = "0"
    warnings.filterwarnings("ignore", "No directory at")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from organizations.models import Organization
    from statements import admin as statement_admin
    from statements import signing
    from statements.models import Statement
    from tests.admin_forms import form_data

    call_command("migrate", verbosity=0)
    statement = Statement.objects.create(
        title="A sign-on letter of five hundred organisations",
        slug="a-long-letter",
        issued_on=datetime.date(2025, 11, 12),
        status=Statement.Status.PUBLISHED,
    )
    organizations = [
        Organization(name=f"Signing Organisation {i:03}", slug=f"signing-organisation-{i:03}")
        for i in range(SIGNATORIES)
    ]
    for organization in organizations:
        organization.clean()
    Organization.objects.bulk_create(organizations)
    signing.add_signatures(
        statement=statement,
        rows=[signing.NewSignature(organization=o) for o in organizations],
    )
    User.objects.create_superuser("bench", "bench@example.org", "bench")
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(User.objects.get(username="bench"))
    change = reverse("admin:statements_statement_change", args=[statement.pk])
    signatures = reverse("admin:statements_statement_signatures", args=[statement.pk])
    steps = []

    def step(label, call, check):
        ms, response = timed(call)
        ok = check(response)
        steps.append(
            {
                "step": label,
                "ms": ms,
                "status": response.status_code,
                "kib": round(len(response.content) / 1024),
                "ok": ok,
                "target_met": ok and ms < TARGET_MS,
            }
        )
        print(f"{label}: {ms} ms, {response.status_code}, {'ok' if ok else 'NOT OK'}")

    # Before: every signature inline on the statement's page.
    saved_limit = statement_admin.INLINE_SIGNATURES
    statement_admin.INLINE_SIGNATURES = 10**6
    inline_ms, inline_page = timed(lambda: client.get(change))
    inline_fields = form_data(inline_page.content.decode())
    logging.disable(logging.ERROR)  # Django logs the refusal of so many fields
    inline_save = client.post(change, inline_fields)
    logging.disable(logging.NOTSET)
    statement_admin.INLINE_SIGNATURES = saved_limit
    before = {
        "ms": inline_ms,
        "kib": round(len(inline_page.content) / 1024),
        "fields": len(inline_fields),
        "save_status": inline_save.status_code,
    }
    print(f"before: {before}")

    step("open the statement's page", lambda: client.get(change), lambda r: r.status_code == 200)
    page_fields = form_data(client.get(change).content.decode())
    places = iter(["Geneva", "Washington, D.C."] * RUNS)

    def save_statement():
        return client.post(
            change, {**form_data(client.get(change).content.decode()), "place": next(places)}
        )

    step("save the statement's page", save_statement, lambda r: r.status_code == 302)
    step(
        "open its signatures, page 1",
        lambda: client.get(signatures),
        lambda r: r.status_code == 200,
    )
    step(
        "open its signatures, page 10",
        lambda: client.get(signatures + "?p=10"),
        lambda r: r.status_code == 200,
    )
    step(
        "find a signature",
        lambda: client.get(signatures + "?q=organisation+123"),
        lambda r: r.status_code == 200 and b"Signing Organisation 123" in r.content,
    )
    roles = iter(["lead", "signatory"] * RUNS)

    def save_page():
        data = form_data(client.get(signatures).content.decode())
        return client.post(signatures, {**data, "form-0-role": next(roles), "_save": "1"})

    step("save a page of 50 with one row changed", save_page, lambda r: r.status_code == 302)
    ids = [str(s.pk) for s in statement.signatures.order_by("position")[:50]]
    actions = iter(["lead", "signatory"] * RUNS)

    def bulk():
        data = form_data(client.get(signatures).content.decode())
        data.pop("_save", None)
        return client.post(
            signatures, {**data, "selected": ids, "bulk-action": next(actions), "_bulk": "1"}
        )

    step("make 50 selected lead sponsors", bulk, lambda r: r.status_code == 302)
    names = [o.name for o in organizations]
    orders = iter([list(reversed(names)), names] * RUNS)

    def reorder():
        return client.post(signatures, {"reorder-order": "\n".join(next(orders)), "_reorder": "1"})

    step("reorder all 500 by pasting the printed order", reorder, lambda r: r.status_code == 302)

    results = {
        "engine": engine,
        "signatories": SIGNATORIES,
        "target_ms": TARGET_MS,
        "runs": RUNS,
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "before": before,
        "after_fields": len(page_fields),
        "steps": steps,
    }
    previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    previous[engine] = results
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if all(s["target_met"] for s in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
