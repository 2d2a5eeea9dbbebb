"""
What every endpoint of the partner API shares: strict query parameters, bounded pages,
CSV downloads of every list, and JSON errors.
"""

import csv
import io

import django_filters
from django.http import JsonResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import pagination, renderers
from rest_framework.exceptions import ValidationError
from rest_framework.viewsets import ReadOnlyModelViewSet

MAX_PAGE_SIZE = 200


@extend_schema_field(OpenApiTypes.STR)
class SlugFilter(django_filters.ModelChoiceFilter):
    """A record named by its slug; an unknown slug is a 400."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, to_field_name="slug", **kwargs)


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class SlugsFilter(django_filters.ModelMultipleChoiceFilter):
    """Records named by their slugs, the parameter repeated; an unknown slug is a 400."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, to_field_name="slug", **kwargs)


CSV_CHUNK = 500


def _page_size(request, default: int) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError(
            {"page_size": [f"Give a whole number from 1 to {MAX_PAGE_SIZE}, not “{raw[:40]}”."]}
        )
    return size


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        return _page_size(request, self.page_size)


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: every page costs the same, however deep."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "id"

    def get_page_size(self, request):
        return _page_size(request, self.page_size)


class CSVRenderer(renderers.BaseRenderer):
    """Lists are streamed by `ReadOnlyViewSet.list`; this renders anything else flat."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = data if isinstance(data, list) else [data]
        rows = [flatten(row) for row in rows if isinstance(row, dict)]
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        return out.getvalue().encode("utf-8")


def flatten(data: dict, prefix: str = "") -> dict:
    """{"organization": {"slug": "x"}, "topics": ["a", "b"]} → organization_slug, topics."""
    flat = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}_"))
        elif isinstance(value, list):
            flat[name] = "; ".join(
                str(item.get("slug", item)) if isinstance(item, dict) else str(item)
                for item in value
            )
        else:
            flat[name] = "" if value is None else value
    return flat


class _Echo:
    def write(self, value):
        return value


FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "csv"],
    description="`csv` downloads the whole filtered list as CSV (no pagination).",
)


class ReadOnlyViewSet(ReadOnlyModelViewSet):
    """
    A read-only endpoint whose query parameters are checked: an unknown parameter, a NUL
    byte or an over-long value is a 400 that says what is wrong, never ignored or a 500.
    `?format=csv` on a list streams every matching row.
    """

    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]
    pagination_class = PageNumberPagination
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    extra_query_params: frozenset[str] = frozenset()
    csv_filename = "export"

    def allowed_query_params(self) -> set[str]:
        allowed = {"format", *self.extra_query_params}
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None and self.action not in ("retrieve",):
            allowed |= set(filterset_class.base_filters)
        paginator = self.paginator
        if paginator is not None and self.action not in ("retrieve",):
            allowed.add(paginator.page_size_query_param)
            for attribute in ("page_query_param", "cursor_query_param"):
                if hasattr(paginator, attribute):
                    allowed.add(getattr(paginator, attribute))
        return allowed

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        params = request.query_params
        unknown = sorted(set(params) - self.allowed_query_params())
        if unknown:
            raise ValidationError(
                {
                    "detail": f"Unknown query parameter(s): {', '.join(u[:40] for u in unknown)}.",
                    "allowed": sorted(self.allowed_query_params()),
                }
            )
        for key, values in params.lists():
            for value in values:
                if "\x00" in value:
                    raise ValidationError({key: ["Contains a NUL byte."]})
                if len(value) > 500:
                    raise ValidationError({key: ["Too long (more than 500 characters)."]})

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            return self.stream_csv(self.filter_queryset(self.get_queryset()))
        return super().list(request, *args, **kwargs)

    def stream_csv(self, rows, serializer_class=None):
        serializer_class = serializer_class or self.get_serializer_class()
        context = self.get_serializer_context()

        def lines():
            writer = csv.writer(_Echo())
            header = None
            iterator = rows.iterator(chunk_size=CSV_CHUNK) if hasattr(rows, "iterator") else rows
            for row in iterator:
                flat = flatten(serializer_class(row, context=context).data)
                if header is None:
                    header = list(flat)
                    yield writer.writerow(header)
                yield writer.writerow([flat.get(column, "") for column in header])

        return StreamingHttpResponse(
            lines(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{self.csv_filename}.csv"'},
        )


def not_found(request, *args, **kwargs):
    """Unknown addresses under /api/ answer in JSON, like every other API error."""
    return JsonResponse({"detail": "Not found."}, status=404)
