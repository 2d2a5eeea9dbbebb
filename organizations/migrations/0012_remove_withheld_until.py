"""
The draft an other name or former slug waits for is kept by statements.Withholding now
(copied there by statements 0011_withholding): the foreign keys to statements go. On SQLite
dropping them rebuilds the tables: their data-version triggers are put back.
"""

import importlib

from django.db import migrations

triggers = importlib.import_module("organizations.migrations.0008_sqlite_data_version_triggers")


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0011_withheld_flag"),
        ("statements", "0011_withholding"),
    ]

    operations = [
        migrations.RemoveField(model_name="formerslug", name="withheld_until"),
        migrations.RemoveField(model_name="historicalformerslug", name="withheld_until"),
        migrations.RemoveField(model_name="historicalothername", name="withheld_until"),
        migrations.RemoveField(model_name="othername", name="withheld_until"),
        migrations.RunPython(
            triggers.reinstall_sqlite_triggers, migrations.RunPython.noop, elidable=False
        ),
    ]
