from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header

from apps.accounts.selectors import api_key_authenticate
from apps.audit.context import set_actor_api_key

KEYWORD = "Api-Key"


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`. request.user and request.auth are both the ApiKey."""

    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1")
        if not header.startswith(KEYWORD + " "):
            return None
        raw = header[len(KEYWORD) + 1 :].strip()
        key = api_key_authenticate(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        set_actor_api_key(key)
        return (key, key)

    def authenticate_header(self, request):
        return KEYWORD


class MFASessionAuthentication(SessionAuthentication):
    """Session users; staff count as signed in only once their second factor is verified."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        if user.is_clinic_staff and not request._request.user.is_verified():
            return None
        return result
