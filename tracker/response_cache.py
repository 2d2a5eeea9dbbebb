"""
Public pages and API answers, kept in the shared cache and expired by what changed.

The data changes a few times a day and is read all day, so each answer rendered is kept under
what it was rendered from (key_for: scheme, host, script prefix, path and query) in the
"responses" cache (settings.CACHES), with two more things: the change log's position before it
was built, and what it shows (statements.changes.Shows: one statement, one organisation, an
organisation with its co-signers, one topic, or EVERYTHING for lists, search, the home page,
feeds of many records and sitemaps; what_a_page_shows and what_an_endpoint_shows say which).
A lookup serves it only if no change logged after that position touches what it shows
(statements.changes.check, which has the rules): one indexed query of the log for a kept
answer, and one more, of the signatures or topics of what changed, only when the log has
changes since that could touch it. An edit to one statement expires that statement's answers,
the lists and the answers of the organisations that signed it and of its topics, not the rest.

Validity comes from the database alone, never from what a worker saw: a worker started a
second ago reads the same log as the others, so workers behind a load balancer may share the
cache. The log is written by database triggers in the writing transaction, whatever wrote
(the admin, an import, a bulk update, plain SQL), and its ids follow the order of commits, so a
change committed while an answer was built comes after the position read before building and
expires it. The position and the answer are read from the same database (through the router),
so an answer built from a copy that lags is checked against that copy's log. An answer whose
query names more than pages and dates (a filter by topic or organisation, a search) shows
EVERYTHING, as a list does. Answers still current after many changes are kept again at the
newest position, so that a check reads few rows.

What is kept: answers to GET and HEAD with status 200, not streamed, that set no cookie and
are not marked private or no-store, and only for requests without a session cookie (staff
see drafts and previews; they always get a fresh page). The API keeps them inside its views,
after authentication and rate limits (KeptAnswers, added to each endpoint where tracker/urls.py
routes it); pages through PublicPageCacheMiddleware. Each has one place where an answer is
served kept (a hit) and one where it is built (a miss).
"""

import hashlib
import json
from typing import NamedTuple

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse
from django.urls import Resolver404, get_resolver, get_script_prefix
from django.utils.cache import set_response_etag
from rest_framework.response import Response

from statements import changes
from statements.changes import Position, Shows

ALIAS = "responses"
# Answers larger than this are rendered each time rather than crowd out the others.
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
        "etag",
    }
)
# "hit" on an answer that was kept, "miss" on one that was built where a kept one could have
# served (public GET pages and API answers), so that operators and tests see which it was.
CACHE_HEADER = "X-Cache"

# The pages of one record (by the name tracker.urls gives their address) and what they show.
PAGES = {
    "statement-detail": changes.STATEMENT,
    "organization-detail": changes.COSIGNERS,  # it lists the most frequent co-signers
    "feed-organization": changes.ORGANIZATION,
    "topic-detail": changes.TOPIC,
    "feed-topic": changes.TOPIC,
}
# The endpoints of one record (basename and action, as tracker.urls routes them).
ENDPOINTS = {
    ("statement", "retrieve"): changes.STATEMENT,
    ("organization", "retrieve"): changes.ORGANIZATION,
    ("organization", "timeline"): changes.ORGANIZATION,
    ("organization", "cosigners"): changes.COSIGNERS,
    ("topic", "retrieve"): changes.TOPIC,
}
# Query parameters that choose a page of one record's answer, or its dates, and name no other
# record. Any other makes the answer one that shows EVERYTHING.
PAGING = frozenset(
    {"page", "page_size", "cursor", "format", "as_of", "issued_after", "issued_before"}
)


class Pending(NamedTuple):
    """An answer being built: the log's position before, and what it will show."""

    key: str
    position: Position
    shows: Shows


def enabled() -> bool:
    return getattr(settings, "RESPONSE_CACHE", True)


def cacheable_request(request) -> bool:
    return (
        enabled()
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def key_for(request, variant: str = "") -> str:
    """
    The request's key. It is made of what the answer is rendered from, each part on its own:
    the scheme and host (absolute links, feeds), the script prefix (the request's, and the one
    every link reverse() makes starts with), the path that was routed and the query string as
    sent. Not the absolute address, which joins the prefix and the path: "/statements" + "/"
    (the home page) and "" + "/statements/" (the list) are one address but two different
    pages. Hashed, so that a long address makes a key of the same length, of characters any
    cache takes.
    """
    parts = [
        variant,
        request.scheme,
        request.get_host(),
        request.META.get("SCRIPT_NAME", ""),
        get_script_prefix(),
        request.path_info,
        request.META.get("QUERY_STRING", ""),
    ]
    return "answer:" + hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def what_a_page_shows(request) -> tuple[str, str | None]:
    """(what, slug): what the public page at the request's address shows."""
    try:
        match = get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
    except Resolver404:
        return changes.EVERYTHING, None
    return _one_record(PAGES.get(match.url_name), match.kwargs, request.GET)


def what_an_endpoint_shows(view) -> tuple[str, str | None]:
    """(what, slug): what an API view (a viewset, its action chosen) answers with."""
    what = ENDPOINTS.get((getattr(view, "basename", None), view.action))
    return _one_record(what, view.kwargs, view.request.query_params)


def _one_record(what, kwargs, query) -> tuple[str, str | None]:
    if what is None or "slug" not in kwargs or not set(query) <= PAGING:
        return changes.EVERYTHING, None
    return what, kwargs["slug"]


def lookup(key: str) -> HttpResponse | None:
    """The kept answer under `key`, if there is one and no change since has touched it."""
    stored = caches[ALIAS].get(key)
    # Plain values, not the named tuples: an entry kept by another release still reads.
    if not isinstance(stored, tuple) or len(stored) != 6:
        return None
    position_id, transaction_key, what, object_id, content, headers = stored
    shows = Shows(what, object_id)
    checked = changes.check(Position(position_id, transaction_key), shows)
    if not checked.current:
        return None
    if checked.worth_moving:
        caches[ALIAS].set(key, (*checked.checked_to, *shows, content, headers))
    return HttpResponse(content, headers=headers)


def begin(key: str, what: str, slug: str | None) -> Pending | None:
    """
    Before building an answer: the log's position, and the id of the record it shows. None
    when it cannot be kept: the log is empty, or the address names no record (a 404).
    """
    position, object_id = changes.latest(what, slug)
    if position is None:
        return None
    if what == changes.EVERYTHING:
        return Pending(key, position, Shows(what))
    if object_id is None:
        return None
    return Pending(key, position, Shows(what, object_id))


def store(pending: Pending, response) -> None:
    if not keepable(response):
        return
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    if len(response.content) > MAX_BYTES:
        return
    # The ETag ConditionalGetMiddleware would give it (a digest of the content), made once
    # and kept, rather than again for every request it answers.
    set_response_etag(response)
    headers = {name: value for name, value in response.items() if name.lower() in KEPT_HEADERS}
    caches[ALIAS].set(pending.key, (*pending.position, *pending.shows, response.content, headers))


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
        kept = lookup(key)
        if kept is not None:
            kept[CACHE_HEADER] = "hit"
            return kept
        pending = begin(key, *what_a_page_shows(request))
        response = self.get_response(request)
        if pending is not None:
            store(pending, response)
        response[CACHE_HEADER] = "miss"
        return response


class KeptAnswers:
    """
    For an API viewset (a tracker.api.ReadOnlyViewSet): answer from the kept answers when they
    have this request, still current. The lookup comes after the viewset's own checks of the
    request (its query parameters, authentication, rate limits), which DRF runs in initial(),
    and instead of the handler, which DRF looks up only after initial(). Otherwise the log's
    position is read before the handler runs, so that finalize_response keeps the answer.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.kept_answer = None
        self.kept_answer_missed = False
        if request.accepted_renderer.format != "json" or not cacheable_request(request):
            return
        # The accepted media type with its parameters: `; indent=4` changes the answer.
        key = key_for(
            request, f"api:{type(self).__name__}:{self.action}:{request.accepted_media_type}"
        )
        kept = lookup(key)
        if kept is not None:
            kept[CACHE_HEADER] = "hit"
            setattr(self, request.method.lower(), lambda *args, **kwargs: kept)
        else:
            self.kept_answer_missed = True
            self.kept_answer = begin(key, *what_an_endpoint_shows(self))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "kept_answer", None) and isinstance(response, Response):
            store(self.kept_answer, response)
        if getattr(self, "kept_answer_missed", False):
            response[CACHE_HEADER] = "miss"
        return response


def with_kept_answers(viewset: type) -> type:
    """`viewset` with KeptAnswers, under the same name (the kept answers' keys carry it)."""
    return type(
        viewset.__name__,
        (KeptAnswers, viewset),
        {"__module__": viewset.__module__, "__doc__": viewset.__doc__},
    )
