import re

from rest_framework import authentication
from rest_framework.exceptions import AuthenticationFailed


class TokenAuthentication(authentication.TokenAuthentication):
    """Partner tokens; a malformed one is refused before it reaches the database."""

    def authenticate_credentials(self, key):
        if not re.fullmatch(r"[0-9a-fA-F]{1,64}", key):
            raise AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)
