from django.db.models import Count
from django.db.models.functions import ExtractYear
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.exceptions import ValidationError
from rest_framework.fields import DateField

from tracker.api import FORMAT_PARAMETER, CursorPagination, ReadOnlyViewSet, slug_example

from .filters import SignatureFilter, StatementFilter
from .models import Signature, Statement, Topic
from .serializers import (
    SignatureSerializer,
    StatementDetailSerializer,
    StatementListSerializer,
    TopicDetailSerializer,
    TopicSerializer,
)

AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description="YYYY-MM-DD: list only the organisations that had signed by that date and "
    "had not withdrawn.",
)


def parse_as_of(request):
    raw = request.query_params.get("as_of")
    if raw is None:
        return None
    try:
        return DateField().to_internal_value(raw)
    except ValidationError as exc:
        raise ValidationError({"as_of": exc.detail}) from None


@extend_schema_view(
    list=extend_schema(parameters=[FORMAT_PARAMETER]),
    retrieve=extend_schema(
        parameters=[
            AS_OF,
            slug_example("The joint statement", "2025-11-12-azerbaijan-isf-gaza-joint-statement"),
        ]
    ),
)
class StatementViewSet(ReadOnlyViewSet):
    """Published and retracted statements, with who signed them."""

    filterset_class = StatementFilter
    csv_filename = "statements"

    def allowed_query_params(self):
        allowed = super().allowed_query_params()
        return allowed | {"as_of"} if self.action == "retrieve" else allowed

    def get_serializer_class(self):
        return StatementDetailSerializer if self.action == "retrieve" else StatementListSerializer

    def get_queryset(self):
        as_of = parse_as_of(self.request) if self.action == "retrieve" else None
        queryset = Statement.objects.public().listed(as_of).order_by("-issued_on", "-id")
        if self.action == "retrieve":
            return queryset.with_public_parts()
        return queryset

    def get_object(self):
        statement = super().get_object()
        statement.public_signatures = statement.signature_rows(parse_as_of(self.request))
        return statement


@extend_schema_view(list=extend_schema(parameters=[FORMAT_PARAMETER]))
class SignatureViewSet(ReadOnlyViewSet):
    """
    The fact table: one row per organisation per public statement. Pages are keyset
    (cursor) pages: follow `next`.
    """

    serializer_class = SignatureSerializer
    filterset_class = SignatureFilter
    pagination_class = CursorPagination
    lookup_field = "pk"
    lookup_value_regex = r"[0-9]{1,18}"
    csv_filename = "signatures"

    def get_queryset(self):
        return Signature.objects.public().listed().order_by("id")


@extend_schema_view(
    list=extend_schema(parameters=[FORMAT_PARAMETER]),
    retrieve=extend_schema(parameters=[slug_example("Gaza", "gaza")]),
)
class TopicViewSet(ReadOnlyViewSet):
    """Topics, with how many public statements each has."""

    csv_filename = "topics"
    recent_statements = 100

    def get_serializer_class(self):
        return TopicDetailSerializer if self.action == "retrieve" else TopicSerializer

    def get_queryset(self):
        return (
            Topic.objects.public()
            .annotate(
                statement_count=Count(
                    "statements", filter=Statement.public_filter("statements__"), distinct=True
                )
            )
            .order_by("name")
        )

    def get_object(self):
        topic = super().get_object()
        public = Statement.objects.public().filter(topics=topic)
        topic.statements_by_year = list(
            public.annotate(year=ExtractYear("issued_on"))
            .values("year")
            .annotate(count=Count("id"))
            .order_by("year")
        )
        topic.public_statements = list(
            public.order_by("-issued_on", "-id")[: self.recent_statements]
        )
        return topic
