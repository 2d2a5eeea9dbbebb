"""
The site's error answers: JSON under /api/, the error pages elsewhere. tracker/urls.py routes
unknown API addresses to not_found and names bad_request and server_error as Django's
handler400 and handler500; the 404 page is Django's own, from templates/404.html.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import (
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.template import loader
from django.urls import Resolver404, resolve
from django.views.defaults import server_error as html_server_error

# How long a client is asked to wait before trying again after a 503.
RETRY_AFTER_SECONDS = 10


def not_found(request, *args, **kwargs):
    """
    Unknown addresses under /api/ answer in JSON, like every other API error; an address
    missing only its trailing slash is redirected to it.
    """
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else "")
            )
    return JsonResponse({"detail": "Not found."}, status=404)


def bad_request(request, exception=None, *args, **kwargs):
    """
    A request Django refuses outright (too many parameters, a host not in ALLOWED_HOSTS):
    JSON under /api/, else the 400 page, rendered without the request, whose host may be the
    very thing refused.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return HttpResponseBadRequest(loader.get_template("400.html").render())


def server_error(request, *args, **kwargs):
    """
    A server error under /api/ answers in JSON too; elsewhere Django's page. When the cause is
    the database (PostgreSQL restarting or unreachable, or a query stopped by the web statement
    timeout), the answer is 503 with Retry-After: the next request reconnects by itself.
    """
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return service_unavailable(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    return html_server_error(request, *args, **kwargs)


def service_unavailable(request):
    """503, rendered without touching the database (no session, no user, no context)."""
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": "The service is briefly unavailable. Please try again in a moment."},
            status=503,
        )
    else:
        body = loader.get_template("503.html").render()
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
