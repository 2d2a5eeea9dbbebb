"""
Public pages and API answers, kept in memory under the data version.

The data changes a few times a day and is read all day, so each worker keeps the answers it
rendered under what they were rendered from (key_for: scheme, host, script prefix, path and
query) and the current data version (statements.DataVersion, moved by database triggers when
a writing transaction commits). A request costs one small query for the version, and a
rendered answer is reused until the data changes. Nothing is ever served stale: a new
version is a new key, whatever wrote to the database.

What is kept: answers to GET and HEAD with status 200, not streamed, that set no cookie and
are not marked private or no-store, and only for requests without a session cookie (staff
see drafts and previews; they always get a fresh page). The API keeps them inside its views,
after authentication and rate limits (KeptAnswers, added to each endpoint where tracker/urls.py
routes it); pages through PublicPageCacheMiddleware.
"""

import hashlib
import json

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpResponse
from django.urls import get_script_prefix
from rest_framework.response import Response

from statements.models import DataVersion

ALIAS = "responses"
# Answers larger than this are rendered each time rather than crowd out the others: at
# most 300 kept answers (settings.CACHES) of at most this size, per worker.
MAX_BYTES = 256 * 1024
KEPT_HEADERS = frozenset(
    {
        "content-type",
        "content-language",
        "cache-control",
        "last-modified",
        "x-robots-tag",
        "link",
        "vary",
    }
)
# "hit" on an answer that was kept, "miss" on one that was built where a kept one could have
# served (public GET pages and API answers), so that operators and tests see which it was.
CACHE_HEADER = "X-Cache"
_VERSION_SQL = f"SELECT version FROM {DataVersion._meta.db_table} WHERE id = 1"


def enabled() -> bool:
    return getattr(settings, "RESPONSE_CACHE", True)


def data_version() -> int | None:
    # From the database the answer is read from (a replica, for a public read: tracker.db_router),
    # so that a version never names an answer read from another moment of the data.
    with connections[DataVersion.objects.db].cursor() as cursor:
        cursor.execute(_VERSION_SQL)
        row = cursor.fetchone()
    return None if row is None else row[0]


def cacheable_request(request) -> bool:
    return (
        enabled()
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def key_for(request, variant: str = "") -> str | None:
    """
    The request's key under the current data version, or None if there is no version.

    The key is made of what the answer is rendered from, each part on its own: the scheme and
    host (absolute links, feeds), the script prefix (the request's, and the one every link
    reverse() makes starts with), the path that was routed and the query string as sent. Not
    the absolute address, which joins the prefix and the path: "/statements" + "/" (the home
    page) and "" + "/statements/" (the list) are one address but two different pages. Hashed,
    so that a long address makes a key of the same length, of characters any cache takes.
    """
    version = data_version()
    if version is None:
        return None
    parts = [
        variant,
        request.scheme,
        request.get_host(),
        request.META.get("SCRIPT_NAME", ""),
        get_script_prefix(),
        request.path_info,
        request.META.get("QUERY_STRING", ""),
    ]
    digest = hashlib.sha256(json.dumps(parts).encode()).hexdigest()
    return f"{version}:{digest}"


def lookup(key: str) -> HttpResponse | None:
    stored = caches[ALIAS].get(key)
    if stored is None:
        return None
    content, headers = stored
    return HttpResponse(content, headers=headers)


def store(key: str, response) -> None:
    if not keepable(response):
        return
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    if len(response.content) > MAX_BYTES:
        return
    headers = {name: value for name, value in response.items() if name.lower() in KEPT_HEADERS}
    caches[ALIAS].set(key, (response.content, headers))


def keepable(response) -> bool:
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "private" not in cache_control
        and "no-store" not in cache_control
    )


class PublicPageCacheMiddleware:
    """The public pages (not the admin, the API or static files), kept as above."""

    SKIPPED = ("/admin/", "/api/", "/static/", "/media/", "/health/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not cacheable_request(request) or request.path_info.startswith(self.SKIPPED):
            return self.get_response(request)
        key = key_for(request, "page")
        if key is None:
            return self.get_response(request)
        cached = lookup(key)
        if cached is not None:
            cached[CACHE_HEADER] = "hit"
            return cached
        response = self.get_response(request)
        store(key, response)
        response[CACHE_HEADER] = "miss"
        return response


class KeptAnswers:
    """
    For an API viewset (a tracker.api.ReadOnlyViewSet): answer from the kept answers when they
    have this request under the current data version. The lookup comes after the viewset's own
    checks of the request (its query parameters, authentication, rate limits), which DRF runs
    in initial(), and instead of the handler, which DRF looks up only after initial().
    Otherwise the key is noted, so that finalize_response keeps the answer.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.kept_answer_key = None
        if request.accepted_renderer.format != "json" or not cacheable_request(request):
            return
        # The accepted media type with its parameters: `; indent=4` changes the answer.
        key = key_for(
            request, f"api:{type(self).__name__}:{self.action}:{request.accepted_media_type}"
        )
        kept = lookup(key) if key else None
        if kept is None:
            self.kept_answer_key = key
        else:
            kept[CACHE_HEADER] = "hit"
            setattr(self, request.method.lower(), lambda *args, **kwargs: kept)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "kept_answer_key", None):
            if isinstance(response, Response):
                store(self.kept_answer_key, response)
            response[CACHE_HEADER] = "miss"
        return response


def with_kept_answers(viewset: type) -> type:
    """`viewset` with KeptAnswers, under the same name (the kept answers' keys carry it)."""
    return type(
        viewset.__name__,
        (KeptAnswers, viewset),
        {"__module__": viewset.__module__, "__doc__": viewset.__doc__},
    )
