from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse


class RejectNulBytesMiddleware:
    """
    A NUL byte in a query or form value is never legitimate, and PostgreSQL refuses to store
    or compare it: answer 400 before any view runs, for pages, the API and the admin alike.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request.GET) or (request.method == "POST" and self._has_nul(request.POST)):
            message = "A NUL byte is not allowed in a request."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(data) -> bool:
        return any(
            "\x00" in key or any("\x00" in v for v in values) for key, values in data.lists()
        )


class RejectForeignScriptPrefixMiddleware:
    """
    The site is served at the root of its host (or under settings.FORCE_SCRIPT_NAME, where
    that is set: Django then takes no other). A request that arrives with another script
    prefix in SCRIPT_NAME was split by the server at a place someone else chose: gunicorn,
    trusting a forwarder, takes SCRIPT_NAME from a request header and removes it from the
    path, so "/statements/" with SCRIPT_NAME "/statements" would be routed as "/". Refuse it
    (400) rather than answer, at that address, a page that is not the one there.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        expected = (settings.FORCE_SCRIPT_NAME or "").rstrip("/")
        given = request.META.get("SCRIPT_NAME", "").rstrip("/")
        if given == expected:
            return self.get_response(request)
        message = (
            f"This site is served under {expected + '/'!r}; a request with the script prefix "
            f"(SCRIPT_NAME) {given!r} is refused."
        )
        if (given + request.path_info).startswith("/api/"):
            return JsonResponse({"detail": message}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
