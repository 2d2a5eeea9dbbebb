from urllib.parse import urlencode

from django.db.models import Count, Max, Min, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action

from statements.cosigning import cosigner_rows
from statements.models import Signature, Statement
from tracker.api import FORMAT_PARAMETER, ReadOnlyViewSet, slug_example

from .filters import OrganizationFilter, PositionsFilter
from .models import Organization, OtherName
from .serializers import (
    CosignerSerializer,
    OrganizationDetailSerializer,
    OrganizationListSerializer,
    TimelineEntrySerializer,
)
from .views import former_slug_redirect

PUBLIC_SIGNATURE = Statement.public_filter("signatures__statement__")


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
            return Signature.objects.filter(Statement.public_filter("statement__"))
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
            self.positions(organization)
            .select_related("statement", "organization")
            .order_by("statement__issued_on", "statement_id")
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
