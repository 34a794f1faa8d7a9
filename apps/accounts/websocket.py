"""Staff second factor for WebSocket scopes."""
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from apps.core import access


def session_has_verified_device(scope, user):
    """django-otp keeps the verified device in the session; the HTTP middleware turns it into
    user.is_verified(), which WebSocket scopes do not get, so check it here the same way.
    Synchronous (database): call through database_sync_to_async from a consumer."""
    session = scope.get("session")
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user.pk and device.confirmed


def socket_actor(scope, user):
    """The socket's user as core's access layer reads a page's request.user: staff carry
    is_verified() from the session's django-otp device (OTPMiddleware gives pages that; a
    WebSocket scope has no such middleware). Synchronous (database): call through
    database_sync_to_async."""
    if user is not None and access.is_staff(user):
        verified = session_has_verified_device(scope, user)
        user.is_verified = lambda: verified
    return user
