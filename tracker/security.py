"""Staff logins: who is asking (for lockouts, as for API rate limits), and the login form."""

import ipaddress

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.validators import MaxLengthValidator
from rest_framework.throttling import BaseThrottle


def client_ip(request) -> str:
    """
    The client as the API's rate limit sees it (DRF's rule, API_NUM_PROXIES), so that one
    setting covers both; but only an address counts: other text in X-Forwarded-For was not
    written by a proxy (and the lockout keeps addresses in an address column).
    """
    ident = BaseThrottle().get_ident(request)
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:
        return request.META.get("REMOTE_ADDR", "")


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
