from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count

from tracker.admin_tools import InlineFormSet, ModelAdmin, TabularInline

from .models import Organization, OtherName, normalize_name


class OtherNameFormSet(InlineFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.kept_forms():
            name = normalize_name(form.cleaned_data.get("name", ""))
            if name.lower() in seen:
                raise ValidationError(
                    f"“{name}” is listed twice. Other names are compared ignoring case."
                )
            seen.add(name.lower())


class OtherNameInline(TabularInline):
    model = OtherName
    formset = OtherNameFormSet
    extra = 1
    verbose_name_plural = "other names (acronyms, former names, spellings as printed)"


@admin.register(Organization)
class OrganizationAdmin(ModelAdmin):
    list_display = ["name", "acronym", "kind", "country", "signature_count", "updated_at"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "acronym", "other_names__name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    inlines = [OtherNameInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "acronym", "kind"]}),
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


@admin.register(OtherName)
class OtherNameAdmin(ModelAdmin):
    list_display = ["name", "kind", "organization"]
    list_filter = ["kind"]
    list_select_related = ["organization"]
    search_fields = ["name", "organization__name"]
    autocomplete_fields = ["organization"]
