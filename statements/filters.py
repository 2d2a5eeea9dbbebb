import django_filters
from django.db.models import Exists, OuterRef

from organizations.models import Organization
from tracker.api import IsoDateFilter, OrderingFilter, SlugFilter, SlugsFilter

from .models import Signature, Statement, Topic
from .search import search_statements


class StatementFilter(django_filters.FilterSet):
    topic = SlugFilter(
        queryset=Topic.objects.public(), method="filter_topic", help_text="A topic slug."
    )
    signed_by = SlugsFilter(
        queryset=Organization.objects.public(),
        method="filter_signed_by",
        help_text="An organisation slug; repeat it to find statements all of them signed "
        "(withdrawn signatures included).",
    )
    led_by = SlugFilter(
        queryset=Organization.objects.public(),
        method="filter_led_by",
        help_text="An organisation slug: statements it led.",
    )
    issued_after = IsoDateFilter(
        field_name="issued_on", lookup_expr="gte", help_text="On or after YYYY-MM-DD."
    )
    issued_before = IsoDateFilter(
        field_name="issued_on", lookup_expr="lte", help_text="On or before YYYY-MM-DD."
    )
    kind = django_filters.ChoiceFilter(choices=Statement.Kind.choices)
    q = django_filters.CharFilter(
        method="filter_text",
        help_text="Words in the title, summary, ask or full text, or the name, other name "
        "or acronym of an organisation that signed (whole; case, punctuation, apostrophes "
        "and accents ignored).",
    )
    ordering = OrderingFilter(
        fields=(("issued_on", "issued_on"), ("title", "title"), ("slug", "slug")),
        help_text="issued_on, title or slug; prefix with - to reverse. Default: -issued_on.",
    )

    class Meta:
        model = Statement
        fields = []

    def filter_topic(self, queryset, name, value: str):
        return queryset.filter(Statement.on_topic(value)) if value else queryset

    def filter_signed_by(self, queryset, name, value: list[str]):
        for organization in value:
            queryset = queryset.filter(
                Exists(
                    Signature.objects.filter(statement=OuterRef("pk"), organization=organization)
                )
            )
        return queryset

    def filter_led_by(self, queryset, name, value: str):
        if value is None:
            return queryset
        return queryset.filter(
            Exists(
                Signature.objects.filter(
                    statement=OuterRef("pk"), organization=value, role=Signature.Role.LEAD
                )
            )
        )

    def filter_text(self, queryset, name, value):
        return search_statements(queryset, value) if value.strip() else queryset


class SignatureFilter(django_filters.FilterSet):
    organization = SlugFilter(
        queryset=Organization.objects.public(),
        method="filter_organization",
        help_text="An organisation slug.",
    )
    statement = SlugFilter(
        queryset=Statement.objects.public(),
        method="filter_statement",
        help_text="A statement slug.",
    )
    role = django_filters.ChoiceFilter(choices=Signature.Role.choices)
    topic = SlugFilter(
        queryset=Topic.objects.public(), method="filter_topic", help_text="A topic slug."
    )
    joined_after = IsoDateFilter(
        field_name="joined_on", lookup_expr="gte", help_text="Joined on or after YYYY-MM-DD."
    )
    joined_before = IsoDateFilter(
        field_name="joined_on", lookup_expr="lte", help_text="Joined on or before YYYY-MM-DD."
    )
    as_of = IsoDateFilter(
        method="filter_as_of",
        help_text="YYYY-MM-DD: only signatures that had joined by then and not yet withdrawn.",
    )

    class Meta:
        model = Signature
        fields = []

    def filter_topic(self, queryset, name, value: str):
        return queryset.filter(Statement.on_topic(value, "statement_id")) if value else queryset

    def filter_organization(self, queryset, name, value: str):
        return queryset.filter(organization=value) if value else queryset

    def filter_statement(self, queryset, name, value: str):
        return queryset.filter(statement=value) if value else queryset

    def filter_as_of(self, queryset, name, day):
        return queryset.filter(Signature.standing_on(day)) if day else queryset
