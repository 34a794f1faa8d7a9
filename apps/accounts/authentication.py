from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header

from apps.accounts.selectors import api_key_authenticate
from apps.audit.context import set_actor_api_key, set_actor_user

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


class AppTokenAuthentication(XSessionTokenAuthentication):
    """`X-Session-Token: <token>` from the phone app's sign-in (django-allauth headless,
    /_allauth/app/v1/). The token is a server-side session: signing out, "sign out everywhere"
    and deactivation end it at once (a deactivated user's session no longer resolves).

    A token that resolves to nobody answers 401 (not anonymous), so an app learns at once that
    it must sign in again. Staff cannot use app tokens: their second factor is verified only in
    the browser (django-otp), so a staff token is refused like an invalid one."""

    def authenticate(self, request):
        token = self.get_session_token(request)
        if not token:
            return None
        result = super().authenticate(request)
        if result is None:
            raise exceptions.AuthenticationFailed("Invalid or expired session token: sign in again.")
        user, session = result
        if user.is_staff:
            raise exceptions.AuthenticationFailed("Staff sign in through the browser with their second factor.")
        set_actor_user(user)
        return user, session

    def authenticate_header(self, request):
        return "X-Session-Token"
