"""
Names as pasted lists and searches compare them (organizations.names.fold), kept beside each
name, with trigram indexes on PostgreSQL for finding them by any part. The existing rows are
given theirs by statements 0014, once the change log's triggers know the column is staff's
only (so that filling it in logs nothing).
"""

from django.db import migrations, models

FORWARD = """
CREATE INDEX organizations_organization_name_fold_trgm
    ON organizations_organization USING gin (name_fold gin_trgm_ops);
CREATE INDEX organizations_organization_name_fold
    ON organizations_organization (name_fold);
CREATE INDEX organizations_othername_name_fold_trgm
    ON organizations_othername USING gin (name_fold gin_trgm_ops);
CREATE INDEX organizations_othername_name_fold
    ON organizations_othername (name_fold);
"""

BACKWARD = """
DROP INDEX IF EXISTS organizations_othername_name_fold;
DROP INDEX IF EXISTS organizations_othername_name_fold_trgm;
DROP INDEX IF EXISTS organizations_organization_name_fold;
DROP INDEX IF EXISTS organizations_organization_name_fold_trgm;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0015_judgements"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="name_fold",
            field=models.TextField(db_default="", default="", editable=False),
        ),
        migrations.AddField(
            model_name="othername",
            name="name_fold",
            field=models.TextField(db_default="", default="", editable=False),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
