"""
The API's organisation endpoints: the list, each organisation, its timeline (its positions:
its signatures on public statements) and its co-signers. They live with statements because
all but the organisation's own fields are signatures; how an organisation itself is shown is
organizations.serializers.
"""

from urllib.parse import urlencode

import django_filters
from django.db.models import Count, Exists, Max, Min, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action

from organizations.models import Organization, OtherName
from organizations.search import search_organizations
from organizations.serializers import OrganizationDetailSerializer, OrganizationListSerializer
from organizations.views import former_slug_redirect
from tracker.api import (
    FORMAT_PARAMETER,
    IsoDateFilter,
    OrderingFilter,
    ReadOnlyViewSet,
    SlugFilter,
    iso_date,
    slug_example,
)

from .cosigning import cosigner_rows
from .models import Signature, Statement, Topic
from .serializers import OrganizationRefSerializer, StatementRefSerializer, statement_ref

PUBLIC_SIGNATURE = Signature.public_filter("signatures__")


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
        shared = Signature.objects.public().filter(organization=value).values("statement_id")
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


class TimelineEntrySerializer(serializers.Serializer):
    """One position the organisation took: a signature, with its statement."""

    statement = StatementRefSerializer(read_only=True)
    role = serializers.CharField(read_only=True)
    name_as_printed = serializers.CharField(source="printed_name", read_only=True)
    joined_on = serializers.DateField(read_only=True)
    withdrawn_on = serializers.DateField(read_only=True, allow_null=True)
    withdrawal_reason = serializers.CharField(read_only=True)

    def to_representation(self, signature):
        return {
            "statement": statement_ref(signature.statement, self.context["request"]),
            "role": signature.role,
            "name_as_printed": signature.printed_name,
            "joined_on": iso_date(signature.joined_on),
            "withdrawn_on": iso_date(signature.withdrawn_on),
            "withdrawal_reason": signature.withdrawal_reason,
        }


class CosignerSerializer(serializers.Serializer):
    organization = OrganizationRefSerializer(read_only=True)
    shared_count = serializers.IntegerField(read_only=True)
    first_shared_on = serializers.DateField(read_only=True)
    last_shared_on = serializers.DateField(read_only=True)
    shared_statements_url = serializers.URLField(
        read_only=True,
        help_text="The statements both signed (within the same filters): the statement list "
        "filtered by both organisations.",
    )


CMEP = slug_example("Churches for Middle East Peace", "churches-for-middle-east-peace")


@extend_schema_view(
    list=extend_schema(parameters=[FORMAT_PARAMETER]),
    retrieve=extend_schema(parameters=[CMEP]),
    timeline=extend_schema(
        parameters=[FORMAT_PARAMETER, CMEP],
        filters=True,
        responses=TimelineEntrySerializer(many=True),
    ),
    cosigners=extend_schema(
        parameters=[FORMAT_PARAMETER, CMEP],
        filters=True,
        responses=CosignerSerializer(many=True),
    ),
)
class OrganizationViewSet(ReadOnlyViewSet):
    """Organisations, the positions each took over time, and who they sign with."""

    @property
    def csv_filename(self):
        return {"timeline": "timeline", "cosigners": "cosigners"}.get(self.action, "organizations")

    list_actions = ("list", "timeline", "cosigners")

    @property
    def filterset_class(self):
        return PositionsFilter if self.action in ("timeline", "cosigners") else OrganizationFilter

    def get_serializer_class(self):
        return {
            "retrieve": OrganizationDetailSerializer,
            "timeline": TimelineEntrySerializer,
            "cosigners": CosignerSerializer,
        }.get(self.action, OrganizationListSerializer)

    def get_queryset(self):
        if self.action in ("timeline", "cosigners"):
            # The actions list signatures: the organisation's positions.
            return Signature.objects.public()
        queryset = (
            Organization.objects.public().with_public_statement_count().order_by("name", "id")
        )
        if self.action == "retrieve":
            queryset = queryset.annotate(
                lead_count=Count(
                    "signatures",
                    filter=PUBLIC_SIGNATURE & Q(signatures__role=Signature.Role.LEAD),
                    distinct=True,
                ),
                withdrawn_count=Count(
                    "signatures",
                    filter=PUBLIC_SIGNATURE & Q(signatures__withdrawn_on__isnull=False),
                    distinct=True,
                ),
                first_signed_on=Min("signatures__statement__issued_on", filter=PUBLIC_SIGNATURE),
                last_signed_on=Max("signatures__statement__issued_on", filter=PUBLIC_SIGNATURE),
            ).prefetch_related(Prefetch("other_names", queryset=OtherName.objects.public()))
        return queryset

    def handle_exception(self, exc):
        # The slug of an organisation merged into another redirects to the same endpoint of
        # that one, here as on the public pages.
        if isinstance(exc, Http404) and "slug" in self.kwargs:
            redirect = former_slug_redirect(self.request, self.kwargs["slug"])
            if redirect is not None:
                return redirect
        return super().handle_exception(exc)

    def positions(self, organization):
        """This organisation's signatures on public statements, filtered by the request."""
        return self.filter_queryset(self.get_queryset().filter(organization=organization))

    @action(detail=True)
    def timeline(self, request, slug=None):
        """Every public statement the organisation signed, oldest first: its positions."""
        organization = get_object_or_404(Organization.objects.public(), slug=slug)
        if not self.filtered(request):
            # Its positions are its signatures on public statements: the count it keeps.
            self.known_count = organization.public_statement_count
        entries = (
            self.positions(organization).listed().order_by("statement__issued_on", "statement_id")
        )
        if request.accepted_renderer.format == "csv":
            rows, link = self.csv_page(request, entries)
            return self.csv_response(self.stream_csv(rows), link)
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @action(detail=True)
    def cosigners(self, request, slug=None):
        """
        Every other organisation that signed at least one of the same public statements,
        most shared first, with a link to the statements both signed.
        """
        organization = get_object_or_404(Organization.objects.public(), slug=slug)
        # Unfiltered, a hub's co-signers come from the co-signing table: one index range.
        filtered = self.positions(organization) if self.filtered(request) else None
        rows = cosigner_rows(organization, filtered)
        if request.accepted_renderer.format == "csv":
            rows, link = self.csv_page(request, rows)
            rows = list(rows)
            self.attach_cosigners(rows, organization)
            return self.csv_response(self.stream_csv(rows), link)
        page = self.paginate_queryset(rows)
        self.attach_cosigners(page, organization)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @staticmethod
    def filtered(request) -> bool:
        """Whether the request filters the organisation's positions."""
        return any(name in request.query_params for name in PositionsFilter.base_filters)

    def attach_cosigners(self, rows, organization):
        """One query for the page's organisations; each row links to the shared statements."""
        organizations = Organization.objects.in_bulk([row["organization_id"] for row in rows])
        filters = {
            name: value
            for name, value in self.request.query_params.items()
            if name in PositionsFilter.base_filters
        }
        base = self.request.build_absolute_uri(reverse("api:statement-list"))
        for row in rows:
            other = row["organization"] = organizations[row["organization_id"]]
            query = urlencode(
                [("signed_by", organization.slug), ("signed_by", other.slug), *filters.items()]
            )
            row["shared_statements_url"] = f"{base}?{query}"
