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

from django.db import connections, models
from django.db.models import F

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
    f"c.shared_count * o.public_statement_count >= "
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


class KeptCosigners:
    """
    The kept co-signers of one organisation, as a list a paginator can slice and count:
    each slice is read from the co-signing table, then given its dates in one query.
    """

    ordered = True  # for the paginator: the rows have a stable order

    def __init__(self, organization: Organization):
        self.organization = organization
        self.rows = (
            Cosigning.objects.filter(organization=organization)
            .order_by("-shared_count", "other__name", "other_id")
            .values("shared_count")
            .annotate(organization_id=F("other_id"), slug=F("other__slug"), name=F("other__name"))
        )

    def count(self) -> int:
        return self.rows.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._dated(list(self.rows[index]))
        return self._dated([self.rows[index]])[0]

    def __iter__(self):
        return iter(self._dated(list(self.rows)))

    def _dated(self, rows: list[dict]) -> list[dict]:
        """The rows with the first and last dates of the public statements each pair shared."""
        if not rows:
            return rows
        others = [row["organization_id"] for row in rows]
        # From the database the rows came from (a replica, for a public read).
        with connections[self.rows.db].cursor() as cursor:
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


def _date(value) -> datetime.date | None:
    """SQLite gives the dates of raw SQL as text."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def cosigner_rows(organization: Organization, positions=None):
    """
    The organisations that signed public statements with `organization`, most shared
    first, as rows of organization_id, slug, name, shared_count, first_shared_on and
    last_shared_on. `positions` (its public signatures, filtered) limits the statements
    counted; without it, an organisation whose co-signers are kept is read from the
    co-signing table, any other aggregated from the signatures.
    """
    if positions is None and organization.cosigners_kept:
        return KeptCosigners(organization)
    if positions is None:
        positions = Signature.objects.public().filter(organization=organization)
    return (
        Signature.objects.filter(statement_id__in=positions.values("statement_id"))
        .exclude(organization=organization)
        .values("organization_id")
        .annotate(
            slug=models.Min("organization__slug"),
            name=models.Min("organization__name"),
            shared_count=models.Count("statement_id", distinct=True),
            first_shared_on=models.Min("statement__issued_on"),
            last_shared_on=models.Max("statement__issued_on"),
        )
        .order_by("-shared_count", "name", "organization_id")
    )
