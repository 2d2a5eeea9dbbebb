"""
The triggers that write the change log (statements.Change), kept here for migration
0010_change_log and for the SQLite upkeep around every `migrate` (statements.apps). This
module imports no model: the app config imports it before the models are ready.

They write the log on every public table, in the writing transaction: whatever writes — the
ORM, a bulk update, raw SQL — logs.

PostgreSQL: statement-level triggers read the rows a statement wrote from its transition
tables and log each public address they touch once (INSERT ... SELECT DISTINCT, and a unique
index on the transaction for "changed"), so one UPDATE of 16,000 signatures writes one row
per statement, not one per signature. When the transaction commits, a deferred trigger numbers
its rows afresh under one lock every committing writer of the log takes in turn (a transaction
advisory lock) if another transaction committed rows with later ids meanwhile, so that ids
follow the order of commits and "everything after id N" misses nothing. A TRUNCATE of a public
table names no rows: it empties the log instead, so that whoever reads on from a position
(tracker.response_cache) finds that position gone.

SQLite (development): row triggers. SQLite has no transaction number, but its 'now' is fixed
for the length of a statement: a "changed" row logged again by the same statement (its time,
to the millisecond, standing for the transaction) replaces the first with a new id, so that
one UPDATE of many rows logs each address once, and a change is never hidden behind an id a
reader has already read. SQLite drops a table's triggers when a migration rebuilds the
table, and refuses to rebuild a table other tables' triggers refer to: so every `migrate` drops
these triggers first and puts them back at its end as the models then stand
(statements.change_triggers.drop_sqlite_triggers / install_after_migrate, connected in
statements.apps). A migration that rebuilds a table needs nothing for them.

What counts as public is written once below (the *_PUBLIC templates); `{r}` is the row.
"""

from django.apps import apps as global_apps
from django.db import connections

CHANGE_TABLE = "statements_change"

TABLES = [
    "statements_statement",
    "statements_statement_topics",
    "statements_signature",
    "statements_topic",
    "statements_mediacontact",
    "statements_coveragelink",
    "statements_quote",
    "organizations_organization",
    "organizations_othername",
    "organizations_formerslug",
]

STATEMENT_PUBLIC = "({r}.status IN ('published', 'retracted'))"
ORGANIZATION_PUBLIC = "({r}.public_statement_count > 0)"
# Other names and former slugs: public unless withheld for a draft (as WithheldQuerySet.public).
# The column comes with organizations 0011_withheld_flag; no row of either table is written
# between this migration and that one.
WITHHELD_PUBLIC = "(NOT {r}.withheld)"
TOPIC_PUBLIC = (
    "EXISTS (SELECT 1 FROM statements_statement_topics pl, statements_statement ps "
    "WHERE pl.topic_id = {r}.id AND ps.id = pl.statement_id AND "
    + STATEMENT_PUBLIC.format(r="ps")
    + ")"
)

# Columns nobody outside the staff sees: a write that changes only these logs nothing.
STAFF_ONLY = {
    "statements_statement": ["notes", "created_at", "updated_at", "search_vector"],
    "statements_coveragelink": ["notes"],
    "organizations_organization": [
        "notes",
        "created_at",
        "updated_at",
        "name_key",
        "name_fold",
        "cosigners_kept",
    ],
    "organizations_othername": ["name_key", "name_fold"],
}


def _statement(t):
    return (
        "SELECT 'statement', s.id, s.slug, 'changed' "
        f"FROM {{touched}}statements_statement s WHERE s.id = {t}.statement_id AND "
        + STATEMENT_PUBLIC.format(r="s")
    )


def _organization_on_statement(t):
    """The organisation of a part of a statement, shown only while the statement is public."""
    return (
        "SELECT 'organization', g.id, g.slug, 'changed' "
        f"FROM {{touched}}organizations_organization g, statements_statement s "
        f"WHERE g.id = {t}.organization_id AND s.id = {t}.statement_id AND "
        + ORGANIZATION_PUBLIC.format(r="g")
        + " AND "
        + STATEMENT_PUBLIC.format(r="s")
    )


def _organization(t):
    return (
        "SELECT 'organization', g.id, g.slug, 'changed' FROM {touched}organizations_organization g "
        f"WHERE g.id = {t}.organization_id AND " + ORGANIZATION_PUBLIC.format(r="g")
    )


def _topic_of_link(t):
    return (
        "SELECT 'topic', tp.id, tp.slug, 'changed' "
        "FROM {touched}statements_topic tp, statements_statement s "
        f"WHERE tp.id = {t}.topic_id AND s.id = {t}.statement_id AND "
        + STATEMENT_PUBLIC.format(r="s")
    )


# A part of a record: when it counts (None: always), and the records whose pages show it.
PARTS = {
    "statements_signature": (None, [_statement, _organization_on_statement]),
    "statements_mediacontact": ("{r}.is_public", [_statement, _organization_on_statement]),
    "statements_coveragelink": (None, [_statement]),
    "statements_quote": (None, [_statement, _organization_on_statement]),
    "statements_statement_topics": (None, [_statement, _topic_of_link]),
    "organizations_othername": (WITHHELD_PUBLIC, [_organization]),
    "organizations_formerslug": (WITHHELD_PUBLIC, [_organization]),
}

# A record with a public address: whether it is public now, and its kind in the log.
RECORDS = {
    "statements_statement": ("statement", STATEMENT_PUBLIC),
    "organizations_organization": ("organization", ORGANIZATION_PUBLIC),
    "statements_topic": ("topic", TOPIC_PUBLIC),
}


def _action(o, n, public):
    was, now = public.format(r=o), public.format(r=n)
    return (
        f"CASE WHEN {was} AND {now} THEN 'changed' WHEN {now} THEN 'published' "
        "ELSE 'unpublished' END"
    )


def _record_rows(table, op, o, n, differ, touched, *, lateral=False):
    """SELECTs of (kind, object_id, slug, action) a write of a record logs."""
    kind, public = RECORDS[table]
    if table == "statements_topic":
        # Whether a topic is public depends on its links, not its row: a new topic has none,
        # and a topic's links go before it does. A topic deleted after being in the log is
        # logged deleted (that reveals nothing the log did not tell already).
        if op == "INSERT":
            return []
        if op == "DELETE":
            ever = (
                f"EXISTS (SELECT 1 FROM statements_change c WHERE c.kind = 'topic' "
                f"AND c.object_id = {o}.id)"
            )
            return [
                f"SELECT 'topic', {o}.id, {o}.slug, 'deleted' FROM {touched} "
                f"WHERE {public.format(r=o)} OR {ever}"
            ]
        now = public.format(r=n)
        return [
            f"SELECT 'topic', {n}.id, {n}.slug, 'changed' FROM {touched} WHERE {now} AND {differ}",
            f"SELECT 'topic', {o}.id, {o}.slug, 'changed' FROM {touched} "
            f"WHERE {now} AND {o}.slug <> {n}.slug",
        ]
    if op == "INSERT":
        return [
            f"SELECT '{kind}', {n}.id, {n}.slug, 'created' FROM {touched} WHERE "
            + public.format(r=n)
        ]
    if op == "DELETE":
        return [
            f"SELECT '{kind}', {o}.id, {o}.slug, 'deleted' FROM {touched} WHERE "
            + public.format(r=o)
        ]
    was, now = public.format(r=o), public.format(r=n)
    action = _action(o, n, public)
    if table == "organizations_organization":
        # An organisation with no public statement has no page of its own, but a public
        # statement may still name it (a public media contact's or a quote's organisation):
        # its change is that statement's change. Read from the few rows that name it.
        naming = (
            "SELECT m.statement_id FROM statements_mediacontact m "
            f"WHERE m.organization_id = {n}.id AND m.is_public "
            "UNION SELECT q.statement_id FROM statements_quote q "
            f"WHERE q.organization_id = {n}.id "
            "UNION SELECT g.statement_id FROM statements_signature g "
            f"WHERE g.organization_id = {n}.id"
        )
        # PostgreSQL: for each row written that qualifies, along the organisation's indexes
        # (LATERAL), never a join over every signature. SQLite's row trigger has one row.
        source = (
            f"{touched} CROSS JOIN LATERAL ({naming}) x(statement_id) "
            "JOIN statements_statement s ON s.id = x.statement_id"
            if lateral
            else f"{touched}, statements_statement s"
        )
        named = "TRUE" if lateral else f"s.id IN ({naming})"
        hidden = [
            f"SELECT 'statement', s.id, s.slug, 'changed' FROM {source} "
            f"WHERE NOT {was} AND NOT {now} AND {differ} AND {named} AND "
            + STATEMENT_PUBLIC.format(r="s")
        ]
    else:
        hidden = []
    rows = [
        *hidden,
        f"SELECT '{kind}', {n}.id, {n}.slug, {action} FROM {touched} "
        f"WHERE ({was} OR {now}) AND {differ}",
        # The old address as well, when the slug changed: it no longer answers.
        f"SELECT '{kind}', {o}.id, {o}.slug, {action} FROM {touched} "
        f"WHERE {was} AND {o}.slug <> {n}.slug",
    ]
    if table == "statements_statement":
        # Publishing or unpublishing a statement adds it to, or takes it from, its topics.
        source = f"{touched}, statements_statement_topics l, statements_topic tp"
        rows.append(
            f"SELECT 'topic', tp.id, tp.slug, 'changed' FROM {source} "
            f"WHERE l.statement_id = {n}.id AND tp.id = l.topic_id AND {was} <> {now}"
        )
    return rows


# --- PostgreSQL ---------------------------------------------------------------------------

PG_INSERT = """
INSERT INTO statements_change (changed_at, kind, object_id, slug, action, transaction_key)
SELECT DISTINCT now(), kind, object_id, slug, action, txid_current() FROM (
{rows}
) AS logged (kind, object_id, slug, action)
ON CONFLICT (transaction_key, kind, object_id, slug, action) WHERE action = 'changed' DO NOTHING;
"""


def _pg_differ(table, o, n):
    staff = STAFF_ONLY.get(table)
    if not staff:
        return f"ROW({o}.*) IS DISTINCT FROM ROW({n}.*)"
    columns = "ARRAY[" + ", ".join(f"'{c}'" for c in staff) + "]"
    return f"(to_jsonb({o}) - {columns}) IS DISTINCT FROM (to_jsonb({n}) - {columns})"


def _pg_statement(table, op):
    """The SQL one statement of `op` on `table` runs to log what it wrote."""
    pair = "old_rows o JOIN new_rows n ON n.id = o.id"
    differ = _pg_differ(table, "o", "n")
    if table in RECORDS:
        touched = {"INSERT": "new_rows n", "DELETE": "old_rows o", "UPDATE": pair}[op]
        rows = _record_rows(table, op, "o", "n", differ, touched, lateral=True)
        if not rows:
            return ""
        return PG_INSERT.format(rows="\nUNION ALL\n".join(rows))
    counts, parents = PARTS[table]
    t_counts = counts.format(r="t") if counts else "TRUE"
    if op == "INSERT":
        touched_sql = "SELECT n.* FROM new_rows n"
    elif op == "DELETE":
        touched_sql = "SELECT o.* FROM old_rows o"
    else:
        touched_sql = (
            f"SELECT t.* FROM {pair} CROSS JOIN LATERAL (SELECT o.* UNION ALL SELECT n.*) t "
            f"WHERE {differ}"
        )
    rows = "\nUNION ALL\n".join(
        parent("t").format(touched="touched t, ") + f" AND {t_counts}" for parent in parents
    )
    return f"WITH touched AS ({touched_sql})" + PG_INSERT.format(rows=rows)


# Without statistics on transition tables the planner guesses millions of rows, and JIT
# compiling for that took longer (2.7 s) than the query (0.6 s) for a 16,000-row UPDATE.
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION tracker_changes_{table}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {insert}
    ELSIF TG_OP = 'UPDATE' THEN
        {update}
    ELSE
        {delete}
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql SET jit = off;
"""

PG_TRIGGERS = """
CREATE TRIGGER tracker_changes_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tracker_changes_{table}();
CREATE TRIGGER tracker_changes_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tracker_changes_{table}();
CREATE TRIGGER tracker_changes_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tracker_changes_{table}();
CREATE TRIGGER tracker_changes_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION tracker_changes_truncated();
"""

# TRUNCATE names no rows, so nothing can say which addresses it changed: the log starts
# again (its ids go on from where they were). A reader that remembers a position in it finds
# that position gone, and must take everything as changed.
PG_TRUNCATED = """
CREATE OR REPLACE FUNCTION tracker_changes_truncated() RETURNS trigger AS $$
BEGIN
    DELETE FROM statements_change;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

# At commit, while the transaction holds the log's commit lock (a transaction advisory lock,
# which every committing writer of the log takes in turn and holds until its commit is
# visible): if another transaction has committed rows with ids after this one's first, this
# one's rows get fresh ids, in the order they were written, so that a later commit always has
# later ids. A transaction that is not READ COMMITTED cannot see commits after its snapshot,
# so its rows always get fresh ids. Any insert into the log marks
# its transaction (one row in tracker_change_commits, whose deferred trigger then fires once
# at commit, however many rows the log gained), with the first id it was given: its rows are
# found from there along the primary key.
PG_NUMBERING = """
CREATE TABLE tracker_change_commits (transaction_key bigint PRIMARY KEY, first_id bigint);

CREATE FUNCTION tracker_changes_logged() RETURNS trigger AS $$
BEGIN
    IF current_setting('tracker.changes_logged', true) IS DISTINCT FROM 'y'
            AND EXISTS (SELECT 1 FROM new_rows) THEN
        PERFORM set_config('tracker.changes_logged', 'y', true);
        INSERT INTO tracker_change_commits SELECT txid_current(), min(id) FROM new_rows
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER tracker_changes_logged AFTER INSERT ON statements_change
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tracker_changes_logged();

"""

PG_NUMBER_FUNCTION = """
CREATE OR REPLACE FUNCTION tracker_changes_number() RETURNS trigger AS $$
BEGIN
    PERFORM pg_advisory_xact_lock('statements_change'::regclass::oid::integer, 0);
    -- Only if another transaction committed rows numbered after this one's first (the
    -- usual case, one writer at a time, needs nothing).
    IF current_setting('transaction_isolation') <> 'read committed' OR EXISTS (
        SELECT 1 FROM statements_change
        WHERE id > NEW.first_id AND transaction_key <> NEW.transaction_key
    ) THEN
        UPDATE statements_change c SET id = r.new_id
        FROM (
            SELECT old_id, nextval(pg_get_serial_sequence('statements_change', 'id')) AS new_id
            FROM (
                SELECT id AS old_id FROM statements_change
                WHERE id >= NEW.first_id AND transaction_key = NEW.transaction_key ORDER BY id
            ) AS mine
        ) AS r
        WHERE c.id = r.old_id;
    END IF;
    DELETE FROM tracker_change_commits WHERE transaction_key = NEW.transaction_key;
    -- Should the transaction log more after this (SET CONSTRAINTS ALL IMMEDIATE fires
    -- deferred triggers early), those rows are marked and numbered in their turn.
    PERFORM set_config('tracker.changes_logged', '', true);
    RETURN NULL;
END
$$ LANGUAGE plpgsql SET jit = off;
"""

PG_NUMBER_TRIGGER = """
CREATE CONSTRAINT TRIGGER tracker_changes_number
    AFTER INSERT ON tracker_change_commits
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION tracker_changes_number();
"""


def install_postgresql_triggers(schema_editor, tables=TABLES):
    schema_editor.execute(PG_TRUNCATED)
    for table in tables:
        bodies = {
            op.lower(): _pg_statement(table, op) or "NULL;" for op in ("INSERT", "UPDATE", "DELETE")
        }
        schema_editor.execute(PG_FUNCTION.format(table=table, **bodies))
        for op in ("insert", "update", "delete", "truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS tracker_changes_{op} ON {table}")
        schema_editor.execute(PG_TRIGGERS.format(table=table))


# --- SQLite -------------------------------------------------------------------------------

SQLITE_INSERT = """
INSERT OR REPLACE INTO statements_change
    (changed_at, kind, object_id, slug, action, transaction_key)
SELECT DISTINCT strftime('%Y-%m-%d %H:%M:%f', 'now'), kind, object_id, slug, action,
    CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
FROM (SELECT NULL AS kind, NULL AS object_id, NULL AS slug, NULL AS action WHERE 0
    UNION ALL {rows});
"""


def _sqlite_differ(table, columns):
    staff = set(STAFF_ONLY.get(table, ()))
    return "(" + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns if c not in staff) + ")"


def _sqlite_trigger(table, op, columns):
    differ = _sqlite_differ(table, columns)
    when = f" WHEN {differ}" if op == "UPDATE" else ""
    if table in RECORDS:
        rows = _record_rows(table, op, "OLD", "NEW", differ, "(SELECT 1)")
        statements = [SQLITE_INSERT.format(rows=row) for row in rows]
    else:
        counts, parents = PARTS[table]
        statements = []
        for t in {"INSERT": ["NEW"], "DELETE": ["OLD"], "UPDATE": ["OLD", "NEW"]}[op]:
            rows = " UNION ALL ".join(
                parent(t).format(touched="") + (f" AND {counts.format(r=t)}" if counts else "")
                for parent in parents
            )
            statements.append(SQLITE_INSERT.format(rows=rows))
    if not statements:
        return None
    return (
        f"CREATE TRIGGER tracker_changes_{op.lower()}_{table} AFTER {op} ON {table}{when}\n"
        "BEGIN\n" + "".join(statements) + "END;"
    )


def install_sqlite_triggers(apps, execute, tables=TABLES):
    """(Re)create the triggers of `tables` for their columns as `apps` has them."""
    by_table = {
        model._meta.db_table: model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.db_table in tables
    }
    for table in tables:
        columns = [field.column for field in by_table[table]._meta.local_concrete_fields]
        for op in ("INSERT", "UPDATE", "DELETE"):
            execute(f"DROP TRIGGER IF EXISTS tracker_changes_{op.lower()}_{table}")
            trigger = _sqlite_trigger(table, op, columns)
            if trigger:
                execute(trigger)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_NUMBERING + PG_NUMBER_FUNCTION + PG_NUMBER_TRIGGER)
        install_postgresql_triggers(schema_editor)
    # SQLite: installed after the whole `migrate` run (see above), so that later migrations
    # of the same run may rebuild tables.


def backward(apps, schema_editor):
    for table in TABLES:
        if schema_editor.connection.vendor == "postgresql":
            for op in ("insert", "update", "delete", "truncate"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS tracker_changes_{op} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS tracker_changes_{table}()")
        elif schema_editor.connection.vendor == "sqlite":
            for op in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS tracker_changes_{op}_{table}")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS tracker_changes_logged ON statements_change; "
            "DROP FUNCTION IF EXISTS tracker_changes_logged(); "
            "DROP TABLE IF EXISTS tracker_change_commits; "
            "DROP FUNCTION IF EXISTS tracker_changes_number(); "
            "DROP FUNCTION IF EXISTS tracker_changes_truncated()"
        )


def drop_sqlite_triggers(*, using: str, **kwargs) -> None:
    """Before `migrate` (pre_migrate): SQLite's change-log triggers out of the way."""
    db = connections[using]
    if db.vendor != "sqlite":
        return
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'tracker_changes_%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TRIGGER "{name}"')


def install_after_migrate(*, using: str, apps=global_apps, **kwargs) -> None:
    """After `migrate` (post_migrate): SQLite's change-log triggers, for the tables as they are."""
    db = connections[using]
    if db.vendor != "sqlite":
        return
    present = set(db.introspection.table_names())
    if CHANGE_TABLE not in present:
        return  # migrated back past the log
    tables = [table for table in TABLES if table in present]
    with db.cursor() as cursor:
        install_sqlite_triggers(apps, cursor.execute, tables)
