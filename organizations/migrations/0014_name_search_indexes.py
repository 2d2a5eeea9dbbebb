"""
Indexes for finding organisations by any part of a name (search, `icontains`), on
PostgreSQL: trigrams (pg_trgm, a trusted extension that a database owner may create) of the
names and other names in capitals, as Django compares them, and the acronyms in capitals.
Without them every search read every organisation and every other name. SQLite has none of
these and reads the tables, which is fine at the sizes it is for.
"""

from django.db import migrations

FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX organizations_organization_name_trgm
    ON organizations_organization USING gin (UPPER(name::text) gin_trgm_ops);
CREATE INDEX organizations_organization_acronym_upper
    ON organizations_organization (UPPER(acronym::text));
CREATE INDEX organizations_othername_name_trgm
    ON organizations_othername USING gin (UPPER(name::text) gin_trgm_ops);
"""

BACKWARD = """
DROP INDEX IF EXISTS organizations_othername_name_trgm;
DROP INDEX IF EXISTS organizations_organization_acronym_upper;
DROP INDEX IF EXISTS organizations_organization_name_trgm;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0013_cosigning_hot_updates"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
