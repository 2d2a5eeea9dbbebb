import contextlib

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Lower
from django.db.models.query import ValuesListIterable
from django.urls import reverse
from simple_history.models import HistoricalRecords

from organizations.models import FormerSlug, Organization, OtherName, normalize_name
from tracker.text import CheckedText

from . import partial_dates
from .documents import validate_document


def validate_document_size(document) -> None:
    limit = settings.MAX_DOCUMENT_SIZE
    if document.size > limit:
        raise ValidationError(
            f"The file is {document.size / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB.",
            code="file_too_large",
        )


class TopicQuerySet(models.QuerySet):
    def public(self):
        """Topics of at least one public statement: a draft's topic would tell of its subject."""
        through = Statement.topics.through
        return self.filter(
            Exists(
                through.objects.filter(
                    Statement.public_filter("statement__"), topic_id=OuterRef("pk")
                )
            )
        )


class Topic(CheckedText, models.Model):
    name = models.CharField(max_length=100, help_text="Short, e.g. “Gaza” or “Peacekeeping”.")
    slug = models.SlugField(
        max_length=100, unique=True, help_text="Used in public addresses and the API."
    )
    description = models.TextField(blank=True, help_text="Optional public description.")

    objects = TopicQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="statements_topic_unique_name_ci",
                violation_error_message="A topic with this name already exists.",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.clean()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("topic-detail", args=[self.slug])

    def clean(self):
        self.name = normalize_name(self.name)


class StatementQuerySet(models.QuerySet):
    def public(self):
        """
        What anyone may see: published and retracted statements (a retracted statement
        stays on record, marked as retracted). Drafts are staff-only. Every public page, API
        endpoint, feed, count and aggregate starts from here.
        """
        return self.filter(Statement.public_filter())

    # What a list shows of a statement (the API's list and its CSV, the pages' lists): its
    # long texts and timestamps are not read for it.
    LISTED_FIELDS = ("id", "slug", "title", "kind", "status", "issued_on", "place", "ask")

    def listed(self, as_of=None):
        """
        As lists show statements: what they show of each (LISTED_FIELDS), with `lead_count`
        and `signatory_count` (of those who had signed by `as_of` and not withdrawn, if
        given) and their topics, A to Z (Statement.listed_topics).
        """
        # Counted per row by a correlated subquery, not a join and GROUP BY: PostgreSQL
        # then counts only the rows of the page, after sorting and LIMIT.
        standing = Q() if as_of is None else Signature.standing_on(as_of)

        def count(role):
            signatures = (
                Signature.objects.filter(standing, statement=OuterRef("pk"), role=role)
                .order_by()
                .values("statement")
                .annotate(n=models.Count("pk"))
                .values("n")
            )
            return Coalesce(Subquery(signatures), 0)

        return (
            self.only(*self.LISTED_FIELDS)
            .annotate(
                lead_count=count(Signature.Role.LEAD),
                signatory_count=count(Signature.Role.SIGNATORY),
            )
            .prefetch_related(
                models.Prefetch(
                    "topics", queryset=Topic.objects.order_by("name"), to_attr="prefetched_topics"
                )
            )
        )

    def with_public_parts(self):
        """
        The whole statement (every field, even after listed()), with the parts its page
        shows, one query each: public media contacts (as `public_contacts`), coverage and
        quotes. Its signatures are read apart, as rows (Statement.signature_rows), being
        hundreds.
        """
        return self.defer(None).prefetch_related(
            models.Prefetch(
                "media_contacts",
                queryset=MediaContact.objects.filter(is_public=True).select_related("organization"),
                to_attr="public_contacts",
            ),
            models.Prefetch("coverage", queryset=CoverageLink.objects.order_by("position", "id")),
            models.Prefetch(
                "quotes", queryset=Quote.objects.select_related("organization", "source")
            ),
        )


class Statement(CheckedText, models.Model):
    class Kind(models.TextChoices):
        JOINT_STATEMENT = "joint_statement", "Joint statement"
        SIGN_ON_LETTER = "sign_on_letter", "Sign-on letter"
        OPEN_LETTER = "open_letter", "Open letter"
        PRESS_RELEASE = "press_release", "Press release"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (staff only)"
        PUBLISHED = "published", "Published"
        RETRACTED = "retracted", "Retracted (stays visible, marked retracted)"

    PUBLIC_STATUSES = (Status.PUBLISHED, Status.RETRACTED)

    title = models.CharField(max_length=500, help_text="The title as the statement prints it.")
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="Used in public addresses and the API. Changing it breaks existing links.",
    )
    kind = models.CharField(
        max_length=20,
        choices=Kind.choices,
        default=Kind.JOINT_STATEMENT,
        db_index=True,
        help_text="What sort of document it is.",
    )
    status = models.CharField(
        max_length=20,
        choices=Status.choices,
        default=Status.DRAFT,
        db_index=True,
        help_text="Only published and retracted statements are public.",
    )
    issued_on = models.DateField(
        "issued on", db_index=True, help_text="The date the statement was issued."
    )
    place = models.CharField(
        max_length=200, blank=True, help_text="Where it was issued, e.g. “Washington, D.C.”."
    )
    summary = models.TextField(
        blank=True,
        help_text="A short public summary, or the excerpt a source quotes when the full text "
        "is not on record.",
    )
    full_text = models.TextField(blank=True, help_text="The complete text, as issued.")
    ask = models.TextField(
        blank=True,
        help_text="One sentence: what the statement urges, and of whom. Quote it if you can.",
    )
    source_url = models.URLField(
        "source URL",
        max_length=1000,
        blank=True,
        help_text="Where the statement is published. Leave blank if unknown.",
    )
    document = models.FileField(
        upload_to="statements/%Y/",
        blank=True,
        validators=[validate_document, validate_document_size],
        help_text="Optional copy of the statement as issued: PDF, Word, OpenDocument, RTF, "
        "plain text, or a PNG or JPEG scan. Always offered as a download.",
    )
    topics = models.ManyToManyField(
        Topic, blank=True, related_name="statements", help_text="What the statement is about."
    )
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="When this statement was made public here."
    )
    retraction_note = models.TextField(
        blank=True, help_text="Public note shown on a retracted statement: why and when."
    )
    notes = models.TextField(
        blank=True, help_text="Private to staff: never shown on public pages or in the API."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The weighted words of title, ask, summary and full text, for full-text search: kept by
    # a PostgreSQL trigger and GIN-indexed (migration 0004). Unused on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = StatementQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["updated_at", "search_vector"], m2m_fields=[topics]
    )

    class Meta:
        ordering = ["-issued_on", "-id"]
        indexes = [models.Index(fields=["status", "-issued_on"], name="statements_public_recent")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("statement-detail", args=[self.slug])

    @staticmethod
    def on_topic(topic, outer: str = "pk") -> Exists:
        """True where the statement at OuterRef(`outer`) has `topic`."""
        return Exists(
            Statement.topics.through.objects.filter(statement_id=OuterRef(outer), topic=topic)
        )

    @staticmethod
    def public_filter(prefix: str = "") -> Q:
        """The one definition of public, for this model or through a relation (`prefix`)."""
        return Q(**{f"{prefix}status__in": Statement.PUBLIC_STATUSES})

    @property
    def is_public(self) -> bool:
        return self.status in self.PUBLIC_STATUSES

    @property
    def listed_topics(self) -> list["Topic"]:
        """
        Its topics, A to Z: those listed() read with the others of a page of statements (a
        plain list: a related manager and a queryset made for each statement cost more than
        the rest of a list row), or read now.
        """
        prefetched = getattr(self, "prefetched_topics", None)
        return list(self.topics.order_by("name")) if prefetched is None else prefetched

    def signature_rows(self, as_of=None) -> list["SignatureRow"]:
        """Its signatures in printed order, as rows (only those standing on `as_of`, if given)."""
        signatures = Signature.objects.filter(statement=self).order_by("position", "id")
        if as_of is not None:
            signatures = signatures.filter(Signature.standing_on(as_of))
        return signatures.rows()


def _related_name(obj, field: str, attribute: str) -> str:
    """
    `attribute` of the record `obj.<field>` refers to. If that record no longer exists (an
    old version of `obj` read from its history, deleted with it), its last version's, or
    "<its verbose name> #<id>" if it has none.
    """
    try:
        return getattr(getattr(obj, field), attribute)
    except ObjectDoesNotExist:
        target = obj._meta.get_field(field)
        pk = getattr(obj, target.attname)
        history = getattr(target.related_model, "history", None)
        if history is not None and pk is not None:
            last = history.filter(id=pk).order_by("-history_date", "-history_id").first()
            if last is not None:
                return getattr(last, attribute)
        return f"{target.related_model._meta.verbose_name} #{pk}"


class AsShown:
    """What a signature shows, for the model and its plain rows (SignatureRow) alike."""

    __slots__ = ()

    @property
    def printed_name(self) -> str:
        return self.name_as_printed or self.organization.name

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_on is not None


class OrganizationRow:
    """An organisation as a signature row names it: what a link to its page needs."""

    __slots__ = ("acronym", "name", "slug")

    def __init__(self, slug: str, name: str, acronym: str):
        self.slug, self.name, self.acronym = slug, name, acronym


class SignatureRow(AsShown):
    """
    A signature as a statement's page and API answer show it, read as plain values: a
    500-signatory statement's rows cost a fifth of as many model instances (with their
    organisations) to read. The attributes are the model's, for what is shown.
    """

    __slots__ = (
        "joined_on",
        "name_as_printed",
        "organization",
        "position",
        "role",
        "withdrawal_reason",
        "withdrawn_on",
    )

    COLUMNS = (
        "position",
        "role",
        "name_as_printed",
        "joined_on",
        "withdrawn_on",
        "withdrawal_reason",
        "organization__slug",
        "organization__name",
        "organization__acronym",
    )

    def __init__(self, position, role, name_as_printed, joined_on, withdrawn_on, reason, *org):
        self.position, self.role, self.name_as_printed = position, role, name_as_printed
        self.joined_on, self.withdrawn_on, self.withdrawal_reason = joined_on, withdrawn_on, reason
        self.organization = OrganizationRow(*org)


class StatementRef:
    """A statement as a listed signature names it: what its reference in a list shows."""

    __slots__ = ("id", "issued_on", "kind", "slug", "status", "title")

    def __init__(self, id, slug, title, kind, status, issued_on):
        self.id, self.slug, self.title = id, slug, title
        self.kind, self.status, self.issued_on = kind, status, issued_on


class ListedSignature(AsShown):
    """
    A signature as the API's lists show it (the signatures, a timeline, their CSV), read as
    plain values with its statement's and organisation's: three model instances a row cost
    more than the query of a page. The attributes are the model's, for what is shown.
    """

    __slots__ = (
        "id",
        "joined_on",
        "name_as_printed",
        "organization",
        "organization_id",
        "position",
        "role",
        "statement",
        "withdrawal_reason",
        "withdrawn_on",
    )

    def __init__(self, id, role, printed, position, joined_on, withdrawn_on, reason, *rest):
        self.id, self.role, self.name_as_printed, self.position = id, role, printed, position
        self.joined_on, self.withdrawn_on, self.withdrawal_reason = joined_on, withdrawn_on, reason
        # The statement's six fields, then the organisation's id and three (LISTED_FIELDS).
        self.statement = StatementRef(*rest[:6])
        self.organization = OrganizationRow(*rest[7:])
        self.organization_id = rest[6]

    @property
    def statement_id(self) -> int:
        return self.statement.id


class ListedSignatureIterable(ValuesListIterable):
    """A values_list queryset's rows of SignatureQuerySet.LISTED_FIELDS, as ListedSignature."""

    def __iter__(self):
        for values in super().__iter__():
            yield ListedSignature(*values)


class SignatureQuerySet(models.QuerySet):
    # What a listed signature shows (the API's signatures and timelines, and their CSV):
    # itself, its statement's reference and its organisation's.
    LISTED_FIELDS = (
        "id",
        "role",
        "name_as_printed",
        "position",
        "joined_on",
        "withdrawn_on",
        "withdrawal_reason",
        "statement__id",
        "statement__slug",
        "statement__title",
        "statement__kind",
        "statement__status",
        "statement__issued_on",
        "organization__id",
        "organization__slug",
        "organization__name",
        "organization__acronym",
    )

    def listed(self):
        """
        For what a list shows of them, with their statements' and organisations': rows of
        plain values (ListedSignature), still a queryset to filter, order and page.
        """
        rows = self.values_list(*self.LISTED_FIELDS)
        rows._iterable_class = ListedSignatureIterable
        return rows

    def rows(self) -> list[SignatureRow]:
        """These signatures as SignatureRow values, in the queryset's order."""
        return [SignatureRow(*values) for values in self.values_list(*SignatureRow.COLUMNS)]

    def public(self):
        """
        Signatures anyone may see: those on public statements (Statement.objects.public()),
        withdrawn ones included, which stay on record. Every public page, API endpoint and
        count of signatures starts from here.
        """
        return self.filter(Signature.public_filter())


class Signature(AsShown, CheckedText, models.Model):
    """One organisation on one statement: the fact "who co-signed which position, and when"."""

    class Role(models.TextChoices):
        LEAD = "lead", "Lead sponsor"
        SIGNATORY = "signatory", "Signatory"

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="signatures")
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="signatures",
        # Indexed with the statement (Meta.indexes), which serves every use of an index on
        # the organisation alone too.
        db_index=False,
        help_text="Type to search by any name or acronym. Add a new organisation only if "
        "no existing one matches.",
    )
    role = models.CharField(
        max_length=20,
        choices=Role.choices,
        default=Role.SIGNATORY,
        help_text="Lead sponsors are the organisations the statement says it is led by.",
    )
    name_as_printed = models.CharField(
        max_length=300,
        blank=True,
        help_text="Exactly as the statement prints it. Blank means the organisation's name.",
    )
    position = models.PositiveIntegerField(
        default=0, help_text="Place in the printed list, lead sponsors first (1 = first)."
    )
    joined_on = models.DateField(
        blank=True,
        help_text="When the organisation signed. Blank means the statement's issue date.",
    )
    withdrawn_on = models.DateField(
        null=True, blank=True, help_text="When it withdrew. The signature stays on record."
    )
    withdrawal_reason = models.TextField(blank=True, help_text="Public reason for withdrawing.")

    objects = SignatureQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["statement", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "organization"],
                name="statements_signature_one_per_organization",
                violation_error_message="This organisation has already signed this statement.",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=F("joined_on")),
                name="statements_signature_withdrawn_after_joined",
                violation_error_message="The withdrawal date cannot be before the date joined.",
            ),
            models.CheckConstraint(
                condition=Q(withdrawal_reason="") | Q(withdrawn_on__isnull=False),
                name="statements_signature_reason_needs_withdrawal",
                violation_error_message="A withdrawal reason needs a withdrawal date.",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "joined_on"], name="statements_sig_org_joined"),
            # An organisation's statements read from the index alone, without visiting its
            # signatures' rows, which lie all over the table (a hub's 17,000 at 1M: 8,000
            # pages): its per-year counts, its co-signers, its timeline's statements.
            models.Index(fields=["organization", "statement"], name="statements_sig_org_statement"),
        ]

    def __str__(self):
        # An old version's statement or organisation may be gone (deleted with it): history
        # and restore pages still name the signature.
        name = self.name_as_printed or _related_name(self, "organization", "name")
        statement = _related_name(self, "statement", "title")
        return f"{name} on “{statement}”"

    def save(self, *args, **kwargs):
        self.clean()
        super().save(*args, **kwargs)

    def clean(self):
        self.name_as_printed = normalize_name(self.name_as_printed)
        # A signature joins on the statement's issue date unless staff say otherwise.
        # (With no statement yet, the form reports the missing statement instead.)
        if self.joined_on is None:
            with contextlib.suppress(Statement.DoesNotExist):
                self.joined_on = self.statement.issued_on

    @staticmethod
    def public_filter(prefix: str = "") -> Q:
        """
        Public signatures, for this model or through a relation (`prefix`, as in
        `Count("signatures", filter=Signature.public_filter("signatures__"))`): those of public
        statements, by Statement's one definition.
        """
        return Statement.public_filter(f"{prefix}statement__")

    @staticmethod
    def standing_on(day, prefix: str = "") -> Q:
        """Signatures that had joined by `day` and had not withdrawn by then."""
        return Q(**{f"{prefix}joined_on__lte": day}) & (
            Q(**{f"{prefix}withdrawn_on__isnull": True}) | Q(**{f"{prefix}withdrawn_on__gt": day})
        )


class MediaContact(CheckedText, models.Model):
    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="media_contacts"
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="media_contacts",
        help_text="The organisation the contact speaks for.",
    )
    name = models.CharField(max_length=200, blank=True, help_text="The person, if named.")
    email = models.EmailField(
        max_length=254, blank=True, help_text="An email address or a phone number is required."
    )
    phone = models.CharField(max_length=50, blank=True, help_text="As printed.")
    is_public = models.BooleanField(
        "public",
        default=True,
        help_text="Untick to keep this contact to staff: it then never appears publicly.",
    )
    position = models.PositiveIntegerField(default=0, help_text="Order on the page.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["statement", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(email="", phone=""),
                name="statements_mediacontact_email_or_phone",
                violation_error_message="Give an email address or a phone number.",
            ),
        ]

    def __str__(self):
        who = self.name or (
            _related_name(self, "organization", "name") if self.organization_id else ""
        )
        return ", ".join(part for part in (who, self.email, self.phone) if part)


UNNAMED_OUTLET = "Unnamed outlet"


class CoverageLink(CheckedText, models.Model):
    class Kind(models.TextChoices):
        NEWS = "news", "News report"
        PRESS_RELEASE = "press_release", "Press release"
        OP_ED = "op_ed", "Op-ed"
        ANALYSIS = "analysis", "Analysis"
        FOLLOW_UP = "follow_up", "Follow-up"

    class Precision(models.TextChoices):
        YEAR = partial_dates.YEAR, "Year"
        MONTH = partial_dates.MONTH, "Month"
        DAY = partial_dates.DAY, "Day"

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="coverage")
    outlet = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who published it, as the source prints it, e.g. “Politico”. Leave blank "
        "when the source does not name it; never name it from memory.",
    )
    headline = models.CharField(max_length=500, blank=True, help_text="Leave blank if unknown.")
    url = models.URLField(
        "URL", max_length=1000, blank=True, help_text="Leave blank if unknown; never guess."
    )
    date = models.DateField(
        null=True,
        blank=True,
        help_text="The first day of the known period: a year or month is stored as its "
        "first day, with the precision saying how much is known.",
    )
    date_precision = models.CharField(
        max_length=5,
        choices=Precision.choices,
        blank=True,
        help_text="How much of the date is known.",
    )
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.NEWS, help_text="What sort of item."
    )
    first_reported = models.BooleanField(
        default=False, help_text="Tick for the outlet that broke the story (one per statement)."
    )
    notes = models.TextField(
        blank=True, help_text="Private to staff: never shown on public pages or in the API."
    )
    position = models.PositiveIntegerField(default=0, help_text="Order on the page.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["statement", "position", "id"]
        verbose_name = "coverage link"
        constraints = [
            models.UniqueConstraint(
                fields=["statement"],
                condition=Q(first_reported=True),
                name="statements_coveragelink_one_first_reported",
                violation_error_message="Another coverage item of this statement is already "
                "marked as first reported.",
            ),
            models.CheckConstraint(
                condition=Q(date__isnull=True, date_precision="")
                | Q(date__isnull=False, date_precision__in=["year", "month", "day"]),
                name="statements_coveragelink_date_has_precision",
                violation_error_message="A date needs its precision, and a precision its date.",
            ),
        ]

    def __str__(self):
        return f"{self.outlet_display}: {self.headline}" if self.headline else self.outlet_display

    @property
    def outlet_display(self) -> str:
        """The outlet as printed, or a plain note that the source does not name it."""
        return self.outlet or UNNAMED_OUTLET

    @property
    def date_text(self) -> str:
        return partial_dates.to_text(self.date, self.date_precision)

    @property
    def date_display(self) -> str:
        return partial_dates.display(self.date, self.date_precision)


class Quote(CheckedText, models.Model):
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="quotes")
    speaker = models.CharField(max_length=200, help_text="The person quoted.")
    speaker_title = models.CharField(
        max_length=300, blank=True, help_text="The speaker's title at the time, as printed."
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quotes",
        help_text="The organisation the speaker spoke for.",
    )
    text = models.TextField(help_text="The words quoted, without surrounding quotation marks.")
    source = models.ForeignKey(
        CoverageLink,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quotes",
        help_text="The coverage item the quote appeared in.",
    )
    position = models.PositiveIntegerField(default=0, help_text="Order on the page.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["statement", "position", "id"]

    def __str__(self):
        return f"{self.speaker}: “{self.text[:60]}”"

    def clean(self):
        if self.source_id and self.statement_id and self.source.statement_id != self.statement_id:
            raise ValidationError(
                {"source": "Choose a coverage item of this statement."}, code="invalid"
            )


def _delete_what_it_withholds(collector, field, sub_objs, using):
    """
    on_delete of Withholding.statement: deleting a draft deletes its withholdings, and with
    them the other names and former slugs it alone vouched for (they were known only from
    it). Collected, not left to the database, so that their history records the deletion
    and restoring the draft brings them back (tracker.restore).
    """
    models.CASCADE(collector, field, sub_objs, using)
    held = list(sub_objs)
    for model, attname in ((OtherName, "other_name_id"), (FormerSlug, "former_slug_id")):
        ids = [getattr(row, attname) for row in held if getattr(row, attname) is not None]
        if ids:
            collector.collect(model._base_manager.using(using).filter(pk__in=ids))


class Withholding(models.Model):
    """
    An other name or a former slug known only from a draft (a merge of a record known only
    from drafts put it there): it stays off public pages, the API and search, and a former
    slug does not redirect, until that statement is published. The other name's or former
    slug's own `withheld` is what public pages read; statements.merging.refresh_withheld
    keeps it in step with the draft's status. Deleting the draft deletes what it withheld.
    """

    statement = models.ForeignKey(
        Statement,
        on_delete=_delete_what_it_withholds,
        related_name="withholdings",
        help_text="The draft it is known only from.",
    )
    other_name = models.OneToOneField(
        OtherName,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="withholding",
    )
    former_slug = models.OneToOneField(
        FormerSlug,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="withholding",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["statement", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(other_name__isnull=True, former_slug__isnull=False)
                | Q(other_name__isnull=False, former_slug__isnull=True),
                name="statements_withholding_one_row",
                violation_error_message="A withholding holds back one other name or one former "
                "slug.",
            ),
        ]

    def __str__(self):
        held = (
            _related_name(self, "other_name", "name")
            if self.other_name_id
            else (_related_name(self, "former_slug", "slug"))
        )
        return f"{held} until “{_related_name(self, 'statement', 'title')}” is published"


class Change(models.Model):
    """
    The change log: one row for each public address a transaction changed — a statement's,
    an organisation's or a topic's — saying how (created, changed, deleted, merged into
    another, published, unpublished) and when. Database triggers on every public table write
    it in the writing transaction itself (migration 0010_change_log), so the ORM, bulk writes
    and raw SQL all log, and a rolled-back write logs nothing. Kept answers are expired from
    it, and a change feed may be read from it (statements.changes.changes_since).

    Only what the public can see is logged. A statement counts while published or retracted
    (publishing logs "published", going back to draft "unpublished", retracting "changed");
    an organisation while it has a public statement (public_statement_count > 0); a topic
    while it is on a public statement. A part of a record is logged as a change of the
    record(s) whose public pages show it: a signature as its statement's and its
    organisation's, a media contact or quote as its statement's and its organisation's, a
    coverage item as its statement's, a topic link as its statement's and its topic's, an
    other name or former slug as its organisation's. Nothing is logged for drafts and their
    parts, staff-only columns (notes, timestamps, search and name keys, derived flags),
    media contacts that are not public, withheld other names and former slugs, or the
    derived co-signing table. A change of slug logs the old slug as well as the new one, so
    that both addresses are expired. A statement's change is not logged again for every
    organisation and topic page that lists it: readers of lists must treat it as theirs.

    Within one transaction (on SQLite, one statement) an address is logged "changed" once,
    however many rows of it were written: one UPDATE of 16,000 signatures logs each of their
    statements once. `id` orders the log as the transactions committed (on PostgreSQL a
    transaction's rows are numbered again when it commits if another committed rows with
    later ids meanwhile), so "everything after id N" never misses a change committed later
    with a smaller number.
    """

    class Kind(models.TextChoices):
        STATEMENT = "statement", "Statement"
        ORGANIZATION = "organization", "Organisation"
        TOPIC = "topic", "Topic"

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        DELETED = "deleted", "Deleted"
        MERGED = "merged", "Merged into another"
        PUBLISHED = "published", "Published"
        UNPUBLISHED = "unpublished", "Unpublished"

    id = models.BigAutoField(primary_key=True)
    changed_at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Plain numbers, not foreign keys: the log outlives what it tells of.
    object_id = models.BigIntegerField()
    slug = models.CharField(max_length=200)
    action = models.CharField(max_length=20, choices=Action.choices)
    into_id = models.BigIntegerField(null=True, blank=True)  # the organisation merged into
    # The writing transaction (PostgreSQL: txid_current(); SQLite: the statement's time in
    # milliseconds): what "once per transaction" is counted by.
    transaction_key = models.BigIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction_key", "kind", "object_id", "slug", "action"],
                condition=Q(action="changed"),
                name="statements_change_changed_once_per_transaction",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "object_id", "id"], name="statements_change_object"),
        ]

    def __str__(self):
        into = f" into {self.into_id}" if self.into_id else ""
        return f"{self.kind} {self.slug} {self.action}{into}"


class ImportedRecord(models.Model):
    """
    What the last import of a file took from it for one row: the file's values of the row, at
    that import. The next import of the file compares the row with them to tell a change in
    the file (the row is as the import left it: the file's new values apply) from a change
    made in the database since (the row differs from them: those values stand). See
    statements.importing.
    """

    model = models.CharField(max_length=100)  # app_label.modelname of the row
    object_id = models.BigIntegerField()
    # The file's name (without its folder): each file's import compares with its own.
    source = models.CharField(max_length=100)
    # Which record of the file the row is: a topic's, organisation's or statement's slug, or,
    # for their parts, the parent's id and a digest of what identifies the part in the file.
    key = models.CharField(max_length=250)
    values = models.JSONField()
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "object_id", "source"], name="imported_record_row"
            ),
            models.UniqueConstraint(fields=["model", "key", "source"], name="imported_record_key"),
        ]

    def __str__(self):
        return f"{self.model} {self.object_id} from {self.source} ({self.key})"
