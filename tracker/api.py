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
from rest_framework import pagination, renderers, serializers
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.viewsets import ReadOnlyModelViewSet

MAX_PAGE_SIZE = 200


class OrderingFilter(django_filters.OrderingFilter):
    """The chosen order, then the id, so that pages never overlap."""

    def filter(self, qs, value):
        if not value:
            return qs
        if not all(value):
            raise ValidationError(
                {self.field_name: ["Give field names separated by commas, with none empty."]}
            )
        return qs.order_by(*[self.get_ordering_value(param) for param in value], "id")


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


def csv_columns(fields, prefix: str = ""):
    """The CSV header for a serializer: nested objects' fields get their parent's prefix."""
    for name, field in fields.items():
        if isinstance(field, serializers.Serializer):
            yield from csv_columns(field.fields, f"{prefix}{name}_")
        else:
            yield f"{prefix}{name}"


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

    list_actions = ("list",)

    def get_renderers(self):
        renderers_ = super().get_renderers()
        if self.action in self.list_actions:
            return renderers_
        return [r for r in renderers_ if not isinstance(r, CSVRenderer)]

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
        if getattr(self, request.method.lower(), None) is None:
            raise MethodNotAllowed(request.method)  # before any other check: this is read-only
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
                if value == "" and key != "q":
                    raise ValidationError({key: ["Give a value, or leave the parameter out."]})
                if "\x00" in value:
                    raise ValidationError({key: ["Contains a NUL byte."]})
                if len(value) > 500:
                    raise ValidationError({key: ["Too long (more than 500 characters)."]})

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON, even when the request asked for CSV.
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), CSVRenderer
        ):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = request.accepted_renderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def check_csv_request(self, request):
        paging = sorted({"page", "page_size", "cursor"} & set(request.query_params))
        if paging:
            raise ValidationError(
                {"detail": f"A CSV download is the whole list: leave out {', '.join(paging)}."}
            )

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            self.check_csv_request(request)
            return self.stream_csv(self.filter_queryset(self.get_queryset()))
        return super().list(request, *args, **kwargs)

    def stream_csv(self, rows, serializer_class=None):
        serializer_class = serializer_class or self.get_serializer_class()
        context = self.get_serializer_context()

        header = list(csv_columns(serializer_class(context=context).fields))

        def lines():
            writer = csv.writer(_Echo())
            yield writer.writerow(header)
            iterator = rows.iterator(chunk_size=CSV_CHUNK) if hasattr(rows, "iterator") else rows
            for row in iterator:
                flat = flatten(serializer_class(row, context=context).data)
                yield writer.writerow([flat.get(column, "") for column in header])

        return StreamingHttpResponse(
            lines(),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{self.csv_filename}.csv"'},
        )


def not_found(request, *args, **kwargs):
    """Unknown addresses under /api/ answer in JSON, like every other API error."""
    return JsonResponse({"detail": "Not found."}, status=404)


_ERROR = {
    "description": 'What is wrong, as JSON: {"detail": ...} or {"<parameter>": [...]}.',
    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
}
_ERRORS = {
    "400": "Bad input: an unknown parameter, a malformed value or an unknown slug.",
    "401": "An invalid token.",
    "404": "No such record or page.",
    "429": "Rate limit reached: wait for the Retry-After seconds, or use a partner token.",
}


def document_errors_and_csv(result, generator, request, public):
    """
    drf-spectacular hook: every operation may answer with the JSON errors above, and every
    operation that takes `format` may answer with CSV.
    """
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status, description in _ERRORS.items():
                responses.setdefault(status, {**_ERROR, "description": description})
            responses["429"]["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
            }
            takes_format = any(p.get("name") == "format" for p in operation.get("parameters", []))
            if takes_format and "200" in responses:
                responses["200"].setdefault("content", {})["text/csv"] = {
                    "schema": {"type": "string"}
                }
    return result


def server_error(request, *args, **kwargs):
    """A server error under /api/ answers in JSON too; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request, *args, **kwargs)
