from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join

from tracker.admin_tools import (
    InlineFormSet,
    ModelAdmin,
    OptimisticConcurrencyMixin,
    TabularInline,
    valid_key,
)

from .duplicates import find_duplicates
from .merge import known_only_from_drafts, merge_organizations, parts_count, shared_statements
from .models import FormerSlug, Organization, OtherName, name_key, normalize_name

SHARED_SHOWN = 20


class OtherNameFormSet(InlineFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.kept_forms():
            name = form.cleaned_data.get("name", "")
            key = name_key(name)
            if key in seen:
                raise ValidationError(
                    f"“{normalize_name(name)}” is listed twice. Other names are compared "
                    "ignoring case. Letters that look alike count as the same."
                )
            seen.add(key)


class OtherNameInline(TabularInline):
    model = OtherName
    formset = OtherNameFormSet
    extra = 1
    verbose_name_plural = "other names (acronyms, former names, spellings as printed)"
    fields = ["name", "kind", "withheld_until"]
    readonly_fields = ["withheld_until"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("withheld_until")


@admin.register(Organization)
class OrganizationAdmin(OptimisticConcurrencyMixin, ModelAdmin):
    list_display = ["name", "acronym", "kind", "country", "signature_count", "updated_at"]
    # Explicit, because the count annotated below makes Django drop Meta.ordering, and the
    # organisation autocomplete pages through this queryset.
    ordering = ["name", "id"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "acronym", "other_names__name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["former_addresses", "created_at", "updated_at"]
    inlines = [OtherNameInline]
    actions = ["merge_selected"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "former_addresses", "acronym", "kind"]}),
        (
            "Public details",
            {"fields": ["website", "description", "country", "city", "founded_year"]},
        ),
        ("Staff only", {"fields": ["notes", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        # One query for the list: the signature count is annotated, not fetched per row.
        return (
            super()
            .get_queryset(request)
            .annotate(_signature_count=Count("signatures", distinct=True))
        )

    @admin.display(description="signatures", ordering="_signature_count")
    def signature_count(self, obj):
        return obj._signature_count

    @admin.display(description="former slugs (redirect here)")
    def former_addresses(self, obj):
        formers = obj.former_slugs.select_related("withheld_until") if obj.pk else []
        return (
            format_html_join(
                ", ",
                "<code>{}</code>{}",
                (
                    (
                        former.slug,
                        f" (not until “{former.withheld_until.title}” is published)"
                        if former.withheld_until and not former.withheld_until.is_public
                        else "",
                    )
                    for former in formers
                ),
            )
            or None
        )

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "duplicates/",
                self.admin_site.admin_view(self.duplicates_view),
                name="{}_{}_duplicates".format(*info),
            ),
            path(
                "merge/",
                self.admin_site.admin_view(self.merge_view),
                name="{}_{}_merge".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_merge": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    @admin.action(description="Merge the two selected organisations", permissions=["change"])
    def merge_selected(self, request, queryset):
        ids = sorted(queryset.values_list("pk", flat=True)[:3])
        if len(ids) != 2:
            self.message_user(
                request, "Select exactly two organisations to merge.", level=messages.ERROR
            )
            return None
        return HttpResponseRedirect(merge_url(*ids))

    def duplicates_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        duplicates = find_duplicates()
        for pair in duplicates.pairs:
            pair.merge_url = merge_url(pair.first.pk, pair.second.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Likely duplicate organisations",
            "duplicates": duplicates,
        }
        return TemplateResponse(
            request, "admin/organizations/organization/duplicates.html", context
        )

    def merge_view(self, request):
        # Merging deletes the other record, yet Editors, who may not delete, may merge: nothing
        # is lost (everything moves to the kept record, its old slug redirects, and history
        # keeps the deleted record), so merging is a change, not a deletion.
        if not self.has_change_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else request.GET
        try:
            a, b = self.chosen_pair(data)
        except ValidationError as error:
            return self.refuse(request, error)
        if request.method == "POST":
            choice = data.get("keep")
            if choice not in ("a", "b"):
                return self.refuse(request, ValidationError("Choose which record to keep."))
            keep, other = (a, b) if choice == "a" else (b, a)
            try:
                report = merge_organizations(keep=keep, other=other)
            except ValidationError as error:
                return self.refuse(request, error)
            self.message_user(request, report.summary(), level=messages.SUCCESS)
            return HttpResponseRedirect(
                reverse("admin:organizations_organization_change", args=[report.kept.pk])
            )
        sides = []
        for org in (a, b):
            org.parts = parts_count(org)
            org.names = list(org.other_names.all())
            org.slugs = list(org.former_slugs.values_list("slug", flat=True))
            org.draft_only = known_only_from_drafts(org)
            sides.append(org)
        shared = shared_statements(a, b).order_by("-issued_on", "-pk")
        # By default keep the public record, then the one with more signatures, or else the
        # older one. A record known only from drafts cannot be kept over a public one.
        keep_a = (not a.draft_only, a.parts["signatures"], -a.pk) >= (
            not b.draft_only,
            b.parts["signatures"],
            -b.pk,
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Merge two organisations",
            "a": a,
            "b": b,
            "sides": sides,
            "shared": shared[:SHARED_SHOWN],
            "shared_count": shared.count(),
            "keep": "a" if keep_a else "b",
        }
        return TemplateResponse(request, "admin/organizations/organization/merge.html", context)

    @staticmethod
    def chosen_pair(data) -> tuple[Organization, Organization]:
        """The two organisations named by `a` and `b`, or a ValidationError saying what is wrong."""
        values = [data.get("a", "").strip(), data.get("b", "").strip()]
        if not all(values):
            raise ValidationError("Choose two organisations to merge.")
        for value in values:
            if not valid_key(value):
                raise ValidationError(f"“{value[:40]}” is not the id of an organisation.")
        ids = [int(value) for value in values]
        if ids[0] == ids[1]:
            raise ValidationError("Choose two different organisations: one cannot be merged "
                                  "into itself.")  # fmt: skip
        found = Organization.objects.in_bulk(ids)
        for pk in ids:
            if pk not in found:
                raise ValidationError(
                    f"There is no organisation with id {pk}: it may have been merged or deleted."
                )
        return found[ids[0]], found[ids[1]]

    def refuse(self, request, error: ValidationError):
        """Nothing was merged: say why, back on the change list."""
        self.message_user(request, " ".join(error.messages), level=messages.ERROR)
        return HttpResponseRedirect(reverse("admin:organizations_organization_changelist"))


def merge_url(a: int, b: int) -> str:
    return reverse("admin:organizations_organization_merge") + "?" + urlencode({"a": a, "b": b})


@admin.register(OtherName)
class OtherNameAdmin(ModelAdmin):
    list_display = ["name", "kind", "organization", "withheld_until"]
    list_filter = ["kind"]
    list_select_related = ["organization", "withheld_until"]
    search_fields = ["name", "organization__name"]
    autocomplete_fields = ["organization", "withheld_until"]


@admin.register(FormerSlug)
class FormerSlugAdmin(ModelAdmin):
    list_display = ["slug", "organization", "withheld_until"]
    list_select_related = ["organization", "withheld_until"]
    search_fields = ["slug", "organization__name"]
    autocomplete_fields = ["organization", "withheld_until"]
