from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.html import format_html_join

from tracker.admin_tools import (
    InlineFormSet,
    ModelAdmin,
    OptimisticConcurrencyMixin,
    TabularInline,
)

from .models import FormerSlug, Organization, OtherName, name_key, normalize_name


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
    fields = ["name", "kind", "withheld"]
    readonly_fields = ["withheld"]


@admin.register(Organization)
class OrganizationAdmin(OptimisticConcurrencyMixin, ModelAdmin):
    """
    Organisations as records. Merging two of them, and the page of likely duplicates that
    leads to it, are added by statements.merging_admin: a merge moves signatures.
    """

    list_display = ["name", "acronym", "kind", "country", "signature_count", "updated_at"]
    # Explicit, because the count annotated below makes Django drop Meta.ordering, and the
    # organisation autocomplete pages through this queryset.
    ordering = ["name", "id"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "acronym", "other_names__name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["former_addresses", "created_at", "updated_at"]
    inlines = [OtherNameInline]
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
        formers = obj.former_slugs.all() if obj.pk else []
        return (
            format_html_join(
                ", ",
                "<code>{}</code>{}",
                (
                    (former.slug, " (not until a draft is published)" if former.withheld else "")
                    for former in formers
                ),
            )
            or None
        )


@admin.register(OtherName)
class OtherNameAdmin(ModelAdmin):
    list_display = ["name", "kind", "organization", "withheld"]
    list_filter = ["kind", "withheld"]
    list_select_related = ["organization"]
    search_fields = ["name", "organization__name"]
    autocomplete_fields = ["organization"]


@admin.register(FormerSlug)
class FormerSlugAdmin(ModelAdmin):
    list_display = ["slug", "organization", "withheld"]
    list_filter = ["withheld"]
    list_select_related = ["organization"]
    search_fields = ["slug", "organization__name"]
    autocomplete_fields = ["organization"]
