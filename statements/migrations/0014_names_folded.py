"""
The change log's triggers put back with each name's folded form (organizations 0016) among
the columns nobody outside the staff sees, then every organisation and other name given its
folded form.
"""

from django.db import migrations

from organizations.names import fold
from statements import change_triggers

BATCH = 2000


def fill(model):
    rows = model.objects.order_by("pk").only("pk", "name")
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        row.name_fold = fold(row.name)
        batch.append(row)
        if len(batch) == BATCH:
            model.objects.bulk_update(batch, ["name_fold"])
            batch = []
    if batch:
        model.objects.bulk_update(batch, ["name_fold"])


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        change_triggers.install_postgresql_triggers(schema_editor)
    fill(apps.get_model("organizations", "Organization"))
    fill(apps.get_model("organizations", "OtherName"))


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0013_signatures_by_organization_and_statement"),
        ("organizations", "0016_name_fold"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
