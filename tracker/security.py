"""Staff logins: who is asking (for lockouts, as for API rate limits), and the login form."""

import ipaddress

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.validators import MaxLengthValidator


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
            chosen = addresses[-min(proxies, len(addresses))]
            # Only an address counts: anything else there was not written by a proxy (and
            # the lockout's records keep addresses in an address column).
            try:
                return str(ipaddress.ip_address(chosen))
            except ValueError:
                pass
    return remote


class StaffLoginForm(AdminAuthenticationForm):
    """
    The admin login, with the user name bounded as the user model bounds it: an overlong one
    is a form error before any authentication, so no failed attempt is recorded for it (the
    lockout's records hold 255 characters).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))
