"""
The change log (statements.Change) and the triggers that write it, on every public table, in
the writing transaction: whatever writes — the ORM, a bulk update, raw SQL — logs.

PostgreSQL: statement-level triggers read the rows a statement wrote from its transition
tables and log each public address they touch once (INSERT ... SELECT DISTINCT, and a unique
index on the transaction for "changed"), so one UPDATE of 16,000 signatures writes one row
per statement, not one per signature. When the transaction commits, a deferred trigger numbers
its rows afresh under the data version's row lock (which every committing writer takes) if
another transaction committed rows with later ids meanwhile, so that ids follow the order of
commits and "everything after id N" misses nothing.

SQLite (development): row triggers. SQLite has no transaction number, but its 'now' is fixed
for the length of a statement: a "changed" row logged again by the same statement (its time,
to the millisecond, standing for the transaction) replaces the first with a new id, so that
one UPDATE of many rows logs each address once, and a change is never hidden behind an id a
reader has already read. SQLite drops a table's triggers when a migration rebuilds the
table, and refuses to rebuild a table other tables' triggers refer to: so every `migrate` drops
these triggers first and puts them back at its end as the models then stand
(statements.change_triggers.drop_sqlite_triggers / install_after_migrate, connected in
statements.apps). A migration that rebuilds a table needs nothing for them.

What counts as public is written once below (the *_PUBLIC templates); `{r}` is the row.
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
