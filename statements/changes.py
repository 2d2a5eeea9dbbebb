"""
Reading and adding to the change log (statements.Change). Database triggers write nearly all
of it (migration 0010_change_log); what they cannot see is said here: that an organisation was
merged into another, which only the merge service knows.

On SQLite the triggers are dropped before every `migrate` and put back after it (see
migration 0010_change_log): SQLite would otherwise refuse to rebuild a table that another
table's trigger refers to.
"""

import importlib

from django.apps import apps as global_apps
from django.db import connection, connections
from django.utils import timezone

from .models import Change

_migration = importlib.import_module("statements.migrations.0010_change_log")

# What "this transaction" is, as the triggers count it (see Change.transaction_key).
_TRANSACTION_SQL = {
    "postgresql": "SELECT txid_current()",
    "sqlite": "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
}


def record_merge(*, organization_id: int, slug: str, into_id: int) -> None:
    """
    Log that organisation `organization_id` (public address `slug`) was merged into
    `into_id`: its addresses now redirect there. Called by the merge service inside its
    transaction, so the entry goes, or stays, with the merge.
    """
    with connection.cursor() as cursor:
        cursor.execute(_TRANSACTION_SQL[connection.vendor])
        (transaction_id,) = cursor.fetchone()
    Change.objects.create(
        changed_at=timezone.now(),
        kind=Change.Kind.ORGANIZATION,
        object_id=organization_id,
        slug=slug,
        action=Change.Action.MERGED,
        into_id=into_id,
        transaction_key=transaction_id,
    )


def changes_since(change_id: int = 0, *, limit: int = 1000) -> list[Change]:
    """
    The changes logged after `change_id`, oldest first, at most `limit` of them. Pass the
    last id read to read on: ids follow the order the transactions committed in.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return list(Change.objects.filter(id__gt=change_id).order_by("id")[:limit])


def drop_sqlite_triggers(*, using: str, **kwargs) -> None:
    """Before `migrate` (pre_migrate): SQLite's change-log triggers out of the way."""
    db = connections[using]
    if db.vendor != "sqlite":
        return
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'tracker_changes_%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TRIGGER "{name}"')


def install_sqlite_triggers(*, using: str, apps=global_apps, **kwargs) -> None:
    """After `migrate` (post_migrate): SQLite's change-log triggers, for the tables as they are."""
    db = connections[using]
    if db.vendor != "sqlite":
        return
    present = set(db.introspection.table_names())
    if Change._meta.db_table not in present:
        return  # migrated back past the log
    tables = [table for table in _migration.TABLES if table in present]
    with db.cursor() as cursor:
        _migration.install_sqlite_triggers(apps, cursor.execute, tables)
