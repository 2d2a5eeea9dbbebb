"""
Kept answers are expired from the change log now (tracker.response_cache): nothing reads the
data version any more, so it goes with its triggers. The change log's commit numbering, which
took the data version's row lock, takes a lock of its own (a transaction advisory lock), and
the log's triggers are put back as statements.change_triggers now writes them: a TRUNCATE of a
public table empties the log, and a change to an organisation with no public statement that a
public statement names (a media contact's or a quote's) logs that statement. SQLite's
change-log triggers are put back after every `migrate` anyway.
"""

import importlib

from django.db import migrations

from statements import change_triggers

data_version = importlib.import_module("statements.migrations.0005_data_version")


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in data_version.TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS tracker_data_changed ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS tracker_data_truncated ON {table}")
        elif vendor == "sqlite":
            for event in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(
                    f"DROP TRIGGER IF EXISTS tracker_data_changed_{event}_{table}"
                )
    if vendor == "postgresql":
        schema_editor.execute(change_triggers.PG_NUMBER_FUNCTION)
        change_triggers.install_postgresql_triggers(schema_editor)
        schema_editor.execute("DROP FUNCTION IF EXISTS tracker_data_changed()")
        schema_editor.execute("DROP SEQUENCE IF EXISTS tracker_data_version")


def backward(apps, schema_editor):
    # The table is back (DeleteModel undone first): its triggers and its row again.
    data_version.forward(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0011_withholding"),
        # The last migration that put the data-version triggers back on SQLite.
        ("organizations", "0013_cosigning_hot_updates"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
        migrations.DeleteModel(name="DataVersion"),
    ]
