from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.utils import ErrorDict
from django.http import HttpResponseRedirect
from django.urls import path, reverse

from organizations.models import Organization
from tracker.admin_tools import (
    InlineFormSet,
    ModelAdmin,
    OptimisticConcurrencyMixin,
    StackedInline,
    TabularInline,
    valid_key,
)
from tracker.history import describe

from . import derived, partial_dates, signing
from .admin_releases import release_view
from .admin_signatories import signatories_view
from .admin_signatures import signatures_view
from .deleting import delete_statement
from .merging_admin import MergingOrganizationAdmin
from .models import CoverageLink, MediaContact, Quote, Signature, Statement, Topic
from .publishing import save_statement

INLINE_SIGNATURES = 60  # more are edited on the statement's signatures page
PART_HISTORY_LIMIT = 200  # entries for the statement's parts on its history page


class CoverageLinkForm(forms.ModelForm):
    """Edits the partial date as one text box: 2026, 2026-01 or 2026-01-15."""

    date_text = forms.CharField(
        label="date",
        required=False,
        max_length=10,
        help_text="YYYY, YYYY-MM or YYYY-MM-DD — as much as the source says. Blank if unknown.",
        widget=forms.TextInput(attrs={"size": 10, "placeholder": "YYYY-MM-DD"}),
    )

    class Meta:
        model = CoverageLink
        fields = [
            "outlet",
            "headline",
            "url",
            "date_text",
            "kind",
            "first_reported",
            "position",
            "notes",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("date_text", self.instance.date_text)

    def clean_date_text(self):
        text = self.cleaned_data["date_text"]
        self.instance.date, self.instance.date_precision = partial_dates.parse(text)
        return text


class SignatureRowForm(forms.ModelForm):
    """
    One signature row of a statement's page. A row that was there and that staff left as it
    was is neither checked nor saved: checking it would cost several queries (its id, its
    organisation, the model's constraints), so saving a statement of 500 signatories would
    cost thousands, all for rows that do not change.
    """

    def full_clean(self):
        if self.is_bound and self.instance.pk is not None and not self.has_changed():
            self._errors = ErrorDict()
            self.cleaned_data = {name: self._as_it_was(name) for name in self.fields}
            return
        super().full_clean()

    def _as_it_was(self, name: str):
        if name == DELETION_FIELD_NAME:
            return False
        if name == self.instance._meta.pk.name:
            return self.instance
        return getattr(self.instance, name)


class SignatureInline(TabularInline):
    model = Signature
    form = SignatureRowForm
    extra = 1
    autocomplete_fields = ["organization"]
    fields = [
        "position",
        "organization",
        "role",
        "name_as_printed",
        "joined_on",
        "withdrawn_on",
        "withdrawal_reason",
    ]
    verbose_name_plural = "signatures (lead sponsors and signatories, in printed order)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization", "statement")


class MediaContactInline(TabularInline):
    model = MediaContact
    extra = 0
    autocomplete_fields = ["organization"]
    fields = ["position", "organization", "name", "email", "phone", "is_public"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization")


class CoverageLinkFormSet(InlineFormSet):
    def clean(self):
        super().clean()
        first = [f for f in self.kept_forms() if f.cleaned_data.get("first_reported")]
        if len(first) > 1:
            raise ValidationError(
                f"Only one coverage item can be marked as first reported; {len(first)} are ticked."
            )

    def save(self, commit=True):
        # The database allows one first-reported item per statement at any moment, so when
        # the flag moves from one saved item to another, clear it before saving the rows.
        if commit and self.instance.pk:
            unticked = [
                f.instance.pk
                for f in self.kept_forms()
                if f.instance.pk and not f.cleaned_data.get("first_reported")
            ]
            CoverageLink.objects.filter(pk__in=unticked, first_reported=True).update(
                first_reported=False
            )
        return super().save(commit)


class CoverageLinkInline(StackedInline):
    model = CoverageLink
    formset = CoverageLinkFormSet
    form = CoverageLinkForm
    extra = 0
    verbose_name_plural = "coverage (news, press releases, op-eds)"


class QuoteInline(StackedInline):
    model = Quote
    extra = 0
    autocomplete_fields = ["organization"]
    fields = ["position", "speaker", "speaker_title", "organization", "text", "source"]

    def get_formset(self, request, obj=None, **kwargs):
        self._statement = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "source":
            # Only this statement's own coverage can be a quote's source.
            statement = getattr(self, "_statement", None)
            kwargs["queryset"] = (
                CoverageLink.objects.filter(statement=statement)
                if statement is not None
                else CoverageLink.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SigningErrorsShown:
    """
    The forms check what the signing service checks; what changed between the two (a
    signature removed or moved by someone else meanwhile) is said, and nothing is saved.
    """

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except signing.SigningError as exc:
            self.message_user(
                request, "Nothing was saved: " + " ".join(exc.messages), level=messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())


class StatementForm(forms.ModelForm):
    class Meta:
        model = Statement
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose what is shown

    def clean(self):
        data = super().clean()
        if data.get("status") == Statement.Status.RETRACTED and not data.get("retraction_note"):
            self.add_error(
                "retraction_note",
                "A retracted statement stays public with this note: say why and when it was "
                "retracted.",
            )
        return data


@admin.register(Statement)
class StatementAdmin(OptimisticConcurrencyMixin, SigningErrorsShown, ModelAdmin):
    list_display = [
        "title",
        "issued_on",
        "kind",
        "status",
        "lead_count",
        "signatory_count",
        "updated_at",
    ]
    list_display_links = ["title"]
    # Explicit, because the counts annotated below make Django drop Meta.ordering, and the
    # statement autocomplete pages through this queryset.
    ordering = ["-issued_on", "-id"]
    list_filter = ["status", "kind", "topics", "issued_on"]
    search_fields = ["title", "slug", "ask", "place"]
    date_hierarchy = "issued_on"
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["topics"]
    readonly_fields = ["created_at", "updated_at"]
    save_on_top = True
    inlines = [SignatureInline, MediaContactInline, CoverageLinkInline, QuoteInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "kind", "status", "issued_on", "place", "topics"]}),
        ("Text", {"fields": ["ask", "summary", "full_text"]}),
        ("Source", {"fields": ["source_url", "document"]}),
        ("Publication", {"fields": ["published_at", "retraction_note"]}),
        ("Staff only", {"fields": ["notes", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        # The change list is one query: counts are annotated, not fetched per row.
        return (
            super()
            .get_queryset(request)
            .annotate(
                _lead_count=Count("signatures", filter=Q(signatures__role=Signature.Role.LEAD)),
                _signatory_count=Count(
                    "signatures", filter=Q(signatures__role=Signature.Role.SIGNATORY)
                ),
            )
        )

    object_history_template = "admin/statements/statement/object_history.html"
    change_form_template = "admin/statements/statement/change_form.html"
    form = StatementForm

    def get_urls(self):
        return [
            path(
                "<path:object_id>/signatories/",
                self.admin_site.admin_view(self.signatories_view),
                name="statements_statement_signatories",
            ),
            path(
                "from-release/",
                self.admin_site.admin_view(self.release_view),
                name="statements_statement_from_release",
            ),
            path(
                "<path:object_id>/signatures/",
                self.admin_site.admin_view(self.signatures_view),
                name="statements_statement_signatures",
            ),
            *super().get_urls(),
        ]

    def signatories_view(self, request, object_id):
        return signatories_view(self, request, object_id)

    def signatures_view(self, request, object_id):
        return signatures_view(self, request, object_id)

    def release_view(self, request):
        return release_view(self, request)

    def get_inlines(self, request, obj):
        # A long list of signatures is edited on its own page (admin_signatures), a page at
        # a time: inline, its nine fields a row pass Django's limit of fields a request posts
        # at about a hundred rows, and make the page too long to work in.
        inlines = super().get_inlines(request, obj)
        if obj is not None and obj.pk and self._signature_count(obj) > INLINE_SIGNATURES:
            return [inline for inline in inlines if inline is not SignatureInline]
        return inlines

    @staticmethod
    def _signature_count(obj) -> int:
        if not hasattr(obj, "_signature_total"):
            obj._signature_total = obj.signatures.count()
        return obj._signature_total

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["signature_total"] = self._signature_count(obj)
            context["signatures_inline"] = context["signature_total"] <= INLINE_SIGNATURES
            context["signatures_url"] = reverse(
                "admin:statements_statement_signatures", args=[obj.pk]
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        """
        Save the statement's own fields (publishing, unpublishing or re-dating it) once the
        statement and every organisation the whole save touches are locked: those signing it
        now and those its signature rows name. The admin's view holds one transaction
        around this and save_related, so the locks last until the signatures are saved.
        """
        named = {
            int(value)
            for key, value in request.POST.items()
            if key.startswith("signatures-") and key.endswith("-organization") and valid_key(value)
        }
        with transaction.atomic():
            if change:
                derived.lock_for_write(statement_ids=[obj.pk])
                named |= self._signers(obj)
            derived.lock_for_write(organization_ids=named)
            save_statement(statement=obj, form_changed=form.changed_data)

    @staticmethod
    def _signers(statement) -> set[int]:
        return set(
            Signature.objects.filter(statement=statement).values_list("organization_id", flat=True)
        )

    def delete_model(self, request, obj):
        delete_statement(statement=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            statements = list(queryset.order_by("pk"))
            ids = [statement.pk for statement in statements]
            derived.lock_for_write(
                statement_ids=ids,
                organization_ids=Signature.objects.filter(statement_id__in=ids).values(
                    "organization_id"
                ),
            )
            for statement in statements:
                delete_statement(statement=statement, user=request.user)

    def after_restore(self, plan):
        """A restored statement's signers count it again, with its pairs of co-signers."""
        derived.refresh(
            statement_ids=[row.pk for row in plan.rows if isinstance(row, Statement)],
            organization_ids=[
                row.organization_id for row in plan.rows if isinstance(row, Signature)
            ],
        )

    def save_formset(self, request, form, formset, change):
        # The signatures are written by the signing service, in bulk, with what is derived
        # from them; the other parts are the statement's alone.
        if formset.model is Signature:
            signing.save_signature_formset(
                statement=form.instance, formset=formset, user=request.user
            )
        else:
            super().save_formset(request, form, formset, change)

    def history_view(self, request, object_id, extra_context=None):
        # The statement's own history, then its signatures', contacts', coverage's and
        # quotes', newest first: one page shows everything that happened to the statement.
        parts = []
        if valid_key(object_id):
            for model in (Signature, MediaContact, CoverageLink, Quote):
                records = (
                    model.history.filter(statement_id=object_id)
                    .select_related("history_user")
                    .order_by("-history_date")[:PART_HISTORY_LIMIT]
                )
                parts += [(model._meta, record) for record in records]
        parts.sort(key=lambda item: item[1].history_date, reverse=True)
        parts = parts[:PART_HISTORY_LIMIT]
        # Labelled from the records alone (and one query for organisation names): the
        # statement, or the organisation, may have been deleted since.
        org_ids = {getattr(record, "organization_id", None) for _, record in parts}
        names = dict(Organization.objects.filter(pk__in=org_ids - {None}).values_list("pk", "name"))
        # Each change read against the version before it of the same record: the next one
        # listed, or (the oldest listed of a record) the one before it in its history.
        entries, later = {}, {}
        for meta, record in reversed(parts):
            key = (meta.label, record.id)
            entries[id(record)] = describe(record, later.get(key))
            later[key] = record
        context = {
            "part_history": [
                (meta, record, part_label(record, names), entries[id(record)])
                for meta, record in parts
            ],
            **(extra_context or {}),
        }
        return super().history_view(request, object_id, context)

    @admin.display(description="leads", ordering="_lead_count")
    def lead_count(self, obj):
        return obj._lead_count

    @admin.display(description="signatories", ordering="_signatory_count")
    def signatory_count(self, obj):
        return obj._signatory_count


def part_label(record, organization_names: dict[int, str]) -> str:
    """A statement part's historical record, as staff know it."""
    organization = organization_names.get(getattr(record, "organization_id", None), "")
    if isinstance(record, Signature.history.model):
        return record.name_as_printed or organization or f"#{record.organization_id}"
    if isinstance(record, MediaContact.history.model):
        who = record.name or organization
        return ", ".join(part for part in (who, record.email, record.phone) if part)
    if isinstance(record, CoverageLink.history.model):
        return " — ".join(part for part in (record.outlet, record.headline) if part)
    return record.speaker


@admin.register(Topic)
class TopicAdmin(ModelAdmin):
    list_display = ["name", "slug", "statement_count"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_statement_count=Count("statements"))

    @admin.display(description="statements", ordering="_statement_count")
    def statement_count(self, obj):
        return obj._statement_count


class StatementPartAdmin(ModelAdmin):
    """A signature, contact, coverage item or quote stays on the statement it was made for."""

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "statement"] if obj is not None else readonly


@admin.register(Signature)
class SignatureAdmin(SigningErrorsShown, StatementPartAdmin):
    list_display = [
        "printed_name",
        "organization",
        "statement",
        "role",
        "joined_on",
        "withdrawn_on",
    ]
    list_filter = ["role", "statement__status", "joined_on"]
    list_select_related = ["organization", "statement"]
    search_fields = ["name_as_printed", "organization__name", "statement__title"]
    autocomplete_fields = ["statement", "organization"]
    date_hierarchy = "joined_on"

    def save_model(self, request, obj, form, change):
        if change:
            signing.save_signatures(statement=obj.statement, changed=[obj], user=request.user)
        else:
            signing.save_signatures(statement=obj.statement, new=[obj], user=request.user)

    def delete_model(self, request, obj):
        signing.remove_signatures(signatures=[obj], user=request.user)

    def delete_queryset(self, request, queryset):
        signing.remove_signatures(signatures=list(queryset), user=request.user)

    @admin.display(description="name as printed", ordering="name_as_printed")
    def printed_name(self, obj):
        return obj.printed_name

    def after_restore(self, plan):
        derived.refresh(
            organization_ids=[
                row.organization_id for row in plan.rows if isinstance(row, Signature)
            ]
        )


@admin.register(MediaContact)
class MediaContactAdmin(StatementPartAdmin):
    list_display = ["__str__", "organization", "statement", "is_public"]
    list_filter = ["is_public"]
    list_select_related = ["organization", "statement"]
    search_fields = ["name", "email", "organization__name", "statement__title"]
    autocomplete_fields = ["statement", "organization"]


@admin.register(CoverageLink)
class CoverageLinkAdmin(StatementPartAdmin):
    form = CoverageLinkForm
    list_display = ["outlet", "headline", "date_display", "kind", "first_reported", "statement"]
    list_filter = ["kind", "first_reported"]
    list_select_related = ["statement"]
    search_fields = ["outlet", "headline", "url", "statement__title"]
    autocomplete_fields = ["statement"]

    def get_fields(self, request, obj=None):
        return ["statement", *CoverageLinkForm.Meta.fields]

    @admin.display(description="date", ordering="date")
    def date_display(self, obj):
        return obj.date_display or "unknown"


@admin.register(Quote)
class QuoteAdmin(StatementPartAdmin):
    list_display = ["speaker", "speaker_title", "organization", "statement"]
    list_select_related = ["organization", "statement"]
    search_fields = ["speaker", "text", "statement__title"]
    autocomplete_fields = ["statement", "organization", "source"]


# Merging moves signatures: the organisation admin with the merge page and its action.
admin.site.unregister(Organization)
admin.site.register(Organization, MergingOrganizationAdmin)
