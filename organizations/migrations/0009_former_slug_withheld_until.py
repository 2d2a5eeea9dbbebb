"""
A former slug of a record known only from drafts is withheld until the draft is published
(FormerSlug.withheld_until), as its other names are. On SQLite the data-version triggers of
the former-slug table are put back afterwards, should adding the column rebuild the table.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

triggers = importlib.import_module("organizations.migrations.0008_sqlite_data_version_triggers")


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0008_sqlite_data_version_triggers"),
        ("statements", "0009_document_accepted_types"),
    ]

    operations = [
        migrations.AddField(
            model_name="formerslug",
            name="withheld_until",
            field=models.ForeignKey(
                blank=True,
                help_text="The draft this address is known only from: it does not redirect until that statement is published. Blank: it redirects.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="withheld_slugs",
                to="statements.statement",
            ),
        ),
        migrations.AddField(
            model_name="historicalformerslug",
            name="withheld_until",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="The draft this address is known only from: it does not redirect until that statement is published. Blank: it redirects.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="statements.statement",
            ),
        ),
        migrations.RunPython(
            triggers.reinstall_sqlite_triggers, migrations.RunPython.noop, elidable=False
        ),
    ]
