"""
The data version (statements.DataVersion) and the triggers that move it. On PostgreSQL a
deferred constraint trigger on each public table sets it, once per transaction, when the
transaction commits, to the next value of a sequence: never a value used before, even after
a rollback or a TRUNCATE, and readers see the new version only with the new data. On SQLite
(development) row triggers move it forward, past the current time in microseconds.
"""

from django.db import migrations, models

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

POSTGRES_FUNCTION = """
CREATE SEQUENCE tracker_data_version;
CREATE FUNCTION tracker_data_changed() RETURNS trigger AS $$
BEGIN
    IF current_setting('tracker.data_changed', true) IS DISTINCT FROM 'y' THEN
        PERFORM set_config('tracker.data_changed', 'y', true);
        INSERT INTO statements_dataversion (id, version)
        VALUES (1, nextval('tracker_data_version'))
        ON CONFLICT (id) DO UPDATE SET version = excluded.version;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

POSTGRES_TRIGGERS = """
CREATE CONSTRAINT TRIGGER tracker_data_changed
    AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION tracker_data_changed();
CREATE TRIGGER tracker_data_truncated
    AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION tracker_data_changed();
"""

SQLITE_TRIGGER = """
CREATE TRIGGER tracker_data_changed_{event}_{table} AFTER {event} ON {table}
BEGIN
    INSERT INTO statements_dataversion (id, version)
    VALUES (1, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))
    ON CONFLICT (id) DO UPDATE SET version = MAX(
        statements_dataversion.version + 1, excluded.version
    );
END;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION)
        for table in TABLES:
            schema_editor.execute(POSTGRES_TRIGGERS.format(table=table))
        schema_editor.execute(
            "INSERT INTO statements_dataversion (id, version) "
            "VALUES (1, nextval('tracker_data_version'))"
        )
    elif schema_editor.connection.vendor == "sqlite":
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(SQLITE_TRIGGER.format(table=table, event=event))
        schema_editor.execute("INSERT INTO statements_dataversion (id, version) VALUES (1, 1)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS tracker_data_changed ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS tracker_data_truncated ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS tracker_data_changed()")
        schema_editor.execute("DROP SEQUENCE IF EXISTS tracker_data_version")
    elif schema_editor.connection.vendor == "sqlite":
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(
                    f"DROP TRIGGER IF EXISTS tracker_data_changed_{event}_{table}"
                )


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0004_search_vector"),
        ("organizations", "0005_cosigning"),
    ]

    operations = [
        migrations.CreateModel(
            name="DataVersion",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
