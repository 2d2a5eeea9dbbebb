"""
Reading and adding to the change log (statements.Change). Database triggers write nearly all
of it (statements.change_triggers); what they cannot see is said here: that an organisation was
merged into another, which only the merge service knows.

The triggers themselves are in statements.change_triggers (on SQLite they are dropped before
every `migrate` and put back after it: SQLite would otherwise refuse to rebuild a table that
another table's trigger refers to).
"""

from django.db import connection
from django.utils import timezone

from .models import Change

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
