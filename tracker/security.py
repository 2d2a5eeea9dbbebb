"""Who is asking: the client address used for staff-login lockouts, as for API rate limits."""

from django.conf import settings


def client_ip(request) -> str:
    """
    The connecting address, or with API_NUM_PROXIES proxies in front, the address the
    outermost of them saw (the same rule as the API's rate limit, so one setting covers both).
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addresses:
            return addresses[-min(proxies, len(addresses))]
    return remote
