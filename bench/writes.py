"""
The staff-write benchmark: what each write staff make costs at 1,000,000 signatures, on
PostgreSQL, in a process that behaves like a web server (TRACKER_WEB_PROCESS=1, so every
query stops at the web statement timeout, as a request's would).

Run it through the harness, which builds or reuses the database (bench/run --writes; see
bench/run --help). On its own it measures the database DATABASE_URL names and prints JSON:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_bench_1m \\
        .venv/bin/python bench/writes.py --adapter services

Each write runs in a transaction that is rolled back afterwards, so the database is the
same after a run as before it, several times (the median and the slowest are reported),
with its queries counted by Django's CaptureQueriesContext. A query stopped by the
statement timeout is reported as "fails: statement timeout", not as a crash. A write still
running after --give-up seconds is stopped (its query cancelled) and reported so.

The writes go through an *adapter*, one function a write, so that the same measurement
runs against two versions of the code:
  - `services`: the write services (statements.publishing, statements.merging, the paste
    flow of statements.signatory_lists);
  - `before`: the code of commit 6b42047, where the writes were ORM saves kept in step by
    signal receivers (statements.signals), organizations.merge.merge_organizations and
    statements.signatory_lists.add_signatories. It only works on that commit: run it from a
    checkout of it, with this file and the harness copied in:
        git worktree add /tmp/before 6b42047
        cp bench/writes.py bench/harness.py /tmp/before/bench/
        cd /tmp/before && make install && bench/run --writes --adapter before \\
            --writes-database tracker_bench_1m_before
        bench/run --writes --adapter before --writes-database tracker_bench_1m_before \\
            --without-timeout --only publish,unpublish,redate,merge-hub --repetitions 1
    (the second run, kept apart in the file, says how long the writes that fail at the
    timeout take without it), then copy /tmp/before/bench/writes-before.json back. Its own
    database keeps it apart from the migrations of later code. On any other code the
    adapter refuses, saying which part of that code is missing.
The two writes made through the admin (saving the statement's page, and two editors
publishing at once) post the admin's own form and need no adapter.
"""

import argparse
import datetime
import importlib
import json
import logging
import os
import random
import statistics
import sys
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
if __name__ == "__main__":
    # As tracker/wsgi.py marks a web server: its connections have the statement timeout
    # (unless asked to measure without it, to say how long a write that fails would take).
    if "--without-timeout" in sys.argv:
        os.environ.pop("TRACKER_WEB_PROCESS", None)
    else:
        os.environ["TRACKER_WEB_PROCESS"] = "1"
    os.environ["RESPONSE_CACHE"] = "0"
warnings.filterwarnings("ignore", "No directory at")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.core.signals import got_request_exception  # noqa: E402
from django.db import DatabaseError, connection, connections, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from organizations.models import Organization, name_key  # noqa: E402
from statements.models import Signature, Statement  # noqa: E402

BEFORE_COMMIT = "6b42047"
# The figures for the statement and the organisation: the read benchmark's statement
# (the public one with the fewest signatures from 500 up) and its signatory count.
SIGNATORIES = 500
MERGE_SIGNATURES = 49
# A pasted list of 300 lines: 245 organisations already known, 55 new.
PASTE_LINES = (100, 300)
PASTE_KNOWN_SHARE = 245 / 300
REDATE_BY = datetime.timedelta(days=365)
EDITOR = "bench-writes-editor"


@dataclass(frozen=True)
class Operation:
    key: str
    label: str
    target_s: float | None  # None: reported, no target
    note: str = ""


OPERATIONS = [
    Operation("publish", "publish the {statement_signatures}-signatory draft", 1.0),
    Operation("unpublish", "unpublish the {statement_signatures}-signatory statement", 1.0),
    Operation("retract", "retract the {statement_signatures}-signatory statement", 1.0),
    Operation("redate", "re-date the {statement_signatures}-signatory statement", 1.0),
    Operation(
        "merge-small",
        "merge an organisation of {small_signatures} signatures into the biggest hub",
        0.5,
    ),
    Operation(
        "merge-hub",
        "merge the biggest hub ({hub_signatures:,} signatures) into the next biggest",
        10.0,
    ),
    # The shorter list only shows whether the queries grow with the lines.
    Operation("paste-short", "add a pasted list of {paste_short}", None),
    Operation("paste-long", "add a pasted list of {paste_long}", 2.0),
    Operation(
        "admin-save",
        "save the {statement_signatures}-signatory statement's admin page (field limit raised)",
        None,
    ),
    Operation(
        "concurrent-publish",
        "two editors publish two statements at once, each adding a signer of the other",
        None,
    ),
]
# Queries of the 300-line list may exceed the 100-line list's by this much (a constant, not
# a number a line) and still count as not growing with the lines.
QUERY_GROWTH_ALLOWED = 10


class AdapterMissing(Exception):
    """The code this adapter drives is not in this checkout."""


def _require(module: str, *names: str, adapter: str, hint: str):
    try:
        found = importlib.import_module(module)
    except ImportError as exc:
        raise AdapterMissing(
            f"The `{adapter}` adapter needs {module}, which this checkout does not have "
            f"({exc}). {hint}"
        ) from None
    missing = [name for name in names if not hasattr(found, name)]
    if missing:
        raise AdapterMissing(
            f"The `{adapter}` adapter needs {module}.{', '.join(missing)}, which this checkout "
            f"does not have. {hint}"
        )
    return found


BEFORE_HINT = (
    f"It measures the code of commit {BEFORE_COMMIT}: run it from a checkout of that commit "
    f"(git worktree add /tmp/before {BEFORE_COMMIT}; cp bench/writes.py bench/harness.py "
    "/tmp/before/bench/), as this file's docstring says."
)
SERVICES_HINT = "It measures the write services; use --adapter before on older code."


class Before:
    """
    The writes as commit 6b42047 makes them: the admin saves the statement (signal receivers
    in statements.signals recount the signers and keep the co-signing table), the merge
    page calls organizations.merge.merge_organizations, the paste flow add_signatories.
    """

    name = "before"

    def __init__(self):
        hint = BEFORE_HINT
        # The receivers are what made a save keep the derived data: without them an ORM
        # save measures nothing of the old write path.
        _require("statements.signals", "_statement_saved", adapter=self.name, hint=hint)
        self._merge = _require(
            "organizations.merge", "merge_organizations", adapter=self.name, hint=hint
        )
        self._lists = _require(
            "statements.signatory_lists",
            "entries_from_text",
            "preview",
            "add_signatories",
            adapter=self.name,
            hint=hint,
        )

    def publish(self, statement: Statement) -> None:
        # As the admin's save_model did: the first publication records when.
        statement.status = Statement.Status.PUBLISHED
        if statement.published_at is None:
            statement.published_at = timezone.now().replace(microsecond=0)
        statement.save()

    def unpublish(self, statement: Statement) -> None:
        statement.status = Statement.Status.DRAFT
        statement.save()

    def retract(self, statement: Statement, note: str) -> None:
        statement.status = Statement.Status.RETRACTED
        statement.retraction_note = note
        statement.save()

    def redate(self, statement: Statement, issued_on: datetime.date) -> None:
        statement.issued_on = issued_on
        statement.save()

    def merge(self, keep: Organization, other: Organization) -> None:
        self._merge.merge_organizations(keep=keep, other=other)

    def paste_entries(self, statement: Statement, text: str):
        return self._lists.entries_from_text(
            text, role=Signature.Role.SIGNATORY, joined_on=statement.issued_on
        )

    def paste_preview(self, statement: Statement, entries) -> None:
        self._lists.preview(statement, entries)

    def paste_add(self, statement: Statement, entries, choices) -> None:
        self._lists.add_signatories(statement, entries, choices, reason="Added from a pasted list")


class Services(Before):
    """The writes through the services of statements.publishing, .merging and the paste flow."""

    name = "services"

    def __init__(self):
        hint = SERVICES_HINT
        self._publishing = _require(
            "statements.publishing",
            "publish",
            "unpublish",
            "retract",
            "redate",
            adapter=self.name,
            hint=hint,
        )
        self._merging = _require(
            "statements.merging", "merge_organizations", adapter=self.name, hint=hint
        )
        self._lists = _require(
            "statements.signatory_lists",
            "entries_from_text",
            "preview",
            "add_signatories",
            adapter=self.name,
            hint=hint,
        )

    def publish(self, statement: Statement) -> None:
        self._publishing.publish(statement=statement)

    def unpublish(self, statement: Statement) -> None:
        self._publishing.unpublish(statement=statement)

    def retract(self, statement: Statement, note: str) -> None:
        self._publishing.retract(statement=statement, note=note)

    def redate(self, statement: Statement, issued_on: datetime.date) -> None:
        self._publishing.redate(statement=statement, issued_on=issued_on)

    def merge(self, keep: Organization, other: Organization) -> None:
        self._merging.merge_organizations(keep=keep, other=other)


ADAPTERS = {"services": Services, "before": Before}


def adapter(name: str):
    """
    The adapter `name` ("auto": the services if the code has them, else `before`), or
    AdapterMissing saying what this checkout lacks.
    """
    if name != "auto":
        return ADAPTERS[name]()
    try:
        return Services()
    except AdapterMissing:
        return Before()


# --- Targets -------------------------------------------------------------------------------


def find_targets(*, signatories: int = SIGNATORIES, paste_lines=PASTE_LINES, seed: int = 1):
    """
    What to write to, found in the data as the read benchmark finds its targets: the public
    statement with the fewest signatures from `signatories` up (or the most signed), a draft
    of that many (None: made from the statement's signers inside each transaction), the
    organisation with the number of signatures nearest 49, the two biggest hubs, two drafts
    for the two editors, and the pasted lists (real organisation names that have not signed
    the statement, and invented ones no organisation has).
    """
    signed = Count("signatures")
    public = Statement.objects.public().annotate(n=signed).filter(n__gt=0)
    statement = public.filter(n__gte=signatories).order_by("n", "slug").first()
    if statement is None:
        statement = public.order_by("-n", "slug").first()
    if statement is None:
        raise ValueError("The database has no public statement with signatures.")
    drafts = Statement.objects.filter(status=Statement.Status.DRAFT).annotate(n=signed)
    draft = drafts.filter(n__gte=statement.n).order_by("n", "slug").first()

    counts = list(
        Organization.objects.annotate(n=signed).filter(n__gt=0).values_list("pk", "slug", "n")
    )
    if len(counts) < 3:
        raise ValueError("The database needs three organisations with signatures.")
    by_size = sorted(counts, key=lambda row: (-row[2], row[1]))
    hub, second = by_size[0], by_size[1]
    small = min(
        (row for row in counts if row[0] not in (hub[0], second[0])),
        key=lambda row: (abs(row[2] - MERGE_SIGNATURES), row[1]),
    )

    editors = _editor_drafts(drafts)
    lists = {lines: _pasted_list(statement, lines, seed) for lines in paste_lines}
    return {
        "statement": statement.slug,
        "statement_id": statement.pk,
        "statement_signatures": statement.n,
        "draft": draft.slug if draft else None,
        "draft_id": draft.pk if draft else None,
        "draft_signatures": draft.n if draft else statement.n,
        "small": small[1],
        "small_id": small[0],
        "small_signatures": small[2],
        "hub": hub[1],
        "hub_id": hub[0],
        "hub_signatures": hub[2],
        "second_hub": second[1],
        "second_hub_id": second[0],
        "second_hub_signatures": second[2],
        "editors": editors,
        "lists": lists,
        "organizations": Organization.objects.count(),
    }


def _editor_drafts(drafts) -> dict | None:
    """
    Two drafts each editor publishes, adding a signer of the other's: the pair with the
    fewest signers in common (none, where the data has such a pair), then of sizes nearest
    each other and 50. A shared signer makes the second editor wait for the first before it
    holds anything the first needs, and a smaller draft is saved before the other editor's
    form is read: either would hide a lock order that deadlocks. None if no pair has a
    signer each that the other lacks.
    """
    rows = Signature.objects.filter(statement__in=drafts.filter(n__gte=2)).values_list(
        "statement_id", "organization_id"
    )
    signers: dict[int, set[int]] = {}
    for statement_id, organization_id in rows:
        signers.setdefault(statement_id, set()).add(organization_id)
    ids = sorted(signers)
    best = None
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if signers[a] <= signers[b] or signers[b] <= signers[a]:
                continue
            na, nb = len(signers[a]), len(signers[b])
            key = (
                len(signers[a] & signers[b]),
                3 * abs(na - nb) + abs(na - 50) + abs(nb - 50),
                a,
                b,
            )
            if best is None or key < best:
                best = key
    if best is None:
        return None
    shared, _, a, b = best
    slugs = dict(Statement.objects.filter(pk__in=(a, b)).values_list("pk", "slug"))
    return {
        "first": slugs[a],
        "first_id": a,
        "first_signatures": len(signers[a]),
        "second": slugs[b],
        "second_id": b,
        "second_signatures": len(signers[b]),
        "shared_signers": shared,
        # Who each editor adds: a signer of the other statement.
        "first_adds_id": min(signers[b] - signers[a]),
        "second_adds_id": min(signers[a] - signers[b]),
    }


def _pasted_list(statement: Statement, lines: int, seed: int) -> dict:
    """
    `lines` lines: organisations already known (real names of organisations that have not
    signed the statement), then new ones (invented names no organisation has, nor is near).
    """
    rng = random.Random(seed)
    unsigned = list(
        Organization.objects.exclude(signatures__statement=statement)
        .order_by("pk")
        .values_list("pk", "name")
    )
    known = sorted(rng.sample(unsigned, min(len(unsigned), round(lines * PASTE_KNOWN_SHARE))))
    invented = []
    number = 0
    while len(invented) < lines - len(known):
        number += 1
        invented.append(f"Quillwort Fenland Cooperative Number {number:04d}")
    taken = set(
        Organization.objects.filter(name_key__in=[name_key(n) for n in invented]).values_list(
            "name_key", flat=True
        )
    )
    invented = [name for name in invented if name_key(name) not in taken]
    names = [name for _, name in known] + invented
    return {
        "lines": len(names),
        "known": len(known),
        "new": len(invented),
        "text": "\n".join(names),
        "choices": [pk for pk, _ in known] + [None] * len(invented),
    }


# --- Measuring -----------------------------------------------------------------------------


class GiveUp:
    """
    Cancels the running query of the connection `conn` (this thread's) every second once
    `seconds` have passed.
    """

    def __init__(self, conn, seconds: float):
        # Django's connections are the thread's own: take the driver's connection here, in
        # the thread that runs the write, not in the watching one.
        conn.ensure_connection()
        self.raw, self.seconds = conn.connection, seconds
        self.fired = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        if self._done.wait(self.seconds):
            return
        self.fired = True
        while not self._done.is_set():
            self.raw.cancel()
            self._done.wait(1.0)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()


def failure(exc: BaseException) -> str:
    """What stopped a write, as the report says it."""
    cause = exc
    while cause is not None and not isinstance(cause, psycopg.Error):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, psycopg.errors.QueryCanceled):
        return "statement timeout"
    if isinstance(cause, psycopg.errors.DeadlockDetected):
        return "deadlock"
    return f"error: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"


def _big_query_log(conn):
    # CaptureQueriesContext counts the connection's log, which keeps 9,000 queries: more
    # than that would be miscounted.
    if conn.queries_log.maxlen is not None and conn.queries_log.maxlen < 10**7:
        conn.queries_log = deque(conn.queries_log, maxlen=10**7)


def run_once(prepare, write, *, give_up: float) -> dict:
    """
    One write in a transaction rolled back afterwards: `prepare()` (not timed) returns the
    arguments of `write`, which is timed with its queries counted.
    """
    _big_query_log(connection)
    result: dict = {}
    with transaction.atomic():
        try:
            arguments = prepare()
            with (
                CaptureQueriesContext(connection) as queries,
                GiveUp(connection, give_up) as watch,
            ):
                started = time.perf_counter()
                try:
                    parts = write(*arguments)
                    result["outcome"] = "ok"
                except DatabaseError as exc:
                    parts = None
                    result["outcome"] = (
                        f"stopped after {give_up:g} s" if watch.fired else failure(exc)
                    )
                result["seconds"] = round(time.perf_counter() - started, 3)
            result["queries"] = len(queries)
            if result["outcome"] != "ok" and len(queries):
                # The query that was stopped (the log keeps a query that raised, too).
                result["last_query"] = " ".join(queries[-1]["sql"].split())[:500]
            if isinstance(parts, dict):
                result.update(parts)
        finally:
            transaction.set_rollback(True)
    return result


def summarise(runs: list[dict]) -> dict:
    ok = [run for run in runs if run["outcome"] == "ok"]
    failed = [run for run in runs if run["outcome"] != "ok"]
    summary = {"runs": runs, "repetitions": len(runs)}
    if ok:
        summary["median_s"] = round(statistics.median(run["seconds"] for run in ok), 3)
        summary["max_s"] = round(max(run["seconds"] for run in ok), 3)
        summary["queries"] = round(statistics.median(run["queries"] for run in ok))
    if failed:
        summary["fails"] = failed[0]["outcome"]
        summary["failed_after_s"] = failed[0]["seconds"]
        summary["failed_queries"] = failed[0]["queries"]
    return summary


def repeat(prepare, write, *, repetitions: int, give_up: float, slow: float) -> dict:
    """
    The write `repetitions` times; once if it fails or takes longer than `slow` seconds
    (repeating a write of minutes says nothing more).
    """
    runs = []
    for _ in range(repetitions):
        run = run_once(prepare, write, give_up=give_up)
        runs.append(run)
        log(f"    {run['outcome']:<24} {run['seconds']:>8.3f} s  {run['queries']:>7,} queries")
        if run["outcome"] != "ok" or run["seconds"] > slow:
            break
    return summarise(runs)


def log(message: str) -> None:
    print(f"[writes {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- The writes ----------------------------------------------------------------------------


def _statement(pk: int) -> Statement:
    return Statement.objects.get(pk=pk)


def _draft(targets: dict) -> Statement:
    """The draft to publish: the data's, or one made now from the statement's signers."""
    if targets["draft_id"]:
        return _statement(targets["draft_id"])
    source = _statement(targets["statement_id"])
    draft = Statement.objects.create(
        title=f"{source.title} (draft copy)",
        slug=f"{source.slug}-draft-copy"[:200],
        status=Statement.Status.DRAFT,
        issued_on=source.issued_on,
    )
    # One INSERT: a draft's signatures count for nothing derived, so no write path is needed.
    Signature.objects.bulk_create(
        Signature(
            statement=draft,
            organization_id=s.organization_id,
            role=s.role,
            name_as_printed=s.name_as_printed,
            position=s.position,
            joined_on=s.joined_on,
        )
        for s in source.signatures.all()
    )
    return draft


def _paste(writer, targets: dict, lines: int):
    pasted = targets["lists"][lines]

    def prepare():
        statement = _statement(targets["statement_id"])
        by_id = Organization.objects.in_bulk([pk for pk in pasted["choices"] if pk])
        return statement, [by_id[pk] if pk else None for pk in pasted["choices"]]

    def write(statement, choices):
        # What the confirmation does: read the list, match it (the preview), add it.
        entries = writer.paste_entries(statement, pasted["text"])
        if len(entries) != len(choices):
            raise ValueError(f"The list read as {len(entries)} lines, not {len(choices)}.")
        started = time.perf_counter()
        writer.paste_preview(statement, entries)
        matched = time.perf_counter()
        writer.paste_add(statement, entries, choices)
        return {
            "preview_s": round(matched - started, 3),
            "add_s": round(time.perf_counter() - matched, 3),
        }

    return prepare, write


def writes(writer, targets: dict):
    """(key, prepare, write) for each write made through the adapter."""
    statement_id = targets["statement_id"]

    def one_statement():
        return (_statement(statement_id),)

    def two(keep_id, other_id):
        return lambda: tuple(Organization.objects.get(pk=pk) for pk in (keep_id, other_id))

    def redate(statement):
        writer.redate(statement, statement.issued_on - REDATE_BY)

    yield "publish", lambda: (_draft(targets),), writer.publish
    yield "unpublish", one_statement, writer.unpublish
    yield "retract", one_statement, lambda s: writer.retract(s, "Retracted by its sponsors.")
    yield "redate", one_statement, redate
    yield "merge-small", two(targets["hub_id"], targets["small_id"]), writer.merge
    yield "merge-hub", two(targets["second_hub_id"], targets["hub_id"]), writer.merge
    short, long = sorted(targets["lists"])
    yield ("paste-short", *_paste(writer, targets, short))
    yield ("paste-long", *_paste(writer, targets, long))


# --- Through the admin ---------------------------------------------------------------------


class FormReader(HTMLParser):
    """The fields a browser would post from the page's form `form_id`."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self.templates: dict[str, str] = {}  # the empty row's fields (names with __prefix__)
        self._select: tuple[str, bool] | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def _put(self, name: str, value: str):
        if "__prefix__" in name:
            self.templates.setdefault(name, value)
        else:
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or (not a.get("name") and tag != "option"):
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._put(a["name"], a.get("value") or "on")
                return
            self._put(a["name"], a.get("value") or "")
        elif tag == "select":
            self._select = (a["name"], "multiple" in a)
            self._options = []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value") or "", "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select is not None:
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            for value in chosen:
                self._put(name, value)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self._put(self._textarea, text[1:] if text.startswith("\n") else text)
            self._textarea = None


def admin_form(client: Client, statement_id: int) -> FormReader:
    """The statement's change form as the admin draws it."""
    url = reverse("admin:statements_statement_change", args=[statement_id])
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"The admin answered {response.status_code} for {url}.")
    reader = FormReader("statement_form")
    reader.feed(response.content.decode())
    reader.data["_save"] = ["Save"]
    return reader


def publish_adding(form: FormReader, organization_id: int) -> dict:
    """The form's fields, published, with one more signature row for `organization_id`."""
    data = {name: list(values) for name, values in form.data.items()}
    total = int(data["signatures-TOTAL_FORMS"][0])
    for name, value in form.templates.items():
        if name.startswith("signatures-__prefix__-"):
            data[name.replace("__prefix__", str(total))] = [value]
    data["status"] = [Statement.Status.PUBLISHED]
    data[f"signatures-{total}-organization"] = [str(organization_id)]
    data[f"signatures-{total}-role"] = [Signature.Role.SIGNATORY]
    data["signatures-TOTAL_FORMS"] = [str(total + 1)]
    return data


# The exception a request in this thread raised. (The test client's own record of it is
# shared by every thread's client: each editor would see the other's failure as its own.)
_request_error = threading.local()


def _remember_request_error(sender, request=None, **kwargs):
    _request_error.exc = sys.exc_info()[1]


got_request_exception.connect(_remember_request_error, dispatch_uid="bench-writes-errors")


def editor_client() -> Client:
    return Client(
        HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https", raise_request_exception=False
    )


def post_form(client: Client, statement_id: int, data: dict) -> None:
    """
    Post the change form: the exception that made it fail is raised, and a form error (the
    page drawn again) as FormRefused.
    """
    url = reverse("admin:statements_statement_change", args=[statement_id])
    _request_error.exc = None
    with override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=None):
        response = client.post(url, data)
    if _request_error.exc is not None:
        raise _request_error.exc
    if response.status_code != 302:
        errors = []
        context = response.context or {}
        if context.get("errors"):
            errors = [str(e) for e in context["errors"]][:3]
        raise FormRefused(f"the admin answered {response.status_code}: {' '.join(errors)}"[:300])


class FormRefused(Exception):
    pass


def editor(username: str = EDITOR):
    user, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    return user


def admin_save(targets: dict, *, repetitions: int, give_up: float, slow: float) -> dict:
    """Save the statement's admin page unchanged, as an editor pressing Save."""
    client = editor_client()
    holder = {}

    def prepare():
        client.force_login(editor())
        holder["form"] = admin_form(client, targets["statement_id"])
        return ()

    def write():
        post_form(client, targets["statement_id"], holder["form"].data)

    try:
        return repeat(prepare, write, repetitions=repetitions, give_up=give_up, slow=slow)
    except FormRefused as exc:
        return {"runs": [], "repetitions": 0, "fails": f"error: {exc}"}


def concurrent_publish(targets: dict, *, rounds: int, give_up: float) -> dict:
    """
    Two editors, each in a web request of their own (a thread, a connection), press Save at
    the same moment: one publishes the first draft and adds a signer of the second, the
    other publishes the second and adds a signer of the first. Both are rolled back; a
    round is a deadlock if PostgreSQL chose one to fail.
    """
    pair = targets.get("editors")
    if pair is None:
        return {"runs": [], "rounds": 0, "fails": "not run: the data has no two drafts to publish"}
    # The editors must exist for both connections: committed, and removed at the end.
    user = editor()
    plans = [
        (pair["first_id"], pair["first_adds_id"]),
        (pair["second_id"], pair["second_adds_id"]),
    ]
    barrier = threading.Barrier(2)
    outcomes: list[list[dict]] = [[], []]
    sessions = []

    def editor_thread(index: int):
        statement_id, adds = plans[index]
        try:
            client = editor_client()
            client.force_login(user)
            sessions.append(client.session.session_key)
            data = publish_adding(admin_form(client, statement_id), adds)
            _big_query_log(connections["default"])
            for _ in range(rounds):
                barrier.wait(timeout=give_up + 60)
                with transaction.atomic():
                    started = time.perf_counter()
                    try:
                        with GiveUp(connections["default"], give_up) as watch:
                            post_form(client, statement_id, data)
                        added = Signature.objects.filter(
                            statement_id=statement_id, organization_id=adds
                        ).exists()
                        published = Statement.objects.filter(
                            pk=statement_id, status=Statement.Status.PUBLISHED
                        ).exists()
                        outcome = "ok" if added and published else "error: saved, but not as posted"
                    except (DatabaseError, FormRefused) as exc:
                        outcome = f"stopped after {give_up:g} s" if watch.fired else failure(exc)
                        if isinstance(exc, FormRefused):
                            outcome = f"error: {exc}"
                    finally:
                        transaction.set_rollback(True)
                outcomes[index].append(
                    {"outcome": outcome, "seconds": round(time.perf_counter() - started, 3)}
                )
        except threading.BrokenBarrierError:
            pass
        finally:
            barrier.abort()
            connections.close_all()

    threads = [threading.Thread(target=editor_thread, args=(i,)) for i in range(2)]
    # A deadlock is counted here, not logged as a server error with its traceback.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        Session.objects.filter(session_key__in=sessions).delete()
        user.delete()
    rounds_run = min(len(outcomes[0]), len(outcomes[1]))
    per_round = []
    for n in range(rounds_run):
        a, b = outcomes[0][n], outcomes[1][n]
        per_round.append(
            {
                "outcomes": [a["outcome"], b["outcome"]],
                "seconds": max(a["seconds"], b["seconds"]),
            }
        )
    deadlocks = sum("deadlock" in r["outcomes"] for r in per_round)
    others = sorted({o for r in per_round for o in r["outcomes"] if o not in ("ok", "deadlock")})
    seconds = [r["seconds"] for r in per_round]
    result = {
        "rounds": rounds_run,
        "deadlocks": deadlocks,
        "other_failures": others,
        "runs": per_round,
    }
    if seconds:
        result["median_s"] = round(statistics.median(seconds), 3)
        result["max_s"] = round(max(seconds), 3)
    return result


# --- The whole run -------------------------------------------------------------------------


def statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


def run(
    adapter_name: str,
    *,
    repetitions: int = 5,
    rounds: int = 50,
    give_up: float = 120.0,
    slow: float = 30.0,
    paste_lines: tuple[int, int] = PASTE_LINES,
    signatories: int = SIGNATORIES,
    only: set[str] | None = None,
) -> dict:
    writer = adapter(adapter_name)
    adapter_name = writer.name
    targets = find_targets(signatories=signatories, paste_lines=paste_lines)
    labels = label_values(targets)
    log(
        f"statement {targets['statement']} ({targets['statement_signatures']} signatures), "
        f"draft {targets['draft'] or '(made in each transaction)'}, organisation "
        f"{targets['small']} ({targets['small_signatures']}), hub {targets['hub']} "
        f"({targets['hub_signatures']}), next hub {targets['second_hub']} "
        f"({targets['second_hub_signatures']})"
    )
    operations = {}
    wanted = [o for o in OPERATIONS if only is None or o.key in only]
    keys = {o.key for o in wanted}
    for key, prepare, write in writes(writer, targets):
        if key not in keys:
            continue
        log(f"  {key}")
        operations[key] = repeat(
            prepare, write, repetitions=repetitions, give_up=give_up, slow=slow
        )
        if key.startswith("paste-"):
            lines = sorted(targets["lists"])[key == "paste-long"]
            operations[key]["lines"] = targets["lists"][lines]["lines"]
    if "admin-save" in keys:
        log("  admin-save")
        operations["admin-save"] = admin_save(
            targets, repetitions=repetitions, give_up=give_up, slow=slow
        )
    if "concurrent-publish" in keys:
        log(f"  concurrent-publish ({rounds} rounds)")
        operations["concurrent-publish"] = concurrent_publish(
            targets, rounds=rounds, give_up=give_up
        )
        done = operations["concurrent-publish"]
        log(f"    {done['deadlocks']} deadlock(s)" if done["rounds"] else f"    {done['fails']}")
    out = []
    for operation in wanted:
        if operation.key not in operations:
            continue
        out.append(
            {
                "key": operation.key,
                "label": operation.label.format(**labels),
                "target_s": operation.target_s,
                **operations[operation.key],
            }
        )
    lists = targets.pop("lists")
    targets["lists"] = {
        str(lines): {k: v for k, v in pasted.items() if k in ("lines", "known", "new")}
        for lines, pasted in lists.items()
    }
    return {
        "adapter": adapter_name,
        "web_process": os.environ.get("TRACKER_WEB_PROCESS") == "1",
        "statement_timeout": statement_timeout(),
        "repetitions": repetitions,
        "rounds": rounds,
        "give_up_s": give_up,
        "targets": targets,
        "operations": out,
    }


def label_values(targets: dict) -> dict:
    values = dict(targets)
    for which, lines in zip(("short", "long"), sorted(targets["lists"]), strict=True):
        pasted = targets["lists"][lines]
        values[f"paste_{which}"] = (
            f"{pasted['lines']} lines ({pasted['known']} known, {pasted['new']} new)"
        )
    return values


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="bench/writes.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--adapter", choices=[*ADAPTERS, "auto"], default="services")
    parser.add_argument("--repetitions", type=int, default=5, help="of each write")
    parser.add_argument("--rounds", type=int, default=50, help="of the two editors")
    parser.add_argument(
        "--give-up", type=float, default=120.0, help="seconds after which a write is stopped"
    )
    parser.add_argument(
        "--slow", type=float, default=30.0, help="a write slower than this is run once"
    )
    parser.add_argument(
        "--paste-lines",
        default=",".join(map(str, PASTE_LINES)),
        help="the two lists' lengths: the longer has the target, the shorter shows whether "
        "the queries grow with the lines",
    )
    parser.add_argument("--signatories", type=int, default=SIGNATORIES)
    parser.add_argument("--only", default="", help="comma-separated keys of writes to run")
    parser.add_argument(
        "--without-timeout",
        action="store_true",
        help="not as a web process: no statement timeout (how long a write that fails at "
        "the timeout would take)",
    )
    parser.add_argument("--out", help="write the JSON here rather than to stdout")
    args = parser.parse_args()
    try:
        adapter(args.adapter)
    except AdapterMissing as exc:
        print(f"bench/writes.py: {exc}", file=sys.stderr)
        return 3
    if connection.vendor != "postgresql":
        print("bench/writes.py: the write benchmark runs on PostgreSQL.", file=sys.stderr)
        return 2
    results = run(
        args.adapter,
        repetitions=args.repetitions,
        rounds=args.rounds,
        give_up=args.give_up,
        slow=args.slow,
        paste_lines=tuple(int(n) for n in args.paste_lines.split(",") if n.strip()),
        signatories=args.signatories,
        only={k.strip() for k in args.only.split(",") if k.strip()} or None,
    )
    text = json.dumps(results, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
