"""
An organisation's co-signers: the other organisations that signed public statements with it,
most shared first, with the first and last dates they shared one.

For an organisation whose co-signers are kept (Organization.cosigners_kept) the list and its
counts are one index range of the co-signing table (organizations.Cosigning, kept by
statements.derived), and the dates are read for the rows shown only: the page, not every
co-signer. For any other, or for filtered positions, everything is aggregated from the
signatures, which is small below the threshold.
"""

import datetime

from django.core.exceptions import EmptyResultSet
from django.db import connections, router

from organizations.models import Cosigning, Organization

from .models import Signature, Statement

_PUBLIC = [str(status) for status in Statement.PUBLIC_STATUSES]
_IS_PUBLIC = f"st.status IN ({', '.join(['%s'] * len(_PUBLIC))})"
_STATEMENT = Statement._meta.db_table
_SIGNATURE = Signature._meta.db_table

# The first (and, the same way, the last) date the kept organisation (%s) shared a public
# statement with each other one, found the cheaper of two ways for each row: walking the
# public statements in date order until one both signed, which takes about (public
# statements / shared count) steps, or going through all the other's public signatures.
# The first is quick for frequent co-signers, the second for organisations that signed
# little; choosing per row keeps a page of either kind a few milliseconds at 1M.
_WALK = f"""(
    SELECT st.issued_on FROM {_STATEMENT} st WHERE {_IS_PUBLIC}
    AND EXISTS (SELECT 1 FROM {_SIGNATURE} k WHERE k.statement_id = st.id
                AND k.organization_id = %s)
    AND EXISTS (SELECT 1 FROM {_SIGNATURE} x WHERE x.statement_id = st.id
                AND x.organization_id = o.id)
    ORDER BY st.issued_on {{order}} LIMIT 1
)"""
_THROUGH = f"""(
    SELECT {{extreme}}(st.issued_on) FROM {_SIGNATURE} x
    JOIN {_STATEMENT} st ON st.id = x.statement_id
    WHERE x.organization_id = o.id AND {_IS_PUBLIC}
    AND EXISTS (SELECT 1 FROM {_SIGNATURE} k WHERE k.statement_id = st.id
                AND k.organization_id = %s)
)"""
_WALK_IS_CHEAPER = (
    # In 64 bits: at 10^7 signatures a hub's count times a frequent co-signer's passes 2^31.
    f"CAST(c.shared_count AS BIGINT) * o.public_statement_count >= "
    f"(SELECT COUNT(*) FROM {_STATEMENT} st WHERE {_IS_PUBLIC})"
)
_DATES = f"""
    SELECT o.id,
        CASE WHEN {_WALK_IS_CHEAPER} THEN {_WALK.format(order="ASC")}
             ELSE {_THROUGH.format(extreme="MIN")} END,
        CASE WHEN {_WALK_IS_CHEAPER} THEN {_WALK.format(order="DESC")}
             ELSE {_THROUGH.format(extreme="MAX")} END
    FROM {Organization._meta.db_table} o
    JOIN {Cosigning._meta.db_table} c ON c.other_id = o.id AND c.organization_id = %s
    WHERE o.id IN ({{others}})
"""


class _CosignerList:
    """
    An organisation's co-signers as a list a paginator can slice and count, each slice read
    by one query (and, kept, one more for its dates): the rows most shared first (then by
    name and id), with shared_count and the first and last dates shared.

    Only the rows that can be on the slice are joined to their names and sorted: those whose
    count reaches the count of the slice's last row (the threshold, found from the counts
    alone). A busy organisation has thousands of co-signers but few with its top counts, so
    its first pages sort a few rows, not all of them.
    """

    ordered = True  # for the paginator: the rows have a stable order

    def __init__(self, organization: Organization, using: str):
        self.organization = organization
        self.using = using

    def count(self) -> int:
        raise NotImplementedError

    def rows(self, offset: int, limit: int | None) -> list[dict]:
        raise NotImplementedError

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            if index.step not in (None, 1) or (index.start or 0) < 0 or (index.stop or 0) < 0:
                raise ValueError("Co-signers are sliced from the start, forwards.")
            offset = index.start or 0
            limit = None if index.stop is None else max(0, index.stop - offset)
            return [] if limit == 0 else self.rows(offset, limit)
        found = self.rows(index, 1) if index >= 0 else []
        if not found:
            raise IndexError(index)
        return found[0]

    def __iter__(self):
        return iter(self.rows(0, None))

    def _fetch(self, sql: str, params: list) -> list[dict]:
        # From the database the organisation came from (a replica, for a public read).
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, params)
            return [
                {
                    "organization_id": other,
                    "slug": slug,
                    "name": name,
                    "shared_count": count,
                    "first_shared_on": _date(first),
                    "last_shared_on": _date(last),
                }
                for other, slug, name, count, first, last in cursor.fetchall()
            ]


# As many rows as there are: SQLite needs a LIMIT before an OFFSET, and PostgreSQL takes no -1.
_ALL = 2**63 - 1


def _paged(sql: str, threshold: str, params: list, offset: int, limit: int | None):
    """
    `sql` (ending in ORDER BY) for the slice [offset, offset + limit): the `{threshold}` in it
    becomes `threshold`, a test that takes the offset of the slice's last row, or nothing for
    the rest of the list (limit None).
    """
    if limit is None:
        return sql.replace("{threshold}", "") + " LIMIT %s OFFSET %s", [*params, _ALL, offset]
    return (
        sql.replace("{threshold}", threshold) + " LIMIT %s OFFSET %s",
        [*params, offset + limit - 1, limit, offset],
    )


_COSIGNING = Cosigning._meta.db_table
_ORGANIZATION = Organization._meta.db_table

# A name and a slug looked up for each row that passed the threshold, by its id: a join lets
# the planner read every organisation (it cannot tell how few rows pass).
_SLUG_AND_NAME = f"""
    (SELECT o.slug FROM {_ORGANIZATION} o WHERE o.id = {{other}}) AS slug,
    (SELECT o.name FROM {_ORGANIZATION} o WHERE o.id = {{other}}) AS name"""

# The organisation's rows are read twice, for the threshold and for the slice: reading them
# once into a materialized CTE was measured slower than a second scan of pages just read.
_KEPT_ROWS = f"""
    SELECT c.other_id, {_SLUG_AND_NAME.format(other="c.other_id")}, c.shared_count
    FROM {_COSIGNING} c
    WHERE c.organization_id = %s {{threshold}}
    ORDER BY c.shared_count DESC, name, c.other_id
"""
_KEPT_THRESHOLD = f"""AND c.shared_count >= COALESCE((
    SELECT shared_count FROM {_COSIGNING} WHERE organization_id = %s
    ORDER BY shared_count DESC LIMIT 1 OFFSET %s), 0)"""


class KeptCosigners(_CosignerList):
    """
    The kept co-signers of one organisation: each slice is read from the co-signing table,
    then given its dates in one query.
    """

    def count(self) -> int:
        return Cosigning.objects.using(self.using).filter(organization=self.organization).count()

    def rows(self, offset: int, limit: int | None) -> list[dict]:
        kept = self.organization.pk
        params = [kept] if limit is None else [kept, kept]
        sql, params = _paged(_KEPT_ROWS, _KEPT_THRESHOLD, params, offset, limit)
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, params)
            rows = [
                {"organization_id": other, "slug": slug, "name": name, "shared_count": count}
                for other, slug, name, count in cursor.fetchall()
            ]
        return self._dated(rows)

    def _dated(self, rows: list[dict]) -> list[dict]:
        """The rows with the first and last dates of the public statements each pair shared."""
        if not rows:
            return rows
        others = [row["organization_id"] for row in rows]
        with connections[self.using].cursor() as cursor:
            kept = self.organization.pk
            either_way = [*_PUBLIC, *_PUBLIC, kept, *_PUBLIC, kept]  # the test, walk, through
            cursor.execute(
                _DATES.format(others=", ".join(["%s"] * len(others))),
                [*either_way, *either_way, kept, *others],
            )
            dates = {other: (first, last) for other, first, last in cursor.fetchall()}
        for row in rows:
            # A row the signatures no longer bear out (drift, until a rebuild) has no dates.
            first, last = dates.get(row["organization_id"], (None, None))
            row["first_shared_on"], row["last_shared_on"] = _date(first), _date(last)
        return rows


# The statements counted (`{positions}`: a query of statement ids) and, for each other
# organisation that signed one of them, how many and the first and last dates: grouped by
# organisation id alone, before any name is joined.
_LIVE_PAIRS = f"""
    WITH mine AS (SELECT st.id, st.issued_on FROM {_STATEMENT} st WHERE st.id IN ({{positions}})),
    pairs AS MATERIALIZED (
        SELECT s.organization_id AS other_id, COUNT(*) AS shared_count,
               MIN(m.issued_on) AS first_shared_on, MAX(m.issued_on) AS last_shared_on
        FROM mine m JOIN {_SIGNATURE} s ON s.statement_id = m.id
        WHERE s.organization_id <> %s
        GROUP BY s.organization_id
    )
"""
_LIVE_ROWS = (
    _LIVE_PAIRS
    + f"""
    SELECT p.other_id, {_SLUG_AND_NAME.format(other="p.other_id")},
           p.shared_count, p.first_shared_on, p.last_shared_on
    FROM pairs p {{threshold}}
    ORDER BY p.shared_count DESC, name, p.other_id
"""
)
_LIVE_THRESHOLD = """WHERE p.shared_count >= COALESCE((
    SELECT shared_count FROM pairs ORDER BY shared_count DESC LIMIT 1 OFFSET %s), 0)"""
_LIVE_COUNT = _LIVE_PAIRS + "SELECT COUNT(*) FROM pairs"


class LiveCosigners(_CosignerList):
    """
    The co-signers of an organisation whose co-signers are not kept, or on the statements of
    some of its signatures (`positions`, filtered): aggregated from the signatures, one query
    a slice.
    """

    def __init__(self, organization: Organization, positions, using: str):
        super().__init__(organization, using)
        # Their statement ids, unordered (the signatures' default order would sort them).
        query = positions.order_by().values("statement_id").query
        try:
            self.positions_sql, self.positions_params = query.get_compiler(using=using).as_sql()
        except EmptyResultSet:  # positions that can match nothing (.none())
            self.positions_sql, self.positions_params = "SELECT NULL WHERE 1 = 0", ()

    def _with_positions(self, template: str) -> tuple[str, list]:
        sql = template.replace("{positions}", self.positions_sql)
        return sql, [*self.positions_params, self.organization.pk]

    def count(self) -> int:
        sql, params = self._with_positions(_LIVE_COUNT)
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def rows(self, offset: int, limit: int | None) -> list[dict]:
        sql, params = self._with_positions(_LIVE_ROWS)
        return self._fetch(*_paged(sql, _LIVE_THRESHOLD, params, offset, limit))


def _date(value) -> datetime.date | None:
    """SQLite gives the dates of raw SQL as text."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def cosigner_rows(organization: Organization, positions=None) -> _CosignerList:
    """
    The organisations that signed public statements with `organization`, most shared
    first, as rows of organization_id, slug, name, shared_count, first_shared_on and
    last_shared_on. `positions` (its public signatures, filtered) limits the statements
    counted; without it, an organisation whose co-signers are kept is read from the
    co-signing table, any other aggregated from the signatures.
    """
    using = organization._state.db or router.db_for_read(Organization)
    if positions is None and organization.cosigners_kept:
        return KeptCosigners(organization, using)
    if positions is None:
        positions = Signature.objects.public().filter(organization=organization)
    return LiveCosigners(organization, positions.using(using), using)
