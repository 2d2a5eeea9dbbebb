"""
Keeps organizations.Cosigning, the table of who signed public statements with whom, in step
with the signatures, so that an organisation's co-signers are read from an index instead of
being aggregated from every signature of every statement it signed.

Each change touches only the pairs of one statement: adding or removing a signature changes
the pairs of that organisation with the statement's other signers; publishing, retracting,
unpublishing or re-dating a statement adds or removes all of its pairs. The counts are
incremented and decremented; a pair's first and last dates are widened on the way in, and
recomputed from the signatures only when the statement taken away held one of them.

Only the rows of organisations whose co-signers are kept (Organization.cosigners_kept) are
written: refresh_kept() adds an organisation's rows, from the signatures, once it reaches
settings.COSIGNERS_KEPT_FROM public statements, and drops them when it falls under half.

The SQL is plain enough for both PostgreSQL and SQLite. Each change first locks its
statement's row, so that two signatures added to one statement at the same moment each see
the other once it has committed and no pair is missed.
"""

import threading

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from organizations.models import Cosigning, Organization

from .models import Signature, Statement

COSIGNING = Cosigning._meta.db_table
SIGNATURE = Signature._meta.db_table
STATEMENT = Statement._meta.db_table
ORGANIZATION = Organization._meta.db_table
KEPT = f"SELECT id FROM {ORGANIZATION} WHERE cosigners_kept"
PUBLIC = tuple(str(status) for status in Statement.PUBLIC_STATUSES)
_PUBLIC_IN = ", ".join(["%s"] * len(PUBLIC))

_UPSERT = f"""
    INSERT INTO {COSIGNING} (organization_id, other_id, shared_count, first_shared_on,
                             last_shared_on)
    SELECT organization_id, other_id, 1, %s, %s FROM ({{pairs}}) AS pairs WHERE true
    ON CONFLICT (organization_id, other_id) DO UPDATE SET
        shared_count = {COSIGNING}.shared_count + excluded.shared_count,
        first_shared_on = CASE WHEN excluded.first_shared_on < {COSIGNING}.first_shared_on
                          THEN excluded.first_shared_on ELSE {COSIGNING}.first_shared_on END,
        last_shared_on = CASE WHEN excluded.last_shared_on > {COSIGNING}.last_shared_on
                         THEN excluded.last_shared_on ELSE {COSIGNING}.last_shared_on END
"""

# The dates of one pair, from the signatures: every public statement both signed.
_SHARED_DATES = f"""
    SELECT {{aggregate}}(st.issued_on)
    FROM {SIGNATURE} a
    JOIN {SIGNATURE} b ON b.statement_id = a.statement_id
    JOIN {STATEMENT} st ON st.id = a.statement_id
    WHERE a.organization_id = {COSIGNING}.organization_id
      AND b.organization_id = {COSIGNING}.other_id
      AND st.status IN ({_PUBLIC_IN})
      AND st.id <> %s
"""

# Signatures being deleted in one go (a statement and its signatures, a queryset's
# delete()): each one's pairs are taken away in pre_delete, before any row is gone, so a
# signature whose pre_delete has run no longer counts as a co-signer of the next ones.
_leaving = threading.local()


def _leaving_now() -> dict[int, set[int]]:
    if not hasattr(_leaving, "by_statement"):
        _leaving.by_statement = {}
    return _leaving.by_statement


def _lock_statement(statement_id: int):
    """Lock the statement's row; returns (is_public, issued_on), or None if it is gone."""
    row = (
        Statement.objects.select_for_update()
        .filter(pk=statement_id)
        .values_list("status", "issued_on")
        .first()
    )
    if row is None:
        return None
    status, issued_on = row
    return status in Statement.PUBLIC_STATUSES, issued_on


def _signers_sql(exclude: list[int]) -> tuple[str, list]:
    """The statement's signers but `exclude`: SQL and parameters after the statement id."""
    placeholders = ", ".join(["%s"] * len(exclude))
    return (
        f"SELECT organization_id FROM {SIGNATURE} WHERE statement_id = %s "
        f"AND organization_id NOT IN ({placeholders})",
        list(exclude),
    )


def _add_one(statement_id: int, organization_id: int, issued_on) -> None:
    """Count `organization_id` as a co-signer of each other signer of the statement."""
    others, params = _signers_sql([organization_id])
    pairs = (
        f"SELECT %s AS organization_id, organization_id AS other_id FROM ({others}) AS o "
        f"WHERE %s IN ({KEPT}) "
        f"UNION ALL SELECT organization_id, %s FROM ({others}) AS o "
        f"WHERE organization_id IN ({KEPT})"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT.format(pairs=pairs),
            [
                issued_on,
                issued_on,
                *[organization_id, statement_id, *params, organization_id],
                *[organization_id, statement_id, *params],
            ],
        )


def _remove(scope: str, params: list, statement_id: int, issued_on) -> None:
    """
    Take one shared statement off the pairs `scope` selects (a WHERE clause on the
    co-signing table), dropping pairs left with none and recomputing dates it held.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {COSIGNING} SET shared_count = shared_count - 1 WHERE {scope}", params
        )
        cursor.execute(f"DELETE FROM {COSIGNING} WHERE shared_count <= 0 AND ({scope})", params)
        cursor.execute(
            f"UPDATE {COSIGNING} SET "
            # COALESCE: a pair the signatures no longer bear out (drift, until a recount)
            # keeps its dates rather than fail on NULL.
            f"first_shared_on = COALESCE(({_SHARED_DATES.format(aggregate='MIN')}), "
            f"first_shared_on), "
            f"last_shared_on = COALESCE(({_SHARED_DATES.format(aggregate='MAX')}), "
            f"last_shared_on) "
            f"WHERE (first_shared_on = %s OR last_shared_on = %s) AND ({scope})",
            [*PUBLIC, statement_id, *PUBLIC, statement_id, issued_on, issued_on, *params],
        )


def _remove_one(statement_id: int, organization_id: int, issued_on, leaving: set[int]) -> None:
    others, params = _signers_sql([organization_id, *leaving])
    scope = (
        f"(organization_id = %s AND other_id IN ({others})) "
        f"OR (other_id = %s AND organization_id IN ({others}))"
    )
    _remove(
        scope,
        [organization_id, statement_id, *params, organization_id, statement_id, *params],
        statement_id,
        issued_on,
    )


def _add_statement(statement_id: int, issued_on) -> None:
    pairs = (
        f"SELECT a.organization_id, b.organization_id AS other_id FROM {SIGNATURE} a "
        f"JOIN {SIGNATURE} b ON b.statement_id = a.statement_id "
        f"AND b.organization_id <> a.organization_id WHERE a.statement_id = %s "
        f"AND a.organization_id IN ({KEPT})"
    )
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(pairs=pairs), [issued_on, issued_on, statement_id])


def _remove_statement(statement_id: int, issued_on) -> None:
    signers = f"SELECT organization_id FROM {SIGNATURE} WHERE statement_id = %s"
    scope = f"organization_id IN ({signers}) AND other_id IN ({signers})"
    # The statement itself is left out of the recomputed dates (it may still be public, with
    # its new date: that date comes back in when its pairs are added again).
    _remove(scope, [statement_id, statement_id], statement_id, issued_on)


# What the signals in statements.signals call.


def signature_added(statement_id: int, organization_id: int) -> None:
    with transaction.atomic(savepoint=False):
        state = _lock_statement(statement_id)
        if state and state[0]:
            _add_one(statement_id, organization_id, state[1])


def signature_moving(statement_id: int, organization_id: int) -> None:
    """Before a saved signature changes organisation or statement: its old pairs go."""
    with transaction.atomic(savepoint=False):
        state = _lock_statement(statement_id)
        if state and state[0]:
            _remove_one(statement_id, organization_id, state[1], set())


def signature_leaving(statement_id: int, organization_id: int) -> None:
    """Before a signature is deleted (perhaps with others of its statement, in one go)."""
    with transaction.atomic(savepoint=False):
        state = _lock_statement(statement_id)
        leaving = _leaving_now().setdefault(statement_id, set())
        if state and state[0] and organization_id not in leaving:
            _remove_one(statement_id, organization_id, state[1], leaving)
        leaving.add(organization_id)


def signature_left(statement_id: int, organization_id: int) -> None:
    """After the delete that signature_leaving prepared for."""
    leaving = _leaving_now().get(statement_id)
    if leaving is not None:
        leaving.discard(organization_id)
        if not leaving:
            del _leaving_now()[statement_id]


def statement_changed(statement_id: int, was_public: bool, old_issued_on, is_public: bool,
                      issued_on) -> None:  # fmt: skip
    """After a statement's status or date changed: its pairs come and go with it."""
    if not was_public and not is_public:
        return
    if was_public == is_public and old_issued_on == issued_on:
        return
    with transaction.atomic(savepoint=False):
        if was_public:
            _remove_statement(statement_id, old_issued_on)
        if is_public:
            _add_statement(statement_id, issued_on)


def forget_deletions(**kwargs) -> None:
    """
    At the start of each request: a delete that failed between its pre_delete and its
    post_delete must not leave its signatures marked as leaving for later requests.
    """
    _leaving_now().clear()


_PAIRS_FROM_SIGNATURES = f"""
    INSERT INTO {COSIGNING} (organization_id, other_id, shared_count, first_shared_on,
                             last_shared_on)
    SELECT a.organization_id, b.organization_id, COUNT(*), MIN(st.issued_on), MAX(st.issued_on)
    FROM {SIGNATURE} a
    JOIN {SIGNATURE} b ON b.statement_id = a.statement_id
         AND b.organization_id <> a.organization_id
    JOIN {STATEMENT} st ON st.id = a.statement_id
    WHERE st.status IN ({_PUBLIC_IN}) AND a.organization_id IN ({{organizations}})
    GROUP BY a.organization_id, b.organization_id
"""


def kept_from() -> int:
    return max(1, settings.COSIGNERS_KEPT_FROM)


def refresh_kept(organization_ids) -> None:
    """
    After these organisations' public counts changed: start keeping the co-signers of those
    that reached the threshold, and stop for those that fell under half of it.
    """
    ids = sorted(set(organization_ids))
    if not ids:
        return
    with transaction.atomic(savepoint=False):
        _refresh_kept(ids)


def _refresh_kept(ids: list[int]) -> None:
    start, stop = kept_from(), max(1, kept_from() // 2)
    changing = list(
        Organization.objects.filter(pk__in=ids)
        .filter(
            Q(cosigners_kept=False, public_statement_count__gte=start)
            | Q(cosigners_kept=True, public_statement_count__lt=stop)
        )
        .order_by("pk")
        .values_list("pk", "cosigners_kept")
    )
    starting = [pk for pk, kept in changing if not kept]
    stopping = [pk for pk, kept in changing if kept]
    if stopping:
        Cosigning.objects.filter(organization__in=stopping).delete()
        Organization.objects.filter(pk__in=stopping).update(cosigners_kept=False)
    if starting:
        placeholders = ", ".join(["%s"] * len(starting))
        Cosigning.objects.filter(organization__in=starting).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                _PAIRS_FROM_SIGNATURES.format(organizations=placeholders), [*PUBLIC, *starting]
            )
        Organization.objects.filter(pk__in=starting).update(cosigners_kept=True)


def rebuild() -> int:
    """
    Recompute the whole table from the signatures, for the organisations with at least
    COSIGNERS_KEPT_FROM public statements (their counts must be right: recount first).
    Returns its number of rows.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {COSIGNING}")
        cursor.execute(
            f"UPDATE {ORGANIZATION} SET cosigners_kept = (public_statement_count >= %s)",
            [kept_from()],
        )
        cursor.execute(_PAIRS_FROM_SIGNATURES.format(organizations=KEPT), list(PUBLIC))
        return cursor.rowcount
