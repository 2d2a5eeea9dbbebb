"""
What is derived from the signatures, kept so that reads cost the same at any size, and
recomputed set-based for what a write touched:

- Organization.public_statement_count: how many public statements each organisation signed
  (Organization.objects.public() and every count shown read it);
- OtherName.withheld and FormerSlug.withheld: whether the draft a name or an old address is
  known only from (statements.Withholding) is still not public (statements/withholding.py);
- organizations.Cosigning: for each organisation with many public statements
  (Organization.cosigners_kept, from settings.COSIGNERS_KEPT_FROM), how many public statements
  it signed with each other organisation. The first and last dates a pair shared are not
  kept: they are read for the page of co-signers shown (statements.cosigning), so re-dating a
  statement changes nothing here, and taking a statement away never has to look for the
  dates that remain.

The services (statements/publishing.py, deleting.py, signing.py, merging.py, importing.py)
call these functions inside their transaction, after lock_for_write, once the rows they
change are written. Nothing here runs by itself: a write outside the services (plain SQL,
the synthetic data's COPY) is followed by refresh() or rebuild(), and check() says whether
the kept values equal a fresh computation (`manage.py rebuild_derived --check`).

The SQL is plain enough for PostgreSQL and SQLite alike. Counts and pairs change by exact
increments for what a write touched: one statement's signers (publish, unpublish, signatures
added or removed), or a merge's moved statements; refresh() recomputes the rows of the
organisations it is given.
"""

from collections.abc import Collection, Iterable
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from organizations.models import Cosigning, Organization

from . import withholding
from .models import Signature, Statement

COSIGNING = Cosigning._meta.db_table
SIGNATURE = Signature._meta.db_table
STATEMENT = Statement._meta.db_table
ORGANIZATION = Organization._meta.db_table
PUBLIC = tuple(str(status) for status in Statement.PUBLIC_STATUSES)
_PUBLIC_IN = ", ".join(["%s"] * len(PUBLIC))
_KEPT = f"SELECT id FROM {ORGANIZATION} WHERE cosigners_kept"

# Every pair of organisations on public statements, for the organisations `{organizations}`
# (a subquery or a list) selects: who signed with whom, and how often.
_PAIRS_OF = f"""
    SELECT a.organization_id, b.organization_id AS other_id, COUNT(*) AS shared_count
    FROM {SIGNATURE} a
    JOIN {SIGNATURE} b ON b.statement_id = a.statement_id
         AND b.organization_id <> a.organization_id
    JOIN {STATEMENT} st ON st.id = a.statement_id
    WHERE st.status IN ({_PUBLIC_IN}) AND a.organization_id IN ({{organizations}})
    GROUP BY a.organization_id, b.organization_id
"""
_INSERT = f"INSERT INTO {COSIGNING} (organization_id, other_id, shared_count) "

# Each organisation's count of public statements, from the signatures. One signature per
# organisation per statement: counting signatures counts statements.
_COUNTED = f"""
    SELECT s.organization_id, COUNT(*) AS n
    FROM {SIGNATURE} s JOIN {STATEMENT} st ON st.id = s.statement_id
    WHERE st.status IN ({_PUBLIC_IN})
    GROUP BY s.organization_id
"""
_RECOUNT = f"""
    UPDATE {ORGANIZATION} SET public_statement_count = COALESCE((
        SELECT COUNT(*) FROM {SIGNATURE} s JOIN {STATEMENT} st ON st.id = s.statement_id
        WHERE s.organization_id = {ORGANIZATION}.id AND st.status IN ({_PUBLIC_IN})
    ), 0)
"""

SHOWN_DISCREPANCIES = 50  # check() lists at most this many of each kind


def kept_from() -> int:
    """The number of public statements from which an organisation's co-signers are kept."""
    return max(1, settings.COSIGNERS_KEPT_FROM)


def _kept_until() -> int:
    """Kept co-signers are dropped under half the threshold, so that one change back and
    forth at the threshold does not rebuild an organisation's rows each time."""
    return max(1, kept_from() // 2)


def _run(sql: str, params: Iterable = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


def _rows(sql: str, params: Iterable = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def _in(ids: Collection[int]) -> str:
    return ", ".join(["%s"] * len(ids))


def _ids(values: Iterable[int] | QuerySet) -> list[int]:
    return sorted({int(pk) for pk in values if pk is not None})


def _chunks(ids: list[int], size: int = 5000) -> Iterable[list[int]]:
    """Lists of ids short enough for one query's parameters (SQLite allows 32,766)."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _is_public(statement_id: int) -> bool:
    rows = _rows(f"SELECT status FROM {STATEMENT} WHERE id = %s", [statement_id])
    return bool(rows) and rows[0][0] in PUBLIC


def _signers(statement_id: int) -> list[int]:
    return _ids(
        Signature.objects.filter(statement_id=statement_id).values_list(
            "organization_id", flat=True
        )
    )


# Locking


def lock_for_write(
    *,
    statement_ids: Iterable[int] | QuerySet = (),
    organization_ids: Iterable[int] | QuerySet = (),
) -> None:
    """
    Take the row locks a write needs, always in one order: statements by id, then
    organisations by id. Every service calls it first, with everything its write will touch
    (the organisations whose counts or co-signing rows change included), so that two writes
    that touch the same rows wait for each other instead of deadlocking.

    FOR NO KEY UPDATE, not FOR UPDATE: inserting a signature takes a KEY SHARE lock on its
    statement and organisation (the foreign-key check), which FOR UPDATE would conflict with
    and this does not. A queryset given for `organization_ids` is read after the statements
    are locked, so it sees what a write it waited for committed. On SQLite, which runs one
    writing transaction at a time (transaction_mode IMMEDIATE), there is nothing to lock.
    """
    if connection.vendor != "postgresql":
        return
    for model, ids in ((Statement, statement_ids), (Organization, organization_ids)):
        if isinstance(ids, QuerySet):
            rows = model.objects.filter(pk__in=ids)
        else:
            ids = _ids(ids)
            if not ids:
                continue
            rows = model.objects.filter(pk__in=ids)
        list(rows.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True))


# Counts, and which organisations' co-signers are kept


def _shift_counts(organization_ids: Collection[int], by: int) -> None:
    if not organization_ids:
        return
    _run(
        f"UPDATE {ORGANIZATION} SET public_statement_count = CASE "
        f"WHEN public_statement_count + %s < 0 THEN 0 ELSE public_statement_count + %s END "
        f"WHERE id IN ({_in(organization_ids)})",
        [by, by, *organization_ids],
    )


def _recount(organization_ids: Collection[int]) -> None:
    if organization_ids:
        _run(f"{_RECOUNT} WHERE id IN ({_in(organization_ids)})", [*PUBLIC, *organization_ids])


def _update_kept(organization_ids: Collection[int]) -> list[int]:
    """
    After these organisations' counts changed: start keeping the co-signers of those that
    reached the threshold (their rows computed whole), stop for those under half of it.
    Returns the organisations that started.
    """
    if not organization_ids:
        return []
    changing = _rows(
        f"SELECT id, cosigners_kept FROM {ORGANIZATION} WHERE id IN ({_in(organization_ids)}) "
        f"AND ((NOT cosigners_kept AND public_statement_count >= %s) "
        f"OR (cosigners_kept AND public_statement_count < %s)) ORDER BY id",
        [*organization_ids, kept_from(), _kept_until()],
    )
    starting = [pk for pk, kept in changing if not kept]
    stopping = [pk for pk, kept in changing if kept]
    if stopping:
        _run(f"DELETE FROM {COSIGNING} WHERE organization_id IN ({_in(stopping)})", stopping)
        Organization.objects.filter(pk__in=stopping).update(cosigners_kept=False)
    if starting:
        _run(f"DELETE FROM {COSIGNING} WHERE organization_id IN ({_in(starting)})", starting)
        _run(_INSERT + _PAIRS_OF.format(organizations=_in(starting)), [*PUBLIC, *starting])
        Organization.objects.filter(pk__in=starting).update(cosigners_kept=True)
    return starting


# Pairs of one statement


def _statement_pairs(statement_id: int, changed: Collection[int] | None) -> tuple[str, list]:
    """
    The pairs (organization_id, other_id) of the statement's signers, kept organisation
    first, that involve one of `changed` (all of them if None): SQL and its parameters.
    The signers are those with a signature now, plus `changed` (gone already when removed).
    """
    signers = f"SELECT organization_id FROM {SIGNATURE} WHERE statement_id = %s"
    params: list = [statement_id]
    if changed:
        signers += f" UNION SELECT id FROM {ORGANIZATION} WHERE id IN ({_in(changed)})"
        params += list(changed)
    sql = (
        f"SELECT a.organization_id, b.organization_id AS other_id "
        f"FROM ({signers}) a JOIN ({signers}) b ON b.organization_id <> a.organization_id "
        f"WHERE a.organization_id IN ({_KEPT})"
    )
    params = params + params
    if changed is not None:
        marks = _in(changed)
        sql += f" AND (a.organization_id IN ({marks}) OR b.organization_id IN ({marks}))"
        params += [*changed, *changed]
    return sql, params


def _add_pairs(statement_id: int, changed: Collection[int] | None) -> None:
    pairs, params = _statement_pairs(statement_id, changed)
    _run(
        f"{_INSERT} SELECT organization_id, other_id, 1 FROM ({pairs}) AS pairs WHERE true "
        f"ON CONFLICT (organization_id, other_id) DO UPDATE SET "
        f"shared_count = {COSIGNING}.shared_count + excluded.shared_count",
        params,
    )


def _remove_pairs(statement_id: int, changed: Collection[int] | None) -> None:
    """One pass over the pairs (each row found once), then the few rows left at 0 go."""
    pairs, params = _statement_pairs(statement_id, changed)
    emptied = [
        pk
        for pk, count in _rows(
            f"UPDATE {COSIGNING} SET shared_count = shared_count - 1 "
            f"WHERE shared_count > 0 AND (organization_id, other_id) IN ({pairs}) "
            f"RETURNING id, shared_count",
            params,
        )
        if count == 0
    ]
    for chunk in _chunks(emptied):
        _run(f"DELETE FROM {COSIGNING} WHERE id IN ({_in(chunk)})", chunk)


# What the services call


def signatures_added(*, statement_id: int, organization_ids: Collection[int]) -> None:
    """After these organisations' signatures on the statement were written."""
    added = _ids(organization_ids)
    if not added or not _is_public(statement_id):
        return
    _add_pairs(statement_id, added)
    _shift_counts(added, +1)
    _update_kept(added)


def signatures_removed(*, statement_id: int, organization_ids: Collection[int]) -> None:
    """After these organisations' signatures on the statement were deleted or moved away."""
    removed = _ids(organization_ids)
    if not removed or not _is_public(statement_id):
        return
    _remove_pairs(statement_id, removed)
    _shift_counts(removed, -1)
    _update_kept(removed)


def statement_visibility_changed(*, statement_id: int, was_public: bool, is_public: bool) -> None:
    """
    After the statement's status changed: on publishing each signer counts it and every pair
    of signers shares it; on unpublishing they stop. Published to retracted (both public)
    changes nothing, and neither does a new date.
    """
    if was_public == is_public:
        return
    # Names and old addresses known only from it are withheld while it is not public.
    withholding.refresh_withheld(statement_ids=[statement_id])
    signers = _signers(statement_id)
    if is_public:
        _add_pairs(statement_id, None)
        _shift_counts(signers, +1)
    else:
        _remove_pairs(statement_id, None)
        _shift_counts(signers, -1)
    _update_kept(signers)


def organizations_merged(
    *, keep_id: int, other_id: int, moved_statement_ids: Collection[int]
) -> None:
    """
    After a merge moved the other organisation's signatures to the one kept, on the
    statements the kept one had not signed (`moved_statement_ids`), and deleted the other's
    where both had signed. Only the other's share changes: its rows, and the rows others
    kept with it, go; on each moved public statement the kept organisation now shares with
    every signer, which is counted into its pairs; and its count grows by those statements.
    What the kept one had signed itself is untouched, so merging a small organisation into
    the biggest hub costs the small one's statements, not the hub's.
    """
    _run(
        f"DELETE FROM {COSIGNING} WHERE organization_id = %s OR other_id = %s",
        [other_id, other_id],
    )
    public = []
    moved = _ids(moved_statement_ids)
    for chunk in _chunks(moved):
        public += _ids(
            pk
            for (pk,) in _rows(
                f"SELECT id FROM {STATEMENT} "
                f"WHERE id IN ({_in(chunk)}) AND status IN ({_PUBLIC_IN})",
                [*chunk, *PUBLIC],
            )
        )
    for chunk in _chunks(public):
        # The kept organisation's pairs on these statements, kept side first, each counted
        # once for every statement the pair now shares.
        signers = (
            f"SELECT organization_id FROM {SIGNATURE} "
            f"WHERE statement_id IN ({_in(chunk)}) AND organization_id <> %s"
        )
        _run(
            f"{_INSERT} SELECT organization_id, other_id, COUNT(*) FROM ("
            f"SELECT %s AS organization_id, s.organization_id AS other_id FROM ({signers}) s "
            f"WHERE %s IN ({_KEPT}) "
            f"UNION ALL SELECT s.organization_id, %s FROM ({signers}) s "
            f"WHERE s.organization_id IN ({_KEPT})"
            f") AS pairs GROUP BY organization_id, other_id "
            f"ON CONFLICT (organization_id, other_id) DO UPDATE SET "
            f"shared_count = {COSIGNING}.shared_count + excluded.shared_count",
            [keep_id, *chunk, keep_id, keep_id, keep_id, *chunk, keep_id],
        )
    if public:
        _shift_counts([keep_id], len(public))
    _recount([other_id])
    _update_kept(_ids([keep_id, other_id]))


def refresh(*, organization_ids: Iterable[int] = (), statement_ids: Iterable[int] = ()) -> None:
    """
    Recompute exactly what a bulk write touched (an import, a restore): the counts of these
    organisations and of every signer of these statements, and all co-signing rows of, or
    with, any of them. Organisations that lost a signature must be among `organization_ids`.
    """
    ids = set(_ids(organization_ids))
    statements = _ids(statement_ids)
    if statements:
        ids.update(
            Signature.objects.filter(statement_id__in=statements).values_list(
                "organization_id", flat=True
            )
        )
    _refresh_organizations(_ids(ids))


def _refresh_organizations(ids: list[int]) -> None:
    if not ids:
        return
    _recount(ids)
    _update_kept(ids)
    marks = _in(ids)
    _run(
        f"DELETE FROM {COSIGNING} WHERE organization_id IN ({marks}) OR other_id IN ({marks})",
        [*ids, *ids],
    )
    # Their own rows (if kept), then the rows other kept organisations have with them: a
    # pair's count is the same both ways, so those are read from these organisations' side.
    _run(
        _INSERT
        + _PAIRS_OF.format(organizations=f"SELECT id FROM ({_KEPT}) k WHERE id IN ({marks})"),
        [*PUBLIC, *ids],
    )
    _run(
        f"{_INSERT} SELECT other_id, organization_id, shared_count FROM "
        f"({_PAIRS_OF.format(organizations=marks)}) AS pairs "
        f"WHERE other_id IN ({_KEPT}) AND other_id NOT IN ({marks})",
        [*PUBLIC, *ids, *ids],
    )


# Checking and rebuilding


def _fresh_pairs() -> str:
    return _PAIRS_OF.format(organizations=_KEPT)


def check() -> list[str]:
    """
    Every kept value compared with a fresh computation from the signatures: one line for
    each discrepancy (at most SHOWN_DISCREPANCIES of each kind), [] when all is right.
    """
    problems = []
    for pk, slug, kept, fresh in _rows(
        f"SELECT o.id, o.slug, o.public_statement_count, COALESCE(c.n, 0) "
        f"FROM {ORGANIZATION} o LEFT JOIN ({_COUNTED}) c ON c.organization_id = o.id "
        f"WHERE o.public_statement_count <> COALESCE(c.n, 0) ORDER BY o.id LIMIT %s",
        [*PUBLIC, SHOWN_DISCREPANCIES],
    ):
        problems.append(
            f"Organisation #{pk} ({slug}): public_statement_count is {kept}, "
            f"the signatures say {fresh}."
        )
    for pk, slug, kept, count in _rows(
        f"SELECT id, slug, cosigners_kept, public_statement_count FROM {ORGANIZATION} "
        f"WHERE (cosigners_kept AND public_statement_count < %s) "
        f"OR (NOT cosigners_kept AND public_statement_count >= %s) ORDER BY id LIMIT %s",
        [_kept_until(), kept_from(), SHOWN_DISCREPANCIES],
    ):
        state = "kept" if kept else "not kept"
        problems.append(
            f"Organisation #{pk} ({slug}): co-signers {state} with {count} public statements "
            f"(kept from {kept_from()}, dropped under {_kept_until()})."
        )
    table = f"SELECT organization_id, other_id, shared_count FROM {COSIGNING}"
    fresh = _fresh_pairs()
    wrong = {}
    for sql, params, side in (
        (f"{table} EXCEPT {fresh}", list(PUBLIC), 0),
        (f"{fresh} EXCEPT {table}", list(PUBLIC), 1),
    ):
        for org, other, count in _rows(
            f"SELECT * FROM ({sql}) AS d ORDER BY 1, 2 LIMIT %s", [*params, SHOWN_DISCREPANCIES]
        ):
            wrong.setdefault((org, other), [None, None])[side] = count
    for (org, other), (kept, fresh_count) in sorted(wrong.items()):
        problems.append(
            f"Co-signing of organisation #{org} with #{other}: shared_count is "
            f"{'missing' if kept is None else kept}, the signatures say "
            f"{'none' if fresh_count is None else fresh_count}."
        )
    return problems + withholding.withheld_problems()


def rebuild() -> None:
    """
    Recompute everything from the signatures: every organisation's count, which
    organisations' co-signers are kept (those with at least COSIGNERS_KEPT_FROM public
    statements), and their co-signing rows. Run by `manage.py rebuild_derived` and after
    the synthetic data's COPY.
    """
    _run(_RECOUNT, PUBLIC)
    _run(f"DELETE FROM {COSIGNING}")
    _run(
        f"UPDATE {ORGANIZATION} SET cosigners_kept = (public_statement_count >= %s)",
        [kept_from()],
    )
    kept = _rows(
        f"SELECT id, public_statement_count FROM {ORGANIZATION} WHERE cosigners_kept ORDER BY id"
    )
    with _memory_for_aggregates():
        for chunk in _by_work(kept):
            # In the order of the pair index: an organisation's rows then sit together on
            # disk, so that a statement's pairs touch a few pages of each signer's rows, not
            # one page a pair.
            _run(
                _INSERT + _PAIRS_OF.format(organizations=_in(chunk)) + " ORDER BY 1, 2",
                [*PUBLIC, *chunk],
            )
    withholding.rebuild_withheld()


# Organisations whose pairs are computed in one query, by their public statements: few
# enough that the query's grouping fits in memory. At 10^7 signatures one query for every
# kept organisation grouped some 5 x 10^8 rows on disk (tens of GB of temporary files).
REBUILT_TOGETHER = 20_000


def _by_work(organizations: list[tuple[int, int]]) -> Iterable[list[int]]:
    chunk, work = [], 0
    for organization_id, statements in organizations:
        if chunk and work + statements > REBUILT_TOGETHER:
            yield chunk
            chunk, work = [], 0
        chunk.append(organization_id)
        work += statements
    if chunk:
        yield chunk


@contextmanager
def _memory_for_aggregates():
    """
    One transaction (or savepoint) with, on PostgreSQL, memory enough for a chunk's grouping
    (the default is a few MB), until the transaction ends.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _run("SET LOCAL work_mem = '256MB'")
        yield
