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
