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
draft is published (a Withholding, and OtherName.withheld), its public details (website,
description, place...) are not copied into the kept record's but written into its staff
notes, the old slugs it had itself received do not redirect until then either (a
Withholding, and FormerSlug.withheld), and its own slug, never public, does not redirect. A
record known only from drafts cannot be the one kept when the other is public: its own name
would become public.

Where both records signed the same statement, the kept record's signature stays, with the
earlier of the two dates joined and the lead role if either was a lead sponsor (in the lead's
place in the printed list); if only the other had withdrawn, its withdrawal is carried over.
The other signature is deleted, and the name it was printed under is recorded as a variant
name of the kept record (withheld until the statement is published, if it is a draft).

The rows move set-based: one UPDATE for all the signatures that move, one for the kept
signatures on statements both had signed, one DELETE for the other's signatures there, and
so on for the other parts, each with its history entries written by one INSERT ... SELECT.
A merge makes the same number of queries whether it moves five signatures or sixteen
thousand.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from simple_history.models import HistoricalRecords

from organizations.models import FormerSlug, Organization, OtherName, name_key, normalize_name

from . import changes, derived
from .models import MediaContact, Quote, Signature, Statement, Withholding

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
    hidden a little longer, until that one is: staff may release them in the admin.)
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
        # The statements whose signatures change are the other's: those the kept one signed
        # alone keep theirs, and its count and co-signing rows are guarded by its own lock.
        signed = Signature.objects.filter(organization=other.pk).values_list(
            "statement_id", flat=True
        )
        derived.lock_for_write(statement_ids=list(signed), organization_ids=[keep.pk, other.pk])
        locked = Organization.objects.in_bulk([keep.pk, other.pk])
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
        try:
            return _Merge(keep, other).run()
        except IntegrityError as error:  # a row written since the checks, most likely
            raise ValidationError(
                f"The database refused the merge, and nothing was changed: {error}"
            ) from None


class _Merge:
    def __init__(self, keep: Organization, other: Organization):
        self.keep = keep
        self.other = other
        self.reason = merge_reason(keep=keep, other=other)
        self.report = MergeReport(kept=keep, merged_name=other.name, merged_slug=other.slug)
        self.history = _History(reason=self.reason)
        self.taken_names = {keep.name.lower()}
        self.taken_keys = {keep.name_key}
        for name, key in keep.other_names.values_list("name", "name_key"):
            self.taken_names.add(name.lower())
            self.taken_keys.add(key)
        self.new_names: list[tuple[OtherName, Statement | None]] = []

    def run(self) -> MergeReport:
        # An organisation known only from drafts must not become public through the merge:
        # its names, details and address would tell of an unpublished statement.
        self.draft = withheld_draft(self.other)
        was_public = self.draft is None
        printed_names, moved_statement_ids = self.move_signatures()
        self.move_other_names()
        self.add_name(self.other.name, OtherName.Kind.FORMER, self.draft)
        self.add_name(self.other.acronym, OtherName.Kind.ACRONYM, self.draft)
        for name, statement in printed_names:
            self.add_name(name, OtherName.Kind.VARIANT, None if statement.is_public else statement)
        self.write_new_names()
        for model, counter in ((MediaContact, "media_contacts_moved"), (Quote, "quotes_moved")):
            moving = model.objects.filter(organization=self.other)
            self.history.changed(moving, organization_id=Value(self.keep.pk))
            setattr(self.report, counter, moving.update(organization=self.keep))
        self.move_former_slugs()
        self.fill_blanks()
        self.save(self.keep)  # so that the kept record's own history shows the merge
        derived.organizations_merged(
            keep_id=self.keep.pk, other_id=self.other.pk, moved_statement_ids=moved_statement_ids
        )

        old_pk, old_slug = self.other.pk, self.other.slug
        self.other._change_reason = self.reason
        self.other.delete()
        # Only now that no organisation has it can the old slug become a former one.
        if was_public:
            self.save(FormerSlug(organization=self.keep, slug=old_slug))
        self.report.former_slugs = list(
            self.keep.former_slugs.order_by("slug").values_list("slug", flat=True)
        )
        changes.record_merge(organization_id=old_pk, slug=old_slug, into_id=self.keep.pk)
        return self.report

    def save(self, obj):
        obj._change_reason = self.reason
        obj.save()

    def move_signatures(self) -> tuple[list[tuple[str, Statement]], list[int]]:
        """
        Move the other's signatures. Returns the names it was printed under where both
        signed, and the statements its signatures moved to the kept organisation on.
        """
        theirs = Signature.objects.filter(organization=self.other)
        shared = theirs.filter(
            statement_id__in=Signature.objects.filter(organization=self.keep).values("statement_id")
        )
        combined = list(
            shared.select_related("statement")
            .order_by("statement__issued_on", "pk")
            .only("name_as_printed", "statement__title", "statement__status")
        )
        printed_names = []
        if combined:
            printed_names = [
                (signature.name_as_printed or self.other.name, signature.statement)
                for signature in combined
            ]
            self.report.combined_on = [signature.statement.title for signature in combined]
            changed = self.combine()
            if changed:
                self.history.written(Signature.objects.filter(pk__in=changed))
            self.history.delete(shared)
        moving = theirs  # what is left of them
        # Blank means "the organisation's name": keep the name the statement printed.
        moved_values = {
            "organization_id": Value(self.keep.pk),
            "name_as_printed": Case(
                When(name_as_printed="", then=Value(self.other.name)),
                default=F("name_as_printed"),
            ),
        }
        moved_statement_ids = list(moving.values_list("statement_id", flat=True))
        self.history.changed(moving, **moved_values)
        self.report.signatures_moved = moving.update(**moved_values)
        return printed_names, moved_statement_ids

    def combine(self) -> list[int]:
        """
        The kept signatures on statements both signed, given the other's there (`theirs`):
        the earlier date joined, the other's withdrawal if only it had withdrawn (its date is
        after both dates joined), the lead role and the lead's place if it was a lead
        sponsor. One UPDATE ... FROM ... RETURNING, which PostgreSQL and SQLite (3.35 and
        later) both take; the right-hand sides read the row as it was before the update.
        Only the signatures that change are written (on a hub most do not): returns their ids.
        """
        connection = connections[Signature.objects.db]
        postgresql = connection.vendor == "postgresql"
        earlier = "LEAST" if postgresql else "MIN"
        # SQLite's RETURNING names the updated table's columns alone, unqualified.
        returned = "mine.id" if postgresql else "id"
        withdrew = "mine.withdrawn_on IS NULL AND theirs.withdrawn_on IS NOT NULL"
        leads = "theirs.role = %s AND mine.role <> %s"
        table = connection.ops.quote_name(Signature._meta.db_table)
        lead = Signature.Role.LEAD.value
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS mine SET
                    joined_on = {earlier}(mine.joined_on, theirs.joined_on),
                    withdrawn_on = CASE WHEN {withdrew} THEN theirs.withdrawn_on
                                   ELSE mine.withdrawn_on END,
                    withdrawal_reason = CASE WHEN {withdrew} THEN theirs.withdrawal_reason
                                        ELSE mine.withdrawal_reason END,
                    position = CASE WHEN {leads} THEN theirs.position ELSE mine.position END,
                    role = CASE WHEN {leads} THEN theirs.role ELSE mine.role END
                FROM {table} AS theirs
                WHERE mine.organization_id = %s AND theirs.organization_id = %s
                  AND theirs.statement_id = mine.statement_id
                  AND (theirs.joined_on < mine.joined_on OR ({withdrew}) OR ({leads}))
                RETURNING {returned}
                """,
                [lead, lead, lead, lead, self.keep.pk, self.other.pk, lead, lead],
            )
            return [pk for (pk,) in cursor.fetchall()]

    def move_other_names(self):
        moving, dropping, withholding = [], [], []
        rows = (
            OtherName.objects.filter(organization=self.other)
            .select_related("withholding")
            .order_by("pk")
        )
        for other_name in rows:
            held = hasattr(other_name, "withholding")
            if self.take(other_name.name, other_name.name_key):
                moving.append(other_name.pk)
                self.report.other_names_moved += 1
                if self.draft is not None and not held:
                    withholding.append(other_name.pk)
                    held = True
                if held:
                    self.report.withheld_names.append(other_name.name)
            else:
                dropping.append(other_name)
                self.report.other_names_dropped.append(other_name.name)
        if dropping:
            self.history.delete(Withholding.objects.filter(other_name__in=dropping))
            self.history.delete(OtherName.objects.filter(pk__in=[row.pk for row in dropping]))
        if moving:
            moved = OtherName.objects.filter(pk__in=moving)
            values = {"organization_id": Value(self.keep.pk)}
            if withholding:
                values["withheld"] = Case(
                    When(pk__in=withholding, then=Value(True)), default=F("withheld")
                )
            self.history.changed(moved, **values)
            moved.update(**values)
        self.withhold([Withholding(statement=self.draft, other_name_id=pk) for pk in withholding])

    def take(self, name: str, key: str) -> bool:
        """Whether `name` is new to the kept record (then it is now taken)."""
        if name.lower() in self.taken_names or key in self.taken_keys:
            return False
        self.taken_names.add(name.lower())
        self.taken_keys.add(key)
        return True

    def add_name(self, name: str, kind: str, withheld_until: Statement | None):
        name = normalize_name(name)
        if not name or not self.take(name, name_key(name)):
            return
        other_name = OtherName(
            organization=self.keep, name=name, kind=kind, withheld=withheld_until is not None
        )
        other_name.clean()
        self.new_names.append((other_name, withheld_until))
        self.report.other_names_added.append(name)
        if withheld_until is not None:
            self.report.withheld_names.append(name)

    def write_new_names(self):
        if not self.new_names:
            return
        created = OtherName.objects.bulk_create([row for row, _draft in self.new_names])
        self.history.created(OtherName.objects.filter(pk__in=[row.pk for row in created]))
        self.withhold(
            [
                Withholding(statement=draft, other_name=row)
                for row, draft in self.new_names
                if draft is not None
            ]
        )

    def move_former_slugs(self):
        rows = list(
            FormerSlug.objects.filter(organization=self.other)
            .select_related("withholding")
            .order_by("pk")
        )
        if not rows:
            return
        withholding = []
        if self.draft is not None:
            # They would redirect to the public record, and tell of the draft.
            withholding = [row for row in rows if not hasattr(row, "withholding")]
            self.report.withheld_slugs = [row.slug for row in withholding]
        moving = FormerSlug.objects.filter(pk__in=[row.pk for row in rows])
        values = {"organization_id": Value(self.keep.pk)}
        if withholding:
            values["withheld"] = Case(
                When(pk__in=[row.pk for row in withholding], then=Value(True)),
                default=F("withheld"),
            )
        self.history.changed(moving, **values)
        moving.update(**values)
        self.withhold([Withholding(statement=self.draft, former_slug=row) for row in withholding])

    def withhold(self, rows: list[Withholding]):
        if rows:
            created = Withholding.objects.bulk_create(rows)
            self.history.created(Withholding.objects.filter(pk__in=[row.pk for row in created]))

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


class _History:
    """
    History entries (django-simple-history) for rows written by one UPDATE, INSERT or
    DELETE, each written by one INSERT ... SELECT from the rows themselves, as saving each
    row would have written it: with the merge's reason and the request's user.
    """

    def __init__(self, *, reason: str):
        self.reason = reason
        self.date = timezone.now()
        request = getattr(HistoricalRecords.context, "request", None)
        user = getattr(request, "user", None)
        self.user_id = user.pk if user is not None and user.is_authenticated else None

    def changed(self, rows: models.QuerySet, **values) -> None:
        """Before `rows.update(**values)`: entries showing the rows as they will be."""
        self._record(rows, "~", values)

    def written(self, rows: models.QuerySet) -> None:
        """After `rows` were changed: entries showing them as they are."""
        self._record(rows, "~", {})

    def created(self, rows: models.QuerySet) -> None:
        self._record(rows, "+", {})

    def delete(self, rows: models.QuerySet) -> None:
        """Delete `rows` (nothing refers to them), recording their deletion."""
        self._record(rows, "-", {})
        connection = connections[rows.db]
        sql, params = rows.order_by().values("pk").query.get_compiler(rows.db).as_sql()
        table = connection.ops.quote_name(rows.model._meta.db_table)
        with connection.cursor() as cursor:
            # Not a queryset's delete(): it would send each row's signals, one history entry
            # (one INSERT) a row.
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({sql})", params)

    def _record(self, rows: models.QuerySet, history_type: str, values: dict) -> None:
        historical = rows.model.history.model
        columns, selected = [], []
        for history_field in historical._meta.concrete_fields:
            name = history_field.name
            if name == "history_id":
                continue
            columns.append(history_field.column)
            if name == "history_date":
                selected.append(Value(self.date, output_field=models.DateTimeField()))
            elif name == "history_change_reason":
                selected.append(Value(self.reason, output_field=models.CharField()))
            elif name == "history_type":
                selected.append(Value(history_type, output_field=models.CharField()))
            elif name == "history_user":
                selected.append(Value(self.user_id, output_field=models.IntegerField()))
            else:
                selected.append(values.get(history_field.attname, F(history_field.attname)))
        query = rows.order_by().values_list(*selected).query
        sql, params = query.get_compiler(rows.db).as_sql()
        connection = connections[rows.db]
        table = connection.ops.quote_name(historical._meta.db_table)
        names = ", ".join(connection.ops.quote_name(column) for column in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)
