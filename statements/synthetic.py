"""
Synthetic data for benchmarks: organisations, statements and signatures at any size, skewed
as real life is, written with PostgreSQL's COPY.

Everything it makes is marked: slugs begin with "synthetic-", staff notes say so, and every
statement carries the "Synthetic data" topic. It never touches other rows, and `delete`
removes exactly what it made. It is never part of seeds/. History is not recorded for it.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass
from itertools import accumulate

from django.db import connection, models, transaction
from django.utils import timezone

from organizations.models import Cosigning, Organization, name_key
from organizations.names import fold
from statements import derived
from statements.models import Signature, Statement, Topic

PREFIX = "synthetic-"
NOTE = "Synthetic benchmark data, made by the generate_synthetic command. Not real."
TOPIC_SLUG = "synthetic-data"
MIN_SIGNATORIES, MAX_SIGNATORIES = 2, 500

_WORDS = [
    "Alliance",
    "Action",
    "Network",
    "Council",
    "Forum",
    "Institute",
    "Coalition",
    "Centre",
    "League",
    "Union",
    "Project",
    "Initiative",
    "Society",
    "Fund",
    "Collective",
    "Committee",
    "Campaign",
    "Foundation",
    "Voices",
    "Partners",
]
_PLACES = [
    "Atlantic",
    "Pacific",
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Central",
    "Coastal",
    "Valley",
    "Highland",
    "Metro",
    "River",
    "Lake",
    "Prairie",
    "Desert",
    "Mountain",
    "Harbor",
    "Island",
    "Capital",
    "Frontier",
]
_CAUSES = [
    "Peace",
    "Justice",
    "Rights",
    "Refugee",
    "Climate",
    "Health",
    "Labor",
    "Faith",
    "Education",
    "Housing",
    "Water",
    "Democracy",
    "Press",
    "Women",
    "Youth",
    "Veterans",
    "Immigrant",
    "Farmworker",
    "Disability",
    "Ocean",
]


@dataclass
class Sizes:
    organizations: int = 20_000
    statements: int = 20_000
    signatures: int = 1_000_000

    def check(self):
        if self.statements < 1 or self.organizations < MIN_SIGNATORIES:
            raise ValueError("Need at least 1 statement and 2 organisations.")
        cap = min(MAX_SIGNATORIES, self.organizations)
        # One statement has the most signatories; the others have MIN_SIGNATORIES to cap.
        low = cap + (self.statements - 1) * MIN_SIGNATORIES
        high = self.statements * cap
        if not low <= self.signatures <= high:
            raise ValueError(
                f"{self.signatures:,} signatures cannot be spread over {self.statements:,} "
                f"statements (one of {cap}, the others of {MIN_SIGNATORIES} to {cap} "
                f"signatories): choose between {low:,} and {high:,}."
            )


def exists() -> bool:
    return Organization.objects.filter(slug__startswith=PREFIX).exists()


def delete():
    """
    Remove every synthetic row, in plain SQL: the ORM would send a signal, and write a
    history row, for each of a million deletions.
    """
    q = connection.ops.quote_name
    signature, statement = q(Signature._meta.db_table), q(Statement._meta.db_table)
    organization, topics = (
        q(Organization._meta.db_table),
        q(Statement.topics.through._meta.db_table),
    )
    synthetic_statements = f"SELECT id FROM {statement} WHERE slug LIKE %s"
    synthetic_organizations = f"SELECT id FROM {organization} WHERE slug LIKE %s"
    like = PREFIX + "%"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {signature} WHERE statement_id IN ({synthetic_statements}) "
            f"OR organization_id IN ({synthetic_organizations})",
            [like, like],
        )
        cursor.execute(
            f"DELETE FROM {topics} WHERE statement_id IN ({synthetic_statements})", [like]
        )
        cursor.execute(f"DELETE FROM {statement} WHERE slug LIKE %s", [like])
        cosigning_table = q(Cosigning._meta.db_table)
        cursor.execute(
            f"DELETE FROM {cosigning_table} WHERE organization_id IN ({synthetic_organizations}) "
            f"OR other_id IN ({synthetic_organizations})",
            [like, like],
        )
        cursor.execute(f"DELETE FROM {organization} WHERE slug LIKE %s", [like])
        Topic.objects.filter(slug=TOPIC_SLUG).delete()
    # Real organisations may have co-signed synthetic statements only if staff signed them
    # up by hand; rebuild rather than guess.
    if Signature.objects.exists():
        derived.rebuild()


def signatory_counts(sizes: Sizes, rng: random.Random) -> list[int]:
    """
    How many sign each statement: a log-normal spread (most a few dozen, a long tail),
    clipped to 2..500 and centred so the counts add up to the total. The first statement
    always has the maximum.
    """
    cap = min(MAX_SIGNATORIES, sizes.organizations)
    if sizes.statements == 1:
        return [sizes.signatures]
    rest = sizes.signatures - cap  # what the other statements share
    spread = [rng.gauss(0, 1.1) for _ in range(sizes.statements - 1)]

    def counts_for(centre: float) -> list[int]:
        return [max(MIN_SIGNATORIES, min(cap, round(math.exp(centre + z)))) for z in spread]

    low, high = -5.0, math.log(cap) + 5
    for _ in range(60):  # bisect the centre: the total grows with it
        middle = (low + high) / 2
        if sum(counts_for(middle)) < rest:
            low = middle
        else:
            high = middle
    counts = counts_for(low)
    # Close the gap left by rounding, one signature at a time, staying in range.
    diff = rest - sum(counts)
    step = 1 if diff > 0 else -1
    order = list(range(len(counts)))
    rng.shuffle(order)
    while diff:
        moved = False
        for index in order:
            if diff and MIN_SIGNATORIES <= counts[index] + step <= cap:
                counts[index] += step
                diff -= step
                moved = True
        if not moved:
            raise ValueError("Could not spread the signatures over the statements.")
    return [cap, *counts]


def _copy(model: type[models.Model], columns: list[str], rows):
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _next_id(model) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def _analyze(*models_):
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _reset_sequence(model):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {connection.ops.quote_name(table)}))",
            [table],
        )


def generate(sizes: Sizes, seed: int = 1, log=print) -> dict[str, int]:
    if connection.vendor != "postgresql":
        raise RuntimeError("Synthetic data is written with COPY: it needs PostgreSQL.")
    sizes.check()
    rng = random.Random(seed)
    now = timezone.now()
    counts = signatory_counts(sizes, rng)

    with transaction.atomic():
        topic = Topic.objects.create(
            name="Synthetic data",
            slug=TOPIC_SLUG,
            description="Benchmark data, not real statements.",
        )

        first_org = _next_id(Organization)
        org_ids = list(range(first_org, first_org + sizes.organizations))
        log(f"organisations: {sizes.organizations:,}")
        _copy(
            Organization,
            ["id", "name", "name_key", "name_fold", "slug", "acronym", "kind", "website",
             "description", "country", "city", "founded_year", "notes", "created_at", "updated_at",
             "public_statement_count", "cosigners_kept"],
            (
                _organization_row(org_id, n, rng, now)
                for n, org_id in enumerate(org_ids, start=1)
            ),
        )  # fmt: skip

        first_statement = _next_id(Statement)
        statement_ids = list(range(first_statement, first_statement + sizes.statements))
        start = datetime.date(2000, 1, 1)
        span = (datetime.date(2025, 12, 31) - start).days
        issued = [start + datetime.timedelta(days=rng.randrange(span)) for _ in statement_ids]
        statuses = rng.choices(
            [Statement.Status.PUBLISHED, Statement.Status.DRAFT, Statement.Status.RETRACTED],
            weights=[95, 3, 2],
            k=sizes.statements,
        )
        statuses[0] = Statement.Status.PUBLISHED  # the 500-signatory one is public
        log(f"statements: {sizes.statements:,}")
        _copy(
            Statement,
            ["id", "title", "slug", "kind", "status", "issued_on", "place", "summary",
             "full_text", "ask", "source_url", "document", "published_at", "retraction_note",
             "notes", "created_at", "updated_at"],
            (
                _statement_row(statement_id, n, issued[n - 1], statuses[n - 1], rng, now)
                for n, statement_id in enumerate(statement_ids, start=1)
            ),
        )  # fmt: skip
        _copy(
            Statement.topics.through,
            ["statement_id", "topic_id"],
            ((statement_id, topic.pk) for statement_id in statement_ids),
        )

        # A few hub organisations sign thousands of statements: choose signers with
        # weights falling as 1/rank (Zipf), without repeats within a statement.
        weights = list(accumulate(1 / rank for rank in range(1, sizes.organizations + 1)))
        shuffled = org_ids[:]
        rng.shuffle(shuffled)
        log(f"signatures: {sum(counts):,}")
        first_signature = _next_id(Signature)
        _copy(
            Signature,
            ["id", "statement_id", "organization_id", "role", "name_as_printed", "position",
             "joined_on", "withdrawn_on", "withdrawal_reason"],
            _signature_rows(first_signature, statement_ids, issued, counts, shuffled, weights,
                            rng),
        )  # fmt: skip
        for model in (Organization, Statement, Signature):
            _reset_sequence(model)
        # Statistics first: without them the planner counts a million rows once for each
        # of the 20,000 organisations below.
        _analyze(Organization, Statement, Signature, Statement.topics.through)
        # COPY goes around the services: count the organisations' public statements, and
        # who signed with whom, in one go.
        log("counts and co-signing table")
        derived.rebuild()
    _analyze(Cosigning)
    return {
        "organizations": sizes.organizations,
        "statements": sizes.statements,
        "signatures": sum(counts),
    }


def _organization_row(org_id, n, rng, now):
    words = [rng.choice(_PLACES), rng.choice(_CAUSES), rng.choice(_WORDS)]
    name = f"{' '.join(words)} {n}"
    acronym = "".join(w[0] for w in words) + str(n) if rng.random() < 0.3 else ""
    return (
        org_id, name, name_key(name), fold(name), f"{PREFIX}org-{n}", acronym, "", "", "",
        "United States", "", None, NOTE, now, now, 0, False,
    )  # fmt: skip


def _statement_row(statement_id, n, issued_on, status, rng, now):
    cause = rng.choice(_CAUSES)
    title = f"Synthetic joint statement {n} on {cause.lower()}"
    retracted = status == Statement.Status.RETRACTED
    return (
        statement_id, title, f"{PREFIX}statement-{n}", Statement.Kind.JOINT_STATEMENT, status,
        issued_on, "", f"A synthetic statement about {cause.lower()}.", "", "", "", "",
        None if status == Statement.Status.DRAFT else now,
        "Synthetic retraction." if retracted else "", NOTE, now, now,
    )  # fmt: skip


def _signature_rows(next_id, statement_ids, issued, counts, orgs, weights, rng):
    for index, statement_id in enumerate(statement_ids):
        wanted = counts[index]
        chosen: dict[int, None] = {}
        while len(chosen) < wanted:
            for org_index in rng.choices(
                range(len(orgs)), cum_weights=weights, k=wanted - len(chosen)
            ):
                chosen.setdefault(orgs[org_index], None)
            if len(chosen) < wanted and wanted > len(orgs) // 2:
                # Nearly every organisation signs: fill in order instead of drawing.
                for org in orgs:
                    if len(chosen) >= wanted:
                        break
                    chosen.setdefault(org, None)
        leads = 1 + (rng.random() < 0.3)
        for position, org_id in enumerate(chosen, start=1):
            joined = issued[index]
            if rng.random() < 0.05:
                joined += datetime.timedelta(days=rng.randrange(1, 60))
            withdrawn = None
            if rng.random() < 0.01:
                withdrawn = joined + datetime.timedelta(days=rng.randrange(1, 365))
            yield (
                next_id, statement_id, org_id,
                Signature.Role.LEAD if position <= leads else Signature.Role.SIGNATORY,
                "", position, joined, withdrawn, "",
            )  # fmt: skip
            next_id += 1
