from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tracker.errors import RETRY_AFTER_SECONDS


@never_cache
@require_safe
def health(request):
    """
    For load balancers and uptime checks: 200 when the database answers, else 503. Served
    over plain HTTP too (SECURE_REDIRECT_EXEMPT), since probes often come from inside.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        response = JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"status": "ok", "database": "ok"})
