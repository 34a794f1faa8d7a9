from django.conf import settings
from django.utils import timezone

from apps.accounts.models import ApiKey


def api_key_authenticate(raw):
    """The active key matching `raw`, or None. Records last use at most once a minute so a busy
    integrator does not cost a write per request."""
    if not raw.startswith("ck_") or "." not in raw:
        return None
    prefix = raw[3:].split(".", 1)[0]
    key = ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if key is None or not key.matches(raw):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > settings.API_KEY_LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def user_has_confirmed_totp(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()
