from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from simple_history.models import HistoricalRecords

from tracker.text import CheckedText

from .names import fold, name_key, normalize_name

# A key's index entry must fit PostgreSQL's B-tree limit (about 2,700 bytes): a name that
# spells out to more (300 characters that each fold and map to several) is refused.
NAME_KEY_MAX_BYTES = 2000


def normalize_name_field(instance, field: str) -> str:
    """
    Normalise the name (or acronym) in `field` (see organizations.names) and return it, or
    raise a form error on the field if normalising made it longer than its column holds (a
    ligature or a full-width letter is checked as one character, stored as several).
    """
    value = normalize_name(getattr(instance, field))
    setattr(instance, field, value)
    model_field = instance._meta.get_field(field)
    limit = model_field.max_length
    if len(value) > limit:
        raise ValidationError(
            {
                field: f"Once normalised the {model_field.verbose_name} has {len(value)} "
                f"characters; the limit is {limit}."
            },
            code="max_length",
        )
    return value


def normalized_name_field(instance, field: str) -> str:
    """
    Normalise the name in `field` (normalize_name_field) and return its key, or raise a form
    error on the field if the name is too long, normalised or as a key.
    """
    key = name_key(normalize_name_field(instance, field))
    if len(key.encode()) > NAME_KEY_MAX_BYTES:
        raise ValidationError({field: "This name is too long to compare; shorten it."})
    return key


def _well_spaced(field: str) -> Q:
    """A name with no leading, trailing or doubled spaces, and no other kind of whitespace."""
    return (
        ~Q(**{f"{field}__startswith": " "})
        & ~Q(**{f"{field}__endswith": " "})
        & ~Q(**{f"{field}__contains": "  "})
        & ~Q(**{f"{field}__contains": "\t"})
        & ~Q(**{f"{field}__contains": "\n"})
        & ~Q(**{f"{field}__contains": "\r"})
        & ~Q(**{f"{field}__contains": "\u00a0"})  # a no-break space
    )


class OrganizationQuerySet(models.QuerySet):
    def public(self):
        """
        Organisations shown to anyone: those with a signature on a public statement. One
        that has signed only drafts would reveal who is lined up for an unpublished
        statement, so it stays staff-only until the statement is published.
        """
        return self.filter(public_statement_count__gt=0)

    def with_public_statement_count(self):
        """Annotate `statement_count`: public statements this organisation signed."""
        return self.annotate(statement_count=F("public_statement_count"))


# Kept by statements.derived as signatures and statements change, never written back from an
# instance.
DERIVED_FIELDS = ("public_statement_count", "cosigners_kept")


class Organization(CheckedText, models.Model):
    class Kind(models.TextChoices):
        ADVOCACY = "advocacy", "Advocacy group"
        FAITH_BASED = "faith_based", "Faith-based organisation"
        RESEARCH = "research", "Research or academic body"
        MEDIA = "media", "Media organisation"
        COALITION = "coalition", "Coalition or network"
        OTHER = "other", "Other"

    name = models.CharField(
        max_length=300,
        help_text="The organisation's own current name, without an acronym in brackets. "
        "Other spellings and acronyms go under “Other names”.",
    )
    # The name as it is compared (organizations.names.name_key): no two organisations share
    # one. Kept by clean() from the name, so every save keeps it.
    name_key = models.TextField(editable=False)
    # The name as pasted lists and searches compare it (organizations.names.fold: also
    # without punctuation, apostrophes or diacritics), kept by clean() likewise.
    name_fold = models.TextField(editable=False, default="", db_default="")
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="Used in public addresses and the API. Changing it breaks existing links.",
    )
    acronym = models.CharField(
        max_length=50, blank=True, help_text="The short form readers know, e.g. ANCA."
    )
    kind = models.CharField(
        max_length=20, choices=Kind.choices, blank=True, help_text="Leave blank if unknown."
    )
    website = models.URLField(max_length=500, blank=True, help_text="Leave blank if unknown.")
    description = models.TextField(blank=True, help_text="A short public description.")
    country = models.CharField(
        max_length=100, blank=True, help_text="Where it is based, e.g. “United States”."
    )
    city = models.CharField(max_length=100, blank=True, help_text="Leave blank if unknown.")
    founded_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Only if a source states it."
    )
    notes = models.TextField(
        blank=True, help_text="Private to staff: never shown on public pages or in the API."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Kept by statements.derived (the services that publish, sign and merge call it), never by
    # saving an organisation: public() and the statement counts read it, so that lists
    # cost the same however many signatures there are.
    public_statement_count = models.PositiveIntegerField(default=0, editable=False, db_index=True)
    # Whether the co-signing table holds this organisation's co-signers (see Cosigning).
    cosigners_kept = models.BooleanField(default=False, editable=False)

    objects = OrganizationQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=[
            "updated_at",
            "public_statement_count",
            "cosigners_kept",
            "name_key",
            "name_fold",
        ]
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "organisation"
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="organizations_organization_unique_name_ci",
                violation_error_message="An organisation with this name already exists "
                "(names are compared ignoring case and spacing).",
            ),
            models.UniqueConstraint(
                fields=["name_key"],
                name="organizations_organization_unique_name_key",
                violation_error_message="An organisation with this name already exists "
                "(names are compared ignoring case and characters that look alike).",
            ),
            models.CheckConstraint(
                condition=_well_spaced("name") & ~Q(name=""),
                name="organizations_organization_name_well_spaced",
                violation_error_message="The name must not be empty or have leading, trailing "
                "or repeated spaces.",
            ),
            models.CheckConstraint(
                condition=Q(founded_year__isnull=True)
                | Q(founded_year__gte=1000, founded_year__lte=2100),
                name="organizations_organization_founded_year_range",
                violation_error_message="The founding year must be between 1000 and 2100.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def save(self, *args, **kwargs):
        self.clean()
        self.check_slug_is_not_former()
        if (
            not self._state.adding
            and kwargs.get("update_fields") is None
            and type(self).objects.filter(pk=self.pk).exists()  # not a restored record
        ):
            # Never write back a count this instance read before it changed.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in DERIVED_FIELDS
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("organization-detail", args=[self.slug])

    def clean(self):
        # Both fields are normalised and checked, so that a form shows every error at once.
        errors = {}
        try:
            self.name_key = normalized_name_field(self, "name")
            self.name_fold = fold(self.name)
        except ValidationError as error:
            errors.update(error.error_dict)
        try:
            normalize_name_field(self, "acronym")
        except ValidationError as error:
            errors.update(error.error_dict)
        if errors:
            raise ValidationError(errors)

    def validate_unique(self, exclude=None):
        super().validate_unique(exclude)
        if not exclude or "slug" not in exclude:
            self.check_slug_is_not_former()
        if not exclude or "name" not in exclude:
            self.check_name_is_not_taken()

    def validate_constraints(self, exclude=None):
        # The key's uniqueness is checked by check_name_is_not_taken, which names the
        # organisation that has it.
        super().validate_constraints({*(exclude or ()), "name_key"})

    def check_name_is_not_taken(self):
        """
        No other organisation may have a name, or an other name, that looks the same as this
        one's: pasted lists and imports could not tell the two apart.
        """
        key = self.name_key or name_key(self.name)
        same = Organization.objects.filter(name_key=key).exclude(pk=self.pk).first()
        if same is not None:
            raise ValidationError(
                {
                    "name": f"An organisation with this name already exists: “{same.name}” "
                    f"(slug “{same.slug}”). Names are compared ignoring case, spacing and "
                    "characters that look alike."
                },
                code="unique",
            )
        alias = (
            OtherName.objects.filter(name_key=key)
            .exclude(organization_id=self.pk)
            .select_related("organization")
            .first()
        )
        if alias is not None:
            raise ValidationError(
                {
                    "name": f"“{alias.name}” is an other name of “{alias.organization.name}” "
                    f"(slug “{alias.organization.slug}”). If this is that organisation, use its "
                    "record; otherwise remove that other name first."
                },
                code="unique",
            )

    def check_slug_is_not_former(self):
        """
        A slug that once belonged to a merged organisation keeps redirecting to the record it
        was merged into, so no organisation may take it: one that does is most likely the
        merged organisation entered again.
        """
        former = (
            FormerSlug.objects.filter(slug=self.slug)
            .exclude(organization_id=self.pk)
            .select_related("organization")
            .first()
        )
        if former is not None:
            raise ValidationError(
                {
                    "slug": f"“{self.slug}” was the address of a record merged into "
                    f"“{former.organization.name}”, and it redirects there. If this is the same "
                    "organisation, use that record; otherwise choose another slug."
                },
                code="former_slug",
            )


class WithheldQuerySet(models.QuerySet):
    """For the rows a merge may hold back (`withheld`): other names and former slugs."""

    def public(self):
        """
        The rows anyone may see: all but those known only from a draft (`withheld`), which
        stay staff-only (names still match pasted lists) until that statement is published.
        A former slug's organisation must be public as well for it to redirect: see
        former_slug_redirect.
        """
        return self.filter(withheld=False)


class OtherName(CheckedText, models.Model):
    """Another name an organisation is known or printed by; drives matching of pasted lists."""

    class Kind(models.TextChoices):
        ACRONYM = "acronym", "Acronym"
        FORMER = "former", "Former name"
        VARIANT = "variant", "Variant as printed"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="other_names"
    )
    name = models.CharField(
        max_length=300,
        help_text="Exactly as printed or used. Pasted lists and searches match on these.",
    )
    name_key = models.TextField(editable=False)  # as Organization.name_key
    name_fold = models.TextField(editable=False, default="", db_default="")  # and name_fold
    kind = models.CharField(
        max_length=20,
        choices=Kind.choices,
        default=Kind.VARIANT,
        help_text="Acronym (e.g. ANCA), a former name, or another spelling a source printed.",
    )
    # Set by a merge for the names of a record known only from drafts: public pages, the
    # API and search would otherwise tell of an unpublished statement. Which draft it waits
    # for is the statements app's to know (statements.Withholding), which keeps this in step
    # as that draft is published or taken back.
    withheld = models.BooleanField(
        default=False,
        editable=False,
        help_text="Known only from a draft: it stays off public pages, the API and search "
        "until that statement is published.",
    )

    objects = WithheldQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["name_key", "name_fold"])

    class Meta:
        ordering = ["organization", "kind", "name"]
        verbose_name = "other name"
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("name"),
                name="organizations_othername_unique_per_organization",
                violation_error_message="This organisation already has this other name.",
            ),
            models.CheckConstraint(
                condition=_well_spaced("name") & ~Q(name=""),
                name="organizations_othername_name_well_spaced",
                violation_error_message="The name must not be empty or have leading, trailing "
                "or repeated spaces.",
            ),
            models.UniqueConstraint(
                fields=["organization", "name_key"],
                name="organizations_othername_unique_key_per_organization",
                violation_error_message="This organisation already has this other name "
                "(names are compared ignoring case and characters that look alike).",
            ),
        ]
        indexes = [
            models.Index(Lower("name"), name="organizations_othername_lname"),
            models.Index(fields=["name_key"], name="organizations_othername_key"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display().lower()})"

    def save(self, *args, **kwargs):
        self.clean()
        super().save(*args, **kwargs)

    def clean(self):
        self.name_key = normalized_name_field(self, "name")
        self.name_fold = fold(self.name)

    def validate_unique(self, exclude=None):
        super().validate_unique(exclude)
        if not exclude or "name" not in exclude:
            self.check_name_is_not_taken()

    def check_name_is_not_taken(self):
        """
        An other name must not look the same as another organisation's name: a pasted line
        with that name would match both. (Two organisations may share an other name, an
        acronym most often: a pasted line with it is matched to one, for staff to confirm.
        Repeats within one organisation's other names are the admin formset's to report, as
        it sees every row being saved.)
        """
        key = self.name_key or name_key(self.name)
        named = Organization.objects.filter(name_key=key)
        if self.organization_id is not None:
            named = named.exclude(pk=self.organization_id)
        named = named.first()
        if named is not None:
            raise ValidationError(
                {
                    "name": f"“{named.name}” (slug “{named.slug}”) is another organisation's name. "
                    "If this is that organisation, merge the two records instead."
                },
                code="unique",
            )


class FormerSlug(models.Model):
    """
    An address an organisation was known by before it was merged into another: its public
    page, feed and API addresses redirect to the organisation it was merged into. A slug is
    never both a current organisation's and a former one.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="former_slugs"
    )
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="An old address (slug) that now redirects to this organisation's pages.",
    )
    # As OtherName.withheld: set by a merge for the old slugs of a record known only from
    # drafts. They do not redirect until that statement is published.
    withheld = models.BooleanField(
        default=False,
        editable=False,
        help_text="Known only from a draft: it does not redirect until that statement is "
        "published.",
    )

    objects = WithheldQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["slug"]
        verbose_name = "former slug"

    def __str__(self):
        return self.slug

    def save(self, *args, **kwargs):
        self.clean()
        super().save(*args, **kwargs)

    def clean(self):
        current = Organization.objects.filter(slug=self.slug).first()
        if current is not None:
            raise ValidationError(
                {"slug": f"“{self.slug}” is the current address of “{current.name}”."},
                code="current_slug",
            )


class Cosigning(models.Model):
    """
    Derived data: how often an organisation signed the same public statement as another,
    kept by statements.derived whenever a signature or a public statement changes, so that
    its co-signers are one index range, most shared first, instead of an aggregate over
    every signature of every statement it signed. The first and last dates a pair shared
    are read for the page shown (statements.cosigning), not kept: re-dating or taking away
    a statement then changes only the counts of its own pairs.

    Only organisations with many signatures need it (`cosigners_kept`, from
    settings.COSIGNERS_KEPT_FROM public statements): for the others the aggregate is small,
    and a row for every pair would make the table some forty times the signatures'.
    `manage.py rebuild_derived` rebuilds it from the signatures.
    """

    # No foreign key constraints in the database: the table is derived (rebuilt at will), and
    # checking tens of millions of rows' keys would make a rebuild take many minutes. The
    # rows go with their organisations all the same (on_delete, in Django).
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="cosignings",
        db_index=False,
        db_constraint=False,
    )
    other = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    shared_count = models.PositiveIntegerField()

    class Meta:
        # No index on the count: a publish or unpublish changes the count of every pair of
        # the statement's signers (tens of thousands of rows for a 500-signatory statement),
        # and without one PostgreSQL rewrites each row in place on its page (a HOT update)
        # instead of adding an index entry for it. An organisation's rows are read by the
        # pair's index, side by side on disk (statements.derived.rebuild writes them so),
        # and sorted by count.
        constraints = [
            models.UniqueConstraint(fields=["organization", "other"], name="cosigning_pair"),
        ]

    def __str__(self):
        return f"{self.organization_id} with {self.other_id}: {self.shared_count}"


class Judgement(CheckedText, models.Model):
    """
    Staff's answer to "is this one organisation?", for a printed name and an organisation
    (from a signatory list's preview) or for two organisations (from the Likely duplicates
    page), kept so that the matcher and the duplicates page never ask again: a name judged
    not an organisation is not suggested for it, a pair judged apart is not listed. A name
    judged the same becomes one of the organisation's other names (`other_name`, removed
    again if the judgement is taken back). Made and taken back by organizations.judgements;
    the history keeps who did both.

    A merge drops the judgements of the record merged away: what was said of it may not hold
    of the organisation it joined.
    """

    class Verdict(models.TextChoices):
        SAME = "same", "The same"
        APART = "apart", "Not the same"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="judgements"
    )
    # For a pair: the second organisation (the pair is kept with the smaller id first).
    other = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="judgements_as_other",
    )
    # For a name: as printed, and in the matcher's folded form (organizations.matching.fold).
    name = models.CharField(max_length=300, blank=True)
    name_fold = models.TextField(blank=True, editable=False)
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    other_name = models.OneToOneField(
        OtherName,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="judgement",
        help_text="The other name this judgement added, taken away with it.",
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    made_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-made_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(other__isnull=True) & ~Q(name_fold=""))
                | (Q(other__isnull=False) & Q(name="") & Q(name_fold="")),
                name="organizations_judgement_of_a_name_or_a_pair",
            ),
            models.CheckConstraint(
                condition=Q(other__isnull=True) | Q(organization__lt=F("other")),
                name="organizations_judgement_pair_in_order",
            ),
            models.UniqueConstraint(
                fields=["organization", "other"],
                condition=Q(other__isnull=False),
                name="organizations_judgement_one_a_pair",
            ),
            models.UniqueConstraint(
                fields=["organization", "name_fold"],
                condition=Q(other__isnull=True),
                name="organizations_judgement_one_a_name",
            ),
        ]

    def __str__(self):
        what = self.other.name if self.other_id else f"“{self.name}”"
        verdict = "is" if self.verdict == self.Verdict.SAME else "is not"
        return f"{what} {verdict} {self.organization.name}"
