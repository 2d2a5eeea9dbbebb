"""
The floor: the API's benchmarked endpoints served by a minimal WSGI app, plain psycopg and
orjson, with no framework.

Each endpoint fetches the same rows the API returns (same fields, page size and order,
drafts left out the same way, counts where the API gives counts) with hand-written SQL and
answers the same JSON, links included, so the benchmark compares the API with the least
work that could produce its answer. tests/test_bench_floor.py checks that the two agree.

Only the requests the benchmark makes are served: the first page of a list, no filters.
Every response carries `X-Queries`, the number of SQL statements it ran.

Served by gunicorn with DATABASE_URL set, e.g.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker \\
        .venv/bin/gunicorn --chdir bench floor:application
"""

import base64
import os
import re
import threading
from urllib.parse import parse_qs, quote, urlencode

import orjson
import psycopg

PUBLIC = "('published', 'retracted')"
STATEMENTS_PAGE = TIMELINE_PAGE = COSIGNERS_PAGE = 50
SIGNATURES_PAGE = 100

_local = threading.local()


def connection() -> psycopg.Connection:
    """
    One connection per thread, kept open, as Django keeps its own (CONN_MAX_AGE). Statements
    are not prepared, as Django's are not: a prepared statement soon gets a generic plan,
    which on skewed data (one organisation with 16,000 signatures, most with a handful)
    can be far worse than the plan made for the actual values.
    """
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(
            os.environ["DATABASE_URL"],
            autocommit=True,
            prepare_threshold=None,
            # As the product's web processes connect (tracker/settings.py).
            options="-c jit=off -c max_parallel_workers_per_gather=0",
        )
        _local.conn = conn
    return conn


class Db:
    """Runs SQL and counts the statements, for the X-Queries header."""

    def __init__(self):
        self.conn = connection()
        self.queries = 0

    def all(self, sql: str, params=()) -> list[tuple]:
        self.queries += 1
        return self.conn.execute(sql, params).fetchall()


def organization_ref(base: str, slug: str, name: str, acronym: str) -> dict:
    return {
        "slug": slug,
        "name": name,
        "acronym": acronym,
        "url": f"{base}/api/v1/organizations/{slug}/",
    }


def statement_ref(base: str, slug, title, kind, status, issued_on) -> dict:
    return {
        "slug": slug,
        "title": title,
        "kind": kind,
        "status": status,
        "issued_on": issued_on,
        "url": f"{base}/api/v1/statements/{slug}/",
    }


def page_number_response(base: str, path: str, count: int, size: int, results: list) -> dict:
    return {
        "count": count,
        "next": f"{base}{path}?page=2" if count > size else None,
        "previous": None,
        "results": results,
    }


def partial_date(value, precision: str) -> str:
    """A coverage date as the API writes it: YYYY, YYYY-MM or YYYY-MM-DD, or empty."""
    if value is None:
        return ""
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def statement_list(db: Db, base: str, query: dict):
    # The page first (the status and date index), then its counts and topics per row.
    rows = db.all(
        f"""
        SELECT s.slug, s.title, s.kind, s.status, s.issued_on, s.place, s.ask,
               ARRAY(SELECT t.slug FROM statements_statement_topics st
                     JOIN statements_topic t ON t.id = st.topic_id
                     WHERE st.statement_id = s.id ORDER BY t.name),
               (SELECT count(*) FROM statements_signature g
                WHERE g.statement_id = s.id AND g.role = 'lead'),
               (SELECT count(*) FROM statements_signature g
                WHERE g.statement_id = s.id AND g.role = 'signatory'),
               (SELECT count(*) FROM statements_statement WHERE status IN {PUBLIC})
        FROM (SELECT * FROM statements_statement WHERE status IN {PUBLIC}
              ORDER BY issued_on DESC, id DESC LIMIT %s) s
        ORDER BY s.issued_on DESC, s.id DESC
        """,
        (STATEMENTS_PAGE,),
    )
    count = rows[0][-1] if rows else 0
    results = [
        {
            "slug": slug,
            "title": title,
            "kind": kind,
            "status": status,
            "issued_on": issued_on,
            "place": place,
            "ask": ask,
            "topics": topics,
            "lead_count": leads,
            "signatory_count": signatories,
            "url": f"{base}/api/v1/statements/{slug}/",
        }
        for slug, title, kind, status, issued_on, place, ask, topics, leads, signatories, _ in rows
    ]
    return 200, page_number_response(base, "/api/v1/statements/", count, STATEMENTS_PAGE, results)


def statement_detail(db: Db, base: str, query: dict, slug: str):
    found = db.all(
        f"""
        SELECT s.id, s.slug, s.title, s.kind, s.status, s.issued_on, s.place, s.ask,
               s.summary, s.full_text, s.source_url, s.retraction_note,
               ARRAY(SELECT t.slug FROM statements_statement_topics st
                     JOIN statements_topic t ON t.id = st.topic_id
                     WHERE st.statement_id = s.id ORDER BY t.name),
               ARRAY(SELECT t.name FROM statements_statement_topics st
                     JOIN statements_topic t ON t.id = st.topic_id
                     WHERE st.statement_id = s.id ORDER BY t.name)
        FROM statements_statement s WHERE s.slug = %s AND s.status IN {PUBLIC}
        """,
        (slug,),
    )
    if not found:
        return 404, {"detail": "No Statement matches the given query."}
    (pk, slug, title, kind, status, issued_on, place, ask, summary, full_text, source_url,
     retraction_note, topic_slugs, topic_names) = found[0]  # fmt: skip
    signatures = [
        {
            "position": position,
            "organization": organization_ref(base, org_slug, org_name, acronym),
            "role": role,
            "name_as_printed": printed or org_name,
            "joined_on": joined_on,
            "withdrawn_on": withdrawn_on,
            "withdrawal_reason": reason,
        }
        for position, org_slug, org_name, acronym, role, printed, joined_on, withdrawn_on, reason
        in db.all(
            """
            SELECT g.position, o.slug, o.name, o.acronym, g.role, g.name_as_printed,
                   g.joined_on, g.withdrawn_on, g.withdrawal_reason
            FROM statements_signature g JOIN organizations_organization o
              ON o.id = g.organization_id
            WHERE g.statement_id = %s ORDER BY g.position, g.id
            """,
            (pk,),
        )
    ]  # fmt: skip
    contacts = [
        {
            "organization": None
            if org_slug is None
            else organization_ref(base, org_slug, org_name, acronym),
            "name": name,
            "email": email,
            "phone": phone,
        }
        for org_slug, org_name, acronym, name, email, phone in db.all(
            """
            SELECT o.slug, o.name, o.acronym, c.name, c.email, c.phone
            FROM statements_mediacontact c
            LEFT JOIN organizations_organization o ON o.id = c.organization_id
            WHERE c.statement_id = %s AND c.is_public ORDER BY c.position, c.id
            """,
            (pk,),
        )
    ]
    coverage = [
        coverage_item(*row)
        for row in db.all(
            """
            SELECT outlet, headline, url, date, date_precision, kind, first_reported
            FROM statements_coveragelink WHERE statement_id = %s ORDER BY position, id
            """,
            (pk,),
        )
    ]
    quotes = [
        {
            "speaker": speaker,
            "speaker_title": speaker_title,
            "organization": None
            if org_slug is None
            else organization_ref(base, org_slug, org_name, acronym),
            "text": text,
            "source": None if source_outlet is None else coverage_item(source_outlet, *source),
        }
        for speaker, speaker_title, org_slug, org_name, acronym, text, source_outlet, *source
        in db.all(
            """
            SELECT q.speaker, q.speaker_title, o.slug, o.name, o.acronym, q.text,
                   c.outlet, c.headline, c.url, c.date, c.date_precision, c.kind,
                   c.first_reported
            FROM statements_quote q
            LEFT JOIN organizations_organization o ON o.id = q.organization_id
            LEFT JOIN statements_coveragelink c ON c.id = q.source_id
            WHERE q.statement_id = %s ORDER BY q.position, q.id
            """,
            (pk,),
        )
    ]  # fmt: skip
    # Every signature is on the page, so the counts come from it rather than another query.
    leads = sum(1 for signature in signatures if signature["role"] == "lead")
    return 200, {
        "slug": slug,
        "title": title,
        "kind": kind,
        "status": status,
        "issued_on": issued_on,
        "place": place,
        "ask": ask,
        "topics": [{"slug": s, "name": n} for s, n in zip(topic_slugs, topic_names, strict=True)],
        "lead_count": leads,
        "signatory_count": sum(1 for s in signatures if s["role"] == "signatory"),
        "url": f"{base}/api/v1/statements/{slug}/",
        "summary": summary,
        "full_text": full_text,
        "source_url": source_url,
        "retraction_note": retraction_note,
        "signatures": signatures,
        "media_contacts": contacts,
        "coverage": coverage,
        "quotes": quotes,
    }


def coverage_item(outlet, headline, url, date, precision, kind, first_reported) -> dict:
    return {
        "outlet": outlet,
        "headline": headline,
        "url": url,
        "date": partial_date(date, precision),
        "kind": kind,
        "first_reported": first_reported,
    }


def timeline(db: Db, base: str, query: dict, slug: str):
    # An organisation is public exactly when it has a public signature.
    # Its count of public statements is kept on the organisation, as the app reads it.
    found = db.all(
        "SELECT id, name, public_statement_count FROM organizations_organization WHERE slug = %s",
        (slug,),
    )
    if not found or not found[0][2]:
        return 404, {"detail": "No Organization matches the given query."}
    pk, name, count = found[0]
    # The organisation's id as a value, not a join, so that the plan fits its number of
    # signatures (an organisation on nearly every statement walks statements by date).
    rows = db.all(
        f"""
        SELECT s.slug, s.title, s.kind, s.status, s.issued_on, g.role, g.name_as_printed,
               g.joined_on, g.withdrawn_on, g.withdrawal_reason
        FROM statements_signature g JOIN statements_statement s ON s.id = g.statement_id
        WHERE g.organization_id = %s AND s.status IN {PUBLIC}
        ORDER BY s.issued_on, g.statement_id
        LIMIT %s
        """,
        (pk, TIMELINE_PAGE),
    )
    results = [
        {
            "statement": statement_ref(base, *row[:5]),
            "role": row[5],
            "name_as_printed": row[6] or name,
            "joined_on": row[7],
            "withdrawn_on": row[8],
            "withdrawal_reason": row[9],
        }
        for row in rows
    ]
    path = f"/api/v1/organizations/{slug}/timeline/"
    return 200, page_number_response(base, path, count, TIMELINE_PAGE, results)


def cosigners(db: Db, base: str, query: dict, slug: str):
    found = db.all(
        "SELECT id, public_statement_count, cosigners_kept FROM organizations_organization "
        "WHERE slug = %s",
        (slug,),
    )
    if not found or not found[0][1]:
        return 404, {"detail": "No Organization matches the given query."}
    pk, _, kept = found[0]
    if kept:
        # The co-signing table the product keeps for such organisations, as the app reads it:
        # the page's rows, then the dates each pair shared, for those rows only, each found
        # the cheaper way (walking the statements by date for a frequent co-signer, through
        # the co-signer's own signatures for a rare one).
        both = (
            "EXISTS (SELECT 1 FROM statements_signature k WHERE k.statement_id = st.id "
            "AND k.organization_id = %(pk)s)"
        )
        walk = (
            f"(SELECT st.issued_on FROM statements_statement st WHERE st.status IN {PUBLIC} "
            f"AND {both} AND EXISTS (SELECT 1 FROM statements_signature x "
            f"WHERE x.statement_id = st.id AND x.organization_id = p.id) "
            f"ORDER BY st.issued_on {{}} LIMIT 1)"
        )
        through = (
            f"(SELECT {{}}(st.issued_on) FROM statements_signature x "
            f"JOIN statements_statement st ON st.id = x.statement_id "
            f"WHERE x.organization_id = p.id AND st.status IN {PUBLIC} AND {both})"
        )
        cheaper = (
            f"CAST(p.shared_count AS BIGINT) * p.public_statement_count >= "
            f"(SELECT count(*) FROM statements_statement WHERE status IN {PUBLIC})"
        )
        rows = db.all(
            f"""
            WITH page AS (
                SELECT o.id, o.slug, o.name, o.acronym, o.public_statement_count,
                       c.shared_count,
                       (SELECT count(*) FROM organizations_cosigning
                        WHERE organization_id = %(pk)s) AS total
                FROM organizations_cosigning c
                JOIN organizations_organization o ON o.id = c.other_id
                WHERE c.organization_id = %(pk)s
                ORDER BY c.shared_count DESC, o.name, o.id
                LIMIT %(size)s
            )
            SELECT p.slug, p.name, p.acronym, p.shared_count,
                   CASE WHEN {cheaper} THEN {walk.format("ASC")}
                        ELSE {through.format("min")} END,
                   CASE WHEN {cheaper} THEN {walk.format("DESC")}
                        ELSE {through.format("max")} END,
                   p.total
            FROM page p
            ORDER BY p.shared_count DESC, p.name, p.id
            """,
            {"pk": pk, "size": COSIGNERS_PAGE},
        )
    else:
        # One signature per organisation per statement, so count(*) counts statements.
        rows = db.all(
            f"""
            WITH shared AS (
                SELECT g.statement_id, s.issued_on
                FROM statements_signature g
                JOIN statements_statement s ON s.id = g.statement_id
                WHERE g.organization_id = %(pk)s AND s.status IN {PUBLIC}
            ), together AS (
                SELECT g.organization_id, count(*) AS shared_count,
                       min(sh.issued_on) AS first_shared_on, max(sh.issued_on) AS last_shared_on
                FROM statements_signature g JOIN shared sh ON sh.statement_id = g.statement_id
                WHERE g.organization_id <> %(pk)s
                GROUP BY g.organization_id
            )
            SELECT o.slug, o.name, o.acronym, t.shared_count, t.first_shared_on,
                   t.last_shared_on, count(*) OVER ()
            FROM together t JOIN organizations_organization o ON o.id = t.organization_id
            ORDER BY t.shared_count DESC, o.name, o.id
            LIMIT %(size)s
            """,
            {"pk": pk, "size": COSIGNERS_PAGE},
        )
    statements = f"{base}/api/v1/statements/?signed_by={slug}&signed_by="
    results = [
        {
            "organization": organization_ref(base, org_slug, name, acronym),
            "shared_count": shared_count,
            "first_shared_on": first,
            "last_shared_on": last,
            "shared_statements_url": statements + org_slug,
        }
        for org_slug, name, acronym, shared_count, first, last, _ in rows
    ]
    count = rows[0][6] if rows else 0
    path = f"/api/v1/organizations/{slug}/cosigners/"
    return 200, page_number_response(base, path, count, COSIGNERS_PAGE, results)


def cursor_link(base: str, **tokens) -> str:
    """A link to the page at a keyset position, encoded as the API encodes it."""
    encoded = base64.b64encode(urlencode(tokens).encode("ascii")).decode("ascii")
    return f"{base}/api/v1/signatures/?cursor={quote(encoded, safe='')}"


def signatures(db: Db, base: str, query: dict):
    after = None
    if "cursor" in query:
        tokens = parse_qs(base64.b64decode(query["cursor"][0]).decode("ascii"))
        after = int(tokens["p"][0])
    rows = db.all(
        f"""
        SELECT g.id, s.slug, s.title, s.kind, s.status, s.issued_on, o.slug, o.name, o.acronym,
               g.role, g.name_as_printed, g.position, g.joined_on, g.withdrawn_on,
               g.withdrawal_reason
        FROM statements_signature g
        JOIN statements_statement s ON s.id = g.statement_id
        JOIN organizations_organization o ON o.id = g.organization_id
        WHERE s.status IN {PUBLIC} AND g.id > %s
        ORDER BY g.id
        LIMIT %s
        """,
        (after if after is not None else 0, SIGNATURES_PAGE + 1),
    )
    page = rows[:SIGNATURES_PAGE]
    results = [
        {
            "id": row[0],
            "statement": statement_ref(base, *row[1:6]),
            "organization": organization_ref(base, *row[6:9]),
            "role": row[9],
            "name_as_printed": row[10] or row[7],
            "position": row[11],
            "joined_on": row[12],
            "withdrawn_on": row[13],
            "withdrawal_reason": row[14],
        }
        for row in page
    ]
    has_next = len(rows) > SIGNATURES_PAGE
    return 200, {
        "next": cursor_link(base, p=page[-1][0]) if has_next else None,
        "previous": cursor_link(base, r=1, p=page[0][0]) if after is not None and page else None,
        "results": results,
    }


SLUG = r"([-a-zA-Z0-9_]+)"
ROUTES = [
    (re.compile(r"^/api/v1/statements/$"), statement_list),
    (re.compile(rf"^/api/v1/statements/{SLUG}/$"), statement_detail),
    (re.compile(rf"^/api/v1/organizations/{SLUG}/timeline/$"), timeline),
    (re.compile(rf"^/api/v1/organizations/{SLUG}/cosigners/$"), cosigners),
    (re.compile(r"^/api/v1/signatures/$"), signatures),
]


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    query = parse_qs(environ.get("QUERY_STRING", ""))
    base = f"{environ['wsgi.url_scheme']}://{environ['HTTP_HOST']}"
    db = None
    for pattern, view in ROUTES:
        match = pattern.match(path)
        if match:
            db = Db()
            status, payload = view(db, base, query, *match.groups())
            break
    else:
        status, payload = 404, {"detail": "Not found."}
    body = orjson.dumps(payload)
    start_response(
        "200 OK" if status == 200 else "404 Not Found",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("X-Queries", str(db.queries if db else 0)),
        ],
    )
    return [body]
