"""
The change log (statements.Change) and the triggers that write it. The triggers, and why they
are built as they are, are in statements.change_triggers (which SQLite's upkeep around every
`migrate` uses as well).
"""

from django.db import migrations, models

from statements.change_triggers import backward, forward


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0009_document_accepted_types"),
        ("organizations", "0009_former_slug_withheld_until"),
    ]

    operations = [
        migrations.CreateModel(
            name="Change",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("changed_at", models.DateTimeField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("statement", "Statement"),
                            ("organization", "Organisation"),
                            ("topic", "Topic"),
                        ],
                        max_length=20,
                    ),
                ),
                ("object_id", models.BigIntegerField()),
                ("slug", models.CharField(max_length=200)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("created", "Created"),
                            ("changed", "Changed"),
                            ("deleted", "Deleted"),
                            ("merged", "Merged into another"),
                            ("published", "Published"),
                            ("unpublished", "Unpublished"),
                        ],
                        max_length=20,
                    ),
                ),
                ("into_id", models.BigIntegerField(blank=True, null=True)),
                ("transaction_key", models.BigIntegerField()),
            ],
            options={
                "ordering": ["id"],
                "indexes": [
                    models.Index(fields=["kind", "object_id", "id"], name="statements_change_object"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("action", "changed")),
                        fields=("transaction_key", "kind", "object_id", "slug", "action"),
                        name="statements_change_changed_once_per_transaction",
                    )
                ],
            },
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
