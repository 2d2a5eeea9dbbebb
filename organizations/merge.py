"""
Merging two records of one organisation into one.

The kept record receives everything the other one had: its signatures, other names, media
contacts, quotes and former slugs. The other record's name, acronym and slug are recorded on
the kept one (as a former name, an acronym and a former slug that redirects), blank details of
the kept record are filled from the other, and the other record is deleted. Every row written
carries the reason "Merged “X” into “Y”" in its history.

An organisation known only from draft statements (not public, and named by a draft as a
signatory, a media contact or a quote's organisation: see withheld_draft) leaves no public
trace until the draft is published: its signatures, contacts and quotes move as any others,
but its name, acronym and other names are kept for matching as names withheld until that
draft is published (OtherName.withheld_until), its public details (website, description,
place...) are not copied into the kept record's but written into its staff notes, the old
slugs it had itself received do not redirect until then either (FormerSlug.withheld_until),
and its own slug, never public, does not redirect. A record known only from drafts cannot be
the one kept when the other is public: its own name would become public.

Where both records signed the same statement, the kept record's signature stays, with the
earlier of the two dates joined and the lead role if either was a lead sponsor (in the lead's
place in the printed list); if only the other had withdrawn, its withdrawal is carried over.
The other signature is deleted, and the name it was printed under is recorded as a variant
name of the kept record (withheld until the statement is published, if it is a draft).
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from statements import derived
from statements.models import MediaContact, Quote, Signature, Statement

from .models import FormerSlug, Organization, OtherName, normalize_name

# Details of the kept record that are filled from the other record when blank.
FILLED_FIELDS = ["acronym", "kind", "website", "description", "country", "city", "founded_year"]


@dataclass
class MergeReport:
    kept: Organization
    merged_name: str
    merged_slug: str
    signatures_moved: int = 0
    # Statements both had signed: the two signatures became one.
    combined_on: list[str] = field(default_factory=list)
    other_names_moved: int = 0
    other_names_added: list[str] = field(default_factory=list)
    # Names the kept record already had, or that equal its own name.
    other_names_dropped: list[str] = field(default_factory=list)
    media_contacts_moved: int = 0
    quotes_moved: int = 0
    # All now `kept`'s, redirecting to it but for those withheld until a draft is published.
    former_slugs: list[str] = field(default_factory=list)
    withheld_slugs: list[str] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)  # fields of `kept` filled from the other
    # Names kept staff-only until the draft they are known from is published.
    withheld_names: list[str] = field(default_factory=list)
    # Public details of a record known only from drafts, written into the staff notes instead.
    noted: list[str] = field(default_factory=list)

    def summary(self) -> str:
        counts = [
            (self.signatures_moved, "signature(s) moved"),
            (len(self.combined_on), "signature(s) on statements both had signed combined"),
            (self.other_names_moved + len(self.other_names_added), "other name(s) added"),
            (len(self.other_names_dropped), "other name(s) it already had dropped"),
            (self.media_contacts_moved, "media contact(s) moved"),
            (self.quotes_moved, "quote(s) moved"),
        ]
        parts = [f"{count} {what}" for count, what in counts if count]
        if self.withheld_names:
            parts.append(
                f"{len(self.withheld_names)} name(s) known only from drafts stay hidden from the "
                "public until the draft is published"
            )
        if self.withheld_slugs:
            parts.append(
                f"{len(self.withheld_slugs)} old address(es) known only from drafts do not "
                "redirect until the draft is published"
            )
        if self.noted:
            parts.append(f"its {', '.join(self.noted)} went into the staff notes, not public")
        if self.merged_slug in self.former_slugs:
            parts.append(f"its old address “{self.merged_slug}” now redirects here")
        return f"Merged “{self.merged_name}” into “{self.kept.name}”: " + "; ".join(parts) + "."


def merge_reason(*, keep: Organization, other: Organization) -> str:
    """The change reason on every history entry of a merge (history keeps 100 characters)."""
    reason = f"Merged “{other.name}” into “{keep.name}”"
    return reason if len(reason) <= 100 else reason[:99] + "…"


def shared_statements(a: Organization, b: Organization):
    """The statements both organisations signed."""
    return Statement.objects.filter(signatures__organization=a).filter(signatures__organization=b)


def withheld_draft(organization: Organization) -> Statement | None:
    """
    For an organisation known only from drafts, the draft its names, details and old
    addresses stay off public pages until: None for any other organisation.

    Known only from drafts: it is not public (it signed no public statement, see
    Organization.objects.public()) and a draft names it, as a signatory, a media contact or
    the organisation of a quote. Of those drafts, the first one it signed, which is the one
    whose publication would have made it public; if it signed none, the first draft that
    otherwise names it. (Should another of its drafts come out first, its names stay
    hidden a little longer, until that one is: staff may clear them in the admin.)
    """
    if organization.public_statement_count > 0:
        return None
    not_public = ~Statement.public_filter("statement__")
    for model in (Signature, MediaContact, Quote):
        row = (
            model.objects.filter(not_public, organization=organization)
            .select_related("statement")
            .order_by("pk")
            .first()
        )
        if row is not None:
            return row.statement
    return None


def known_only_from_drafts(organization: Organization) -> bool:
    """Whether `organization` is not public, and a draft names it (see withheld_draft)."""
    return withheld_draft(organization) is not None


def parts_count(organization: Organization) -> dict[str, int]:
    """How much a merge would move away from `organization`."""
    return {
        "signatures": organization.signatures.count(),
        "other_names": organization.other_names.count(),
        "media_contacts": organization.media_contacts.count(),
        "quotes": organization.quotes.count(),
        "former_slugs": organization.former_slugs.count(),
    }


def merge_organizations(*, keep: Organization, other: Organization) -> MergeReport:
    """
    Merge `other` into `keep` (see the module's docstring) in one transaction, and delete
    `other`. Keyword-only, since the two are easily swapped and the swap is not harmless.
    """
    if keep.pk is None or other.pk is None:
        raise ValidationError("Both organisations must be saved before they can be merged.")
    if keep.pk == other.pk:
        raise ValidationError("An organisation cannot be merged into itself.")
    with transaction.atomic():
        # Statements first, then organisations: the order a statement's save takes them in
        # (its row, then its signers' counts), so that the two never wait on each other.
        signed = Signature.objects.filter(organization__in=[keep.pk, other.pk])
        list(
            Statement.objects.select_for_update()
            .filter(pk__in=signed.values("statement_id"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        locked = {
            org.pk: org
            for org in Organization.objects.select_for_update()
            .filter(pk__in=[keep.pk, other.pk])
            .order_by("pk")
        }
        if len(locked) != 2:
            raise ValidationError(
                "One of the two organisations no longer exists: it may have just been merged "
                "or deleted."
            )
        keep, other = locked[keep.pk], locked[other.pk]
        if other.public_statement_count > 0 and known_only_from_drafts(keep):
            raise ValidationError(
                f"“{keep.name}” is known only from drafts: keep “{other.name}” instead, or its "
                "name would become public before the draft is published."
            )
        report = _Merge(keep, other).run()
        derived.organizations_merged(keep_id=keep.pk, other_id=other.pk)
        return report


class _Merge:
    def __init__(self, keep: Organization, other: Organization):
        self.keep = keep
        self.other = other
        self.reason = merge_reason(keep=keep, other=other)
        self.report = MergeReport(kept=keep, merged_name=other.name, merged_slug=other.slug)
        self.taken_names = {keep.name.lower()} | {
            name.lower() for name in keep.other_names.values_list("name", flat=True)
        }

    def run(self) -> MergeReport:
        # An organisation known only from drafts must not become public through the merge:
        # its names, details and address would tell of an unpublished statement.
        self.draft = withheld_draft(self.other)
        was_public = self.draft is None
        printed_names = self.move_signatures()
        self.move_other_names()
        self.add_name(self.other.name, OtherName.Kind.FORMER, self.draft)
        self.add_name(self.other.acronym, OtherName.Kind.ACRONYM, self.draft)
        for name, statement in printed_names:
            self.add_name(name, OtherName.Kind.VARIANT, None if statement.is_public else statement)
        for model, counter in ((MediaContact, "media_contacts_moved"), (Quote, "quotes_moved")):
            for row in model.objects.filter(organization=self.other).order_by("pk"):
                row.organization = self.keep
                self.save(row)
                setattr(self.report, counter, getattr(self.report, counter) + 1)
        for former in FormerSlug.objects.filter(organization=self.other).order_by("pk"):
            former.organization = self.keep
            if self.draft is not None and former.withheld_until_id is None:
                # It would redirect to the public record, and tell of the draft.
                former.withheld_until = self.draft
                self.report.withheld_slugs.append(former.slug)
            self.save(former)
        self.fill_blanks()
        self.save(self.keep)  # so that the kept record's own history shows the merge

        old_slug = self.other.slug
        self.other._change_reason = self.reason
        self.other.delete()
        # Only now that no organisation has it can the old slug become a former one.
        if was_public:
            self.save(FormerSlug(organization=self.keep, slug=old_slug))
        self.report.former_slugs = list(
            self.keep.former_slugs.order_by("slug").values_list("slug", flat=True)
        )
        return self.report

    def save(self, obj):
        obj._change_reason = self.reason
        obj.save()

    def delete(self, obj):
        obj._change_reason = self.reason
        obj.delete()

    def move_signatures(self) -> list[tuple[str, Statement]]:
        """Move the other's signatures; returns the names it was printed under where both signed."""
        kept = {sig.statement_id: sig for sig in Signature.objects.filter(organization=self.keep)}
        printed_names = []
        moving = Signature.objects.filter(organization=self.other).select_related("statement")
        for signature in moving.order_by("statement__issued_on", "pk"):
            mine = kept.get(signature.statement_id)
            if mine is None:
                # Blank means "the organisation's name": keep the name the statement printed.
                signature.name_as_printed = signature.name_as_printed or self.other.name
                signature.organization = self.keep
                self.save(signature)
                self.report.signatures_moved += 1
                continue
            printed_names.append(
                (signature.name_as_printed or self.other.name, signature.statement)
            )
            self.delete(signature)
            mine.joined_on = min(mine.joined_on, signature.joined_on)
            if mine.withdrawn_on is None and signature.withdrawn_on is not None:
                # The other's withdrawal stands (its date is after both dates joined).
                mine.withdrawn_on = signature.withdrawn_on
                mine.withdrawal_reason = signature.withdrawal_reason
            if signature.role == Signature.Role.LEAD and mine.role != Signature.Role.LEAD:
                mine.role = Signature.Role.LEAD
                mine.position = signature.position
            self.save(mine)
            self.report.combined_on.append(signature.statement.title)
        return printed_names

    def move_other_names(self):
        for other_name in OtherName.objects.filter(organization=self.other).order_by("pk"):
            key = other_name.name.lower()
            if key not in self.taken_names:
                other_name.organization = self.keep
                if self.draft is not None and other_name.withheld_until_id is None:
                    other_name.withheld_until = self.draft
                try:
                    with transaction.atomic():
                        self.save(other_name)
                except IntegrityError:  # the database compares case a little differently
                    other_name.organization = self.other
                else:
                    self.taken_names.add(key)
                    self.report.other_names_moved += 1
                    if other_name.withheld_until_id is not None:
                        self.report.withheld_names.append(other_name.name)
                    continue
            self.report.other_names_dropped.append(other_name.name)
            self.delete(other_name)

    def add_name(self, name: str, kind: str, withheld_until: Statement | None):
        name = normalize_name(name)
        if not name or name.lower() in self.taken_names:
            return
        other_name = OtherName(
            organization=self.keep, name=name, kind=kind, withheld_until=withheld_until
        )
        try:
            with transaction.atomic():
                self.save(other_name)
        except IntegrityError:
            return
        self.taken_names.add(name.lower())
        self.report.other_names_added.append(name)
        if withheld_until is not None:
            self.report.withheld_names.append(name)

    def fill_blanks(self):
        notes = []
        for name in FILLED_FIELDS:
            value = getattr(self.other, name)
            if value in ("", None):
                continue
            if self.draft is not None:
                # Public details, known only from a draft: for staff to copy once it is out.
                label = Organization._meta.get_field(name).verbose_name
                shown = self.other.get_kind_display() if name == "kind" else value
                notes.append(f"{label}: {shown}")
                self.report.noted.append(label)
            elif getattr(self.keep, name) in ("", None):
                setattr(self.keep, name, value)
                self.report.filled.append(name)
        if notes:
            notes.insert(
                0,
                f"From “{self.other.name}” (merged into this record; known only from the draft "
                f"“{self.draft.title}”, so not made public):",
            )
        if self.other.notes:
            notes.append(f"From “{self.other.name}” (merged into this record): {self.other.notes}")
        if notes:
            note = "\n".join(notes)
            self.keep.notes = f"{self.keep.notes}\n\n{note}" if self.keep.notes else note
