"""
What the change log's triggers cost the biggest bulk write there is: one UPDATE moving a hub's
16,000 signatures (16,000 public statements) to another organisation, as a merge does, with
the triggers and, for comparison, with the change-log triggers disabled. Each is timed to the
end of COMMIT (the log's rows are numbered at commit), on a scratch database it builds and
drops.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_x .venv/bin/python bench/change_log.py

DATABASE_URL names the server and a database to take the name from (`<name>_change_log_bench`
is created beside it, migrated, and dropped at the end).
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("ROWS", "16000"))


def main() -> None:
    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/") + "_change_log_bench"
    scratch = urlunsplit(url._replace(path="/" + name))
    admin = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {**os.environ, "DATABASE_URL": scratch}
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], check=True, env=env, cwd=ROOT)
        with psycopg.connect(scratch, autocommit=True) as conn:
            build(conn)
            for label, enabled in (("with the change log", True), ("without", False)):
                if os.environ.get("KEEP"):
                    break
                for _ in range(2):
                    print(f"{label}: {move(conn, enabled):.3f} s", flush=True)
    finally:
        if not os.environ.get("KEEP"):  # KEEP=1: build it and leave it, to look at
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build(conn) -> None:
    """ROWS public statements, each signed by the hub and by one other organisation."""
    with conn.transaction():
        conn.execute(
            "INSERT INTO organizations_organization (name, name_key, slug, acronym, kind, "
            "website, description, country, city, notes, created_at, updated_at, "
            "public_statement_count, cosigners_kept) "
            "SELECT 'Organisation ' || n, 'organisation ' || n, 'organisation-' || n, '', "
            "'ngo', '', '', '', '', '', now(), now(), 1, false FROM generate_series(0, %s) n",
            [ROWS],
        )
        conn.execute(
            "UPDATE organizations_organization SET public_statement_count = %s "
            "WHERE slug IN ('organisation-0', 'organisation-1')",
            [ROWS],
        )
        conn.execute(
            "INSERT INTO statements_statement (title, slug, kind, status, issued_on, place, "
            "summary, full_text, ask, source_url, document, published_at, retraction_note, "
            "notes, created_at, updated_at) "
            "SELECT 'Statement ' || n, 'statement-' || n, 'joint_statement', 'published', "
            "date '2020-01-01' + n %% 2000, '', '', '', '', '', '', now(), '', '', now(), now() "
            "FROM generate_series(1, %s) n",
            [ROWS],
        )
        conn.execute(
            "INSERT INTO statements_signature (statement_id, organization_id, role, "
            "name_as_printed, position, joined_on, withdrawal_reason) "
            "SELECT s.id, o.id, 'signatory', '', 1, s.issued_on, '' "
            "FROM statements_statement s, organizations_organization o "
            "WHERE o.slug = 'organisation-0' "
            "UNION ALL "
            "SELECT s.id, o.id, 'signatory', '', 2, s.issued_on, '' "
            "FROM statements_statement s JOIN organizations_organization o "
            "ON o.slug = 'organisation-' || (s.id %% %s + 2)",
            [ROWS - 1],
        )
    conn.execute("VACUUM ANALYZE")


def move(conn, enabled: bool) -> float:
    """The hub's signatures to organisation-1 and back (the back move untimed)."""
    ids = dict(
        conn.execute(
            "SELECT slug, id FROM organizations_organization "
            "WHERE slug IN ('organisation-0', 'organisation-1')"
        ).fetchall()
    )
    hub, other = ids["organisation-0"], ids["organisation-1"]
    action = "ENABLE" if enabled else "DISABLE"
    for op in ("insert", "update", "delete"):
        conn.execute(f"ALTER TABLE statements_signature {action} TRIGGER tracker_changes_{op}")
    started = time.perf_counter()
    with conn.transaction():
        moved = conn.execute(
            "UPDATE statements_signature SET organization_id = %s WHERE organization_id = %s",
            [other, hub],
        ).rowcount
    elapsed = time.perf_counter() - started
    assert moved == ROWS, moved
    logged = conn.execute("SELECT count(*) FROM statements_change").fetchone()[0]
    print(f"  ({moved} signatures moved; {logged} change rows in all)")
    conn.execute(
        "ALTER TABLE statements_signature DISABLE TRIGGER USER",
    )
    conn.execute(
        "UPDATE statements_signature SET organization_id = %s WHERE organization_id = %s",
        [hub, other],
    )
    conn.execute("ALTER TABLE statements_signature ENABLE TRIGGER USER")
    return elapsed


if __name__ == "__main__":
    main()
