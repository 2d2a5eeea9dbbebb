"""
A stored, GIN-indexed search vector for statements on PostgreSQL, kept by a trigger: search
no longer computes every statement's words on every request. SQLite searches by words.
"""

import django.contrib.postgres.search
from django.db import migrations

VECTOR = """
    setweight(to_tsvector('english', coalesce({row}title, '')), 'A')
    || setweight(to_tsvector('english', coalesce({row}ask, '') || ' ' || coalesce({row}summary, '')), 'B')
    || setweight(to_tsvector('english', coalesce({row}full_text, '')), 'C')
"""

FORWARD = f"""
CREATE FUNCTION statements_statement_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector := {VECTOR.format(row="NEW.")};
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER statements_statement_search_vector
    BEFORE INSERT OR UPDATE ON statements_statement
    FOR EACH ROW EXECUTE FUNCTION statements_statement_search_vector();

UPDATE statements_statement SET search_vector = {VECTOR.format(row="")};

CREATE INDEX statements_statement_search ON statements_statement USING GIN (search_vector);
"""

BACKWARD = """
DROP INDEX IF EXISTS statements_statement_search;
DROP TRIGGER IF EXISTS statements_statement_search_vector ON statements_statement;
DROP FUNCTION IF EXISTS statements_statement_search_vector();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0003_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="statement",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(forward, backward),
    ]
