"""
SQLite drops a table's triggers when a migration rebuilds it (0007_name_keys rebuilds the
organisation and other-name tables to add their keys and constraints), and with them the
triggers that move the data version (statements 0005_data_version): kept answers would then
miss changes to those tables. Put every table's triggers back. PostgreSQL alters tables in
place and keeps them; nothing to do there.
"""

import importlib

from django.db import migrations

data_version = importlib.import_module("statements.migrations.0005_data_version")


def reinstall_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in data_version.TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS tracker_data_changed_{event}_{table}")
            schema_editor.execute(data_version.SQLITE_TRIGGER.format(table=table, event=event))


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0007_name_keys"),
        ("statements", "0009_document_accepted_types"),
    ]

    operations = [
        migrations.RunPython(reinstall_sqlite_triggers, migrations.RunPython.noop, elidable=False),
    ]
