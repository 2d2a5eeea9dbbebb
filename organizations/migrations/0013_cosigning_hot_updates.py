"""
A statement published or unpublished changes the count of every pair of its signers. With no
index on the count, and (on PostgreSQL) the table's pages filled to 85% only, the new version
of each row fits on the old one's page and needs no new index entry (a HOT update), so the
write touches a few pages of each signer's rows. SQLite has no fill factor.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE organizations_cosigning SET (fillfactor = 85)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE organizations_cosigning RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0012_remove_withheld_until"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="cosigning", name="cosigning_most_shared"),
        migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False),
    ]
