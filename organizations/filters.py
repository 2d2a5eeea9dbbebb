import django_filters
from django.db.models import Exists, OuterRef

from statements.models import Signature, Statement, Topic
from tracker.api import IsoDateFilter, OrderingFilter, SlugFilter

from .models import Organization
from .search import search_organizations


class OrganizationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_name",
        help_text="Part of the name, the acronym or any other name the organisation is known by.",
    )
    kind = django_filters.ChoiceFilter(choices=Organization.Kind.choices)
    signed = SlugFilter(
        queryset=Statement.objects.public(),
        method="filter_signed",
        help_text="A statement slug: the organisations that signed it.",
    )
    cosigned_with = SlugFilter(
        queryset=Organization.objects.public(),
        method="filter_cosigned_with",
        help_text="An organisation slug: the organisations that signed at least one public "
        "statement with it.",
    )
    ordering = OrderingFilter(
        fields=(("name", "name"), ("slug", "slug"), ("statement_count", "statement_count")),
        help_text="name, slug or statement_count; prefix with - to reverse. Default: name.",
    )

    class Meta:
        model = Organization
        fields = []

    def filter_name(self, queryset, name, value):
        return search_organizations(queryset, value) if value.strip() else queryset

    def filter_signed(self, queryset, name, value: str):
        if value is None:
            return queryset
        return queryset.filter(
            Exists(Signature.objects.filter(organization=OuterRef("pk"), statement=value))
        )

    def filter_cosigned_with(self, queryset, name, value: str):
        if value is None:
            return queryset
        shared = Signature.objects.filter(
            Statement.public_filter("statement__"), organization=value
        ).values("statement_id")
        return queryset.exclude(pk=value.pk).filter(
            Exists(Signature.objects.filter(organization=OuterRef("pk"), statement_id__in=shared))
        )


class PositionsFilter(django_filters.FilterSet):
    """Filters for an organisation's timeline and co-signers: which statements count."""

    issued_after = IsoDateFilter(
        field_name="statement__issued_on", lookup_expr="gte", help_text="On or after YYYY-MM-DD."
    )
    issued_before = IsoDateFilter(
        field_name="statement__issued_on", lookup_expr="lte", help_text="On or before YYYY-MM-DD."
    )
    topic = SlugFilter(
        queryset=Topic.objects.public(),
        method="filter_topic",
        help_text="A topic slug.",
    )

    class Meta:
        model = Signature
        fields = []

    def filter_topic(self, queryset, name, value: str):
        return queryset.filter(Statement.on_topic(value, "statement_id")) if value else queryset
