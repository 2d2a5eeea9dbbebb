"""
An organisation's co-signers: the other organisations that signed public statements with it,
most shared first, with the first and last dates they shared one.

For an organisation whose co-signers are kept (Organization.cosigners_kept) the list and its
counts are one index range of the co-signing table (organizations.Cosigning, kept by
statements.derived), and the dates are read for the rows shown only: the page, not every
co-signer. For any other, or for filtered positions, everything is aggregated from the
signatures, which is small below the threshold.
"""

from django.db import models
from django.db.models import F

from organizations.models import Cosigning, Organization

from .models import Signature


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
        dates = {
            other: (first, last)
            for other, first, last in Signature.objects.public()
            .filter(
                organization_id__in=[row["organization_id"] for row in rows],
                statement__signatures__organization=self.organization,
            )
            .order_by()
            .values("organization_id")
            .annotate(
                first=models.Min("statement__issued_on"), last=models.Max("statement__issued_on")
            )
            .values_list("organization_id", "first", "last")
        }
        for row in rows:
            # A row the signatures no longer bear out (drift, until a rebuild) has no dates.
            row["first_shared_on"], row["last_shared_on"] = dates.get(
                row["organization_id"], (None, None)
            )
        return rows


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
