"""
What every endpoint of the partner API shares: strict query parameters, bounded pages,
CSV downloads of every list, and JSON errors.
"""

import base64
import csv
import functools
import io
import re
from functools import partial
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

import django_filters
import idna
import orjson
from django.core.paginator import Paginator as DjangoPaginator
from django.db import models
from django.http import (
    StreamingHttpResponse,
)
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import negotiation, pagination, renderers, serializers
from rest_framework.exceptions import (
    MethodNotAllowed,
    NotFound,
    ValidationError,
)
from rest_framework.viewsets import ReadOnlyModelViewSet

from tracker.text import spreadsheet_cell

MAX_PAGE_SIZE = 200
# The highest page number the schema allows (no list has so many pages: they are 404s).
MAX_PAGE = 2**31 - 1
# A repeatable parameter adds a subquery per value: bound it.
MAX_REPEATS = 10
# The longest value a query parameter may have, and the parameters that may be given empty.
MAX_VALUE_LENGTH = 500
MAY_BE_EMPTY = frozenset({"q"})


class OrderingFilter(django_filters.OrderingFilter):
    """
    The chosen order, then the id, so that pages never overlap. Each choice at most once (a
    second `-issued_on` orders nothing), which bounds the list: the schema says so with
    uniqueItems and maxItems (document_query_rules).
    """

    def filter(self, qs, value):
        if not value:
            return qs
        if not all(value):
            raise ValidationError(
                {self.field_name: ["Give field names separated by commas, with none empty."]}
            )
        repeated = sorted({param for param in value if value.count(param) > 1})
        if repeated:
            raise ValidationError(
                {self.field_name: [f"Give each field once, not {', '.join(repeated)} again."]}
            )
        return qs.order_by(*[self.get_ordering_value(param) for param in value], "id")


class SlugFilter(django_filters.ModelChoiceFilter):
    """
    A record named by its slug; an unknown slug is a 400. Its filter method annotates its
    value as `str`, which is how the schema learns the parameter's type (the method itself
    receives the record).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, to_field_name="slug", **kwargs)


class SlugsFilter(django_filters.ModelMultipleChoiceFilter):
    """Records named by their slugs, the parameter repeated (see MAX_REPEATS)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, to_field_name="slug", **kwargs)


class IsoDateFilter(django_filters.DateFilter):
    """A date written YYYY-MM-DD, and only so: 12/11/2025 is ambiguous and refused."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, input_formats=["%Y-%m-%d"], **kwargs)


CSV_CHUNK = 500


def _page_size(request, default: int) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return default
    size = int(raw) if re.fullmatch(r"[0-9]{1,4}", raw) else 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError(
            {"page_size": [f"Give a whole number from 1 to {MAX_PAGE_SIZE}, not “{raw[:40]}”."]}
        )
    return size


def _bounded_page_size(parameters: list[dict]) -> list[dict]:
    for parameter in parameters:
        if parameter["name"] == "page_size":
            parameter["schema"].update(minimum=1, maximum=MAX_PAGE_SIZE)
        elif parameter["name"] == "page":
            # Pages are numbered from 1; a page before the first or after the last is a 404.
            # A bound, too, or a number of more than MAX_VALUE_LENGTH digits, which the API
            # refuses as too long, would be one the schema allows.
            parameter["schema"].update(minimum=1, maximum=MAX_PAGE)
    return parameters


class KnownCountPaginator(DjangoPaginator):
    """A paginator told its count, where the product keeps it, instead of counting rows."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count = count


class PageNumberPagination(pagination.PageNumberPagination):
    """Numbered pages. A view that knows its list's length sets `known_count` to save the count."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        return _page_size(request, self.page_size)

    def paginate_queryset(self, queryset, request, view=None):
        known = getattr(view, "known_count", None)
        self.django_paginator_class = (
            DjangoPaginator if known is None else partial(KnownCountPaginator, count=known)
        )
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        return _bounded_page_size(super().get_schema_operation_parameters(view))


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: every page costs the same, however deep."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "id"

    def get_page_size(self, request):
        return _page_size(request, self.page_size)

    def get_schema_operation_parameters(self, view):
        return _bounded_page_size(super().get_schema_operation_parameters(view))

    def decode_cursor(self, request):
        # DRF reads a cursor leniently: text that decodes to no position at all would be
        # taken for the first page. A cursor is only ever one this API wrote.
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None:
            try:
                text = base64.b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
                tokens = parse_qs(text, keep_blank_values=True, strict_parsing=True)
            except ValueError:  # not base64, not ASCII, not a query string
                raise NotFound(self.invalid_cursor_message) from None
            if not tokens or not set(tokens) <= {"o", "r", "p"}:
                raise NotFound(self.invalid_cursor_message)
        cursor = super().decode_cursor(request)
        # The position goes into the query: a tampered cursor must not reach the database.
        position = None if cursor is None else cursor.position
        if position is not None and not re.fullmatch(r"[0-9]{1,18}", str(position)):
            raise NotFound(self.invalid_cursor_message)
        return cursor


class CSVWriter:
    """
    The one way this product writes CSV: every cell goes through spreadsheet_cell, so
    that no text can reach a spreadsheet as a formula (tracker/text.py), and every cell of
    text is quoted, so that a spreadsheet splitting lines on another separator (";" in
    many locales) cannot cut one open into a cell of its own. `out` is a file, or None to
    have writerow return each line, for streaming.
    """

    def __init__(self, out=None):
        self._writer = csv.writer(out if out is not None else _Echo(), quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, cells):
        return self._writer.writerow([spreadsheet_cell(cell) for cell in cells])


class JSONRenderer(renderers.JSONRenderer):
    """
    DRF's JSON, byte for byte, written by orjson: several times faster for the large answers
    (a 500-signatory statement is 160 KB). Dates and times, decimals and lazy texts go
    through DRF's own encoder, so they read as DRF writes them (a UTC time ends in "Z"), and
    so do U+2028 and U+2029, escaped as DRF escapes them. An answer asked for with an
    indent (`Accept: application/json; indent=4`), or holding what orjson cannot write (an
    integer beyond 64 bits), is written by DRF itself.
    """

    _OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            written = orjson.dumps(data, default=self.encoder_class().default, option=self._OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        return written.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")


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
            writer = CSVWriter(out)
            header = list(rows[0])
            writer.writerow(header)
            for row in rows:
                writer.writerow([row.get(column, "") for column in header])
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


_PLACEHOLDER = "SLUG-PLACEHOLDER"


def detail_url(request, view_name: str, slug: str, lookup_url_kwarg: str = "slug") -> str:
    """
    The absolute address of a record's API page: one reverse() per view and request, not
    one per row (a 500-signatory statement links 500 organisations). Slugs need no escaping
    in a path.
    """
    templates = request.__dict__.setdefault("_detail_link_templates", {})
    template = templates.get(view_name)
    if template is None:
        path = reverse(view_name, kwargs={lookup_url_kwarg: _PLACEHOLDER})
        template = templates[view_name] = request.build_absolute_uri(path)
    return template.replace(_PLACEHOLDER, slug)


def iso_date(value) -> str | None:
    """A date as DRF's DateField writes it."""
    return None if value is None else value.isoformat()


_PERCENT_NOT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# What RFC 3986 allows unescaped besides letters, digits and -._~ (and the % of an escape):
# in a registered name (a host), in the userinfo, and in a path, query or fragment.
_SUB_DELIMS = "!$&'()*+,;="
_HOST_SAFE = _SUB_DELIMS + "%"
_USERINFO_SAFE = _SUB_DELIMS + ":%"
_URI_SAFE = _SUB_DELIMS + ":@/?%"


def _escaped(component: str, safe: str) -> str:
    """A URI component: a % that begins no escape escaped, and every character it may not hold."""
    return quote(_PERCENT_NOT_ESCAPE.sub("%25", component), safe=safe)


def uri_host(host: str) -> str:
    """
    A host name as a URI gives it. A Unicode name is converted the way browsers convert it
    (UTS #46 non-transitional processing, IDNA 2008): straße.de is xn--strae-oqa.de, never
    strasse.de, which Python's own IDNA 2003 codec would make of it, a different domain. A
    name IDNA 2008 refuses (☃.net, a stray joiner) is percent-encoded, as RFC 3986 allows:
    the same name, which a browser decodes and treats exactly as the stored one. An ASCII
    name is given as stored.
    """
    if not host.isascii():
        try:
            return idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except UnicodeError:  # idna.IDNAError included
            pass
    return _escaped(host, _HOST_SAFE)


# Answers repeat the same addresses (an organisation's website on each of its rows): convert
# each once per process.
@functools.lru_cache(maxsize=8192)
def as_uri(iri: str) -> str:
    """
    A web address as an RFC 3986 URI. Django's URLField accepts more than URIs: Unicode hosts
    and paths, a bare %, [ ] | ^ { } and the like in the userinfo, path, query or fragment;
    the API gives them the way a browser sends them (the host as uri_host gives it, the rest
    percent-encoded), which leads to the same page. A URI comes back unchanged.
    """
    if not iri:
        return iri
    parts = urlsplit(iri)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):  # an IPv6 address, [::1]:8000
        host, port = hostport, ""
    else:
        host, colon, port = hostport.partition(":")
        host, port = uri_host(host), colon + port
    netloc = (_escaped(userinfo, _USERINFO_SAFE) + at if at else "") + host + port
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            _escaped(parts.path, _URI_SAFE),
            _escaped(parts.query, _URI_SAFE),
            _escaped(parts.fragment, _URI_SAFE),
        )
    )


class URIField(serializers.URLField):
    """A stored web address, given as a URI (see as_uri): what the schema's `format: uri` says."""

    def to_representation(self, value):
        return as_uri(super().to_representation(value))


# For the ModelSerializers with a URLField: `serializer_field_mapping = URI_FIELD_MAPPING`.
URI_FIELD_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    models.URLField: URIField,
}


class DetailLink(serializers.HyperlinkedIdentityField):
    """A link to a record's API page, without the request's own ?format= carried over."""

    def __init__(self, view_name, **kwargs):
        kwargs.setdefault("lookup_field", "slug")
        super().__init__(view_name=view_name, **kwargs)

    def get_url(self, obj, view_name, request, format):
        slug = getattr(obj, self.lookup_field, None)
        if request is None or not isinstance(slug, str) or not slug:
            return super().get_url(obj, view_name, request, format).split("?", 1)[0]
        return detail_url(request, view_name, slug, self.lookup_url_kwarg)


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    """An unknown ?format= is a 400 that names the formats, not a 404."""

    def select_renderer(self, request, renderers_, format_suffix=None):
        wanted = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        offered = [renderer.format for renderer in renderers_]
        if wanted and wanted not in offered:
            raise ValidationError({"format": [f"Choose one of: {', '.join(offered)}."]})
        return super().select_renderer(request, renderers_, format_suffix)


class _Echo:
    def write(self, value):
        return value


FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "csv"],
    description="`csv` downloads the whole filtered list as CSV; with a page (`page`, "
    "`page_size` or `cursor`), that page, and a `Link` header to the next and previous ones.",
)


def slug_example(name: str, slug: str) -> OpenApiParameter:
    """The path's slug with a real example, which schemathesis also requests."""
    return OpenApiParameter(
        "slug",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        examples=[OpenApiExample(name, value=slug)],
    )


class ReadOnlyViewSet(ReadOnlyModelViewSet):
    """
    A read-only endpoint whose query parameters are checked: an unknown, repeated, empty or
    over-long parameter is a 400 that says what is wrong, never ignored or a 500 (NUL bytes
    are refused earlier, by tracker.middleware).
    `?format=csv` on a list streams every matching row. The site keeps answers
    (tracker.response_cache.KeptAnswers), added where tracker/urls.py routes each endpoint.
    """

    renderer_classes = [JSONRenderer, CSVRenderer]
    content_negotiation_class = ContentNegotiation
    multi_value_params: frozenset[str] = frozenset({"signed_by"})
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
            if len(values) > 1 and key not in self.multi_value_params:
                raise ValidationError({key: ["Give this parameter once."]})
            if len(values) > MAX_REPEATS:
                raise ValidationError({key: [f"Give at most {MAX_REPEATS}."]})
            for value in values:
                if value == "" and key not in MAY_BE_EMPTY:
                    raise ValidationError({key: ["Give a value, or leave the parameter out."]})
                if len(value) > MAX_VALUE_LENGTH:
                    raise ValidationError(
                        {key: [f"Too long (more than {MAX_VALUE_LENGTH} characters)."]}
                    )

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON, even when the request asked for CSV.
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), CSVRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = request.accepted_renderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def csv_page(self, request, rows):
        """
        The rows a CSV download holds: the whole list, or, given `page`, `page_size` or
        `cursor`, that page, as in JSON. Returns them with the Link header (RFC 8288) that
        leads to the next and previous pages, which JSON gives in its body.
        """
        paging = {"page", "page_size", "cursor"} & set(request.query_params)
        if not paging or self.paginator is None:
            return rows, None
        page = self.paginate_queryset(rows)
        links = [
            f'<{url}>; rel="{rel}"'
            for rel, url in (
                ("next", self.paginator.get_next_link()),
                ("prev", self.paginator.get_previous_link()),
            )
            if url
        ]
        return page, ", ".join(links) or None

    def csv_response(self, response, link):
        if link:
            response["Link"] = link
        return response

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            rows, link = self.csv_page(request, self.filter_queryset(self.get_queryset()))
            return self.csv_response(self.stream_csv(rows), link)
        return super().list(request, *args, **kwargs)

    def stream_csv(self, rows, serializer_class=None):
        serializer_class = serializer_class or self.get_serializer_class()
        context = self.get_serializer_context()

        header = list(csv_columns(serializer_class(context=context).fields))

        def lines():
            writer = CSVWriter()
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
                responses["200"].setdefault("headers", {})["Link"] = {
                    "schema": {"type": "string"},
                    "description": "A CSV of a page: the next and previous pages "
                    '(`<URL>; rel="next"`, `rel="prev"`).',
                }
    return result


def _bound_comma_separated(name: str, schema: dict) -> None:
    """
    A list given in one value (`ordering=-issued_on,title`) is bounded by the value's
    length, which an array's schema cannot state. Its items are choices given at most once
    (OrderingFilter), so uniqueItems and maxItems bound it instead; all the choices together
    must fit in MAX_VALUE_LENGTH, or a list the schema allows would be refused as too long.
    """
    choices = schema["items"].get("enum")
    if not choices:
        raise ValueError(f"{name}: a comma-separated list without choices has no bound to state")
    if len(",".join(choices)) > MAX_VALUE_LENGTH:
        raise ValueError(f"{name}: its choices together are longer than {MAX_VALUE_LENGTH}")
    schema.setdefault("uniqueItems", True)
    schema.setdefault("maxItems", len(choices))


def document_query_rules(result, generator, request, public):
    """
    drf-spectacular hook: the rules ReadOnlyViewSet.initial holds every query parameter to,
    in the schema. A value is never empty (except MAY_BE_EMPTY) nor longer than
    MAX_VALUE_LENGTH, a repeatable parameter is given at most MAX_REPEATS times, and a
    comma-separated list names each of its choices at most once. Nor does
    it hold a NUL byte (refused by tracker.middleware.RejectNulBytesMiddleware).
    """
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                schema = parameter["schema"]
                may_be_empty = parameter["name"] in MAY_BE_EMPTY
                if schema.get("type") == "array":
                    # Repeated (`signed_by=a&signed_by=b`) or comma-separated in one value.
                    if parameter.get("explode", True):
                        schema.setdefault("maxItems", MAX_REPEATS)
                    else:
                        schema.setdefault("minItems", 1)
                        _bound_comma_separated(parameter["name"], schema)
                    schema = schema["items"]
                if schema.get("type") == "string" and not {"enum", "format"} & set(schema):
                    if not may_be_empty:
                        schema.setdefault("minLength", 1)
                    schema.setdefault("maxLength", MAX_VALUE_LENGTH)
                    schema.setdefault("pattern", "^[^\\u0000]*$")
    return result
