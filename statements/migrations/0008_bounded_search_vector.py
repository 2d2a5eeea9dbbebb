"""
The search vector indexes a bounded prefix of each text, so that no statement is too long
to save.

PostgreSQL refuses a tsvector whose words (lexemes) take more than 1,048,575 bytes: a full
text of 160,000 distinct words could not be saved at all. Each distinct lexeme is stored
once, and the words of n characters of text take at most 8n bytes: a character is at most
4 bytes in UTF-8 (folding to lower case keeps a character within 4), and the parser adds at
most as much again when it also indexes the parts of a compound (a hyphenated word, a URL's
host and path). So the vector reads at most 500 characters of the title (its own limit),
20,000 of the ask and summary and 100,000 of the full text: 120,501 characters, at most
964,008 bytes, for any input. Words beyond that (some 15,000 words into a full text) are
not found by search on PostgreSQL; everything is stored and shown.
"""

from django.db import migrations

TITLE, ASK_AND_SUMMARY, FULL_TEXT = 500, 20_000, 100_000

BOUNDED = f"""
    setweight(to_tsvector('english', left(coalesce({{row}}title, ''), {TITLE})), 'A')
    || setweight(to_tsvector('english', left(coalesce({{row}}ask, '') || ' '
        || coalesce({{row}}summary, ''), {ASK_AND_SUMMARY})), 'B')
    || setweight(to_tsvector('english', left(coalesce({{row}}full_text, ''), {FULL_TEXT})), 'C')
"""

# As migration 0004 made it.
UNBOUNDED = """
    setweight(to_tsvector('english', coalesce({row}title, '')), 'A')
    || setweight(to_tsvector('english', coalesce({row}ask, '') || ' ' || coalesce({row}summary, '')), 'B')
    || setweight(to_tsvector('english', coalesce({row}full_text, '')), 'C')
"""

FUNCTION = """
CREATE OR REPLACE FUNCTION statements_statement_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector := {vector};
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""

# Rows the bound changes: their vectors are made again by the trigger.
LONG_ROWS = f"""
UPDATE statements_statement SET title = title
WHERE length(title) > {TITLE}
    OR length(ask) + length(summary) + 1 > {ASK_AND_SUMMARY}
    OR length(full_text) > {FULL_TEXT};
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION.format(vector=BOUNDED.format(row="NEW.")))
        schema_editor.execute(LONG_ROWS)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION.format(vector=UNBOUNDED.format(row="NEW.")))


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0007_import_fingerprints"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
