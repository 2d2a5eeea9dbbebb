"""
Other names and former slugs known only from a draft say so themselves (`withheld`), so
that public pages read one column and the organisations app need not know statements: the
draft they wait for moves to statements.Withholding (statements 0011_withholding), and
`withheld_until` goes after it (0012_remove_withheld_until). On SQLite adding the column
rebuilds the tables: their data-version triggers are put back.
"""

import importlib

from django.db import migrations, models

triggers = importlib.import_module("organizations.migrations.0008_sqlite_data_version_triggers")

OTHER_NAME_HELP = (
    "Known only from a draft: it stays off public pages, the API and search until that "
    "statement is published."
)
FORMER_SLUG_HELP = (
    "Known only from a draft: it does not redirect until that statement is published."
)


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0010_cosigning_without_dates"),
    ]

    operations = [
        migrations.AddField(
            model_name="othername",
            name="withheld",
            field=models.BooleanField(default=False, editable=False, help_text=OTHER_NAME_HELP),
        ),
        migrations.AddField(
            model_name="historicalothername",
            name="withheld",
            field=models.BooleanField(default=False, editable=False, help_text=OTHER_NAME_HELP),
        ),
        migrations.AddField(
            model_name="formerslug",
            name="withheld",
            field=models.BooleanField(default=False, editable=False, help_text=FORMER_SLUG_HELP),
        ),
        migrations.AddField(
            model_name="historicalformerslug",
            name="withheld",
            field=models.BooleanField(default=False, editable=False, help_text=FORMER_SLUG_HELP),
        ),
        migrations.RunPython(
            triggers.reinstall_sqlite_triggers, migrations.RunPython.noop, elidable=False
        ),
    ]
