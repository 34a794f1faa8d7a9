"""Staff second factor for WebSocket scopes."""
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device


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
