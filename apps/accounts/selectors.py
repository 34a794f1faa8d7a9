from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import ApiKey, User
from apps.accounts.roles import STAFF_ROLES

# Every API request runs this lookup. Written out, it is the query the ORM would send for
# filter(prefix=..., revoked_at__isnull=True) (prefix is unique: at most one row), without
# compiling a queryset each time: ~0.3 ms of CPU instead of ~0.75 ms (bench/README.md). Not
# cached in the process on purpose: a revoked key must stop working at once, in every worker.
_ACTIVE_KEY_BY_PREFIX = "SELECT * FROM {table} WHERE {prefix} = %s AND {revoked_at} IS NULL".format(
    table=connection.ops.quote_name(ApiKey._meta.db_table),
    prefix=connection.ops.quote_name(ApiKey._meta.get_field("prefix").column),
    revoked_at=connection.ops.quote_name(ApiKey._meta.get_field("revoked_at").column),
)


def api_key_authenticate(raw):
    """The active key matching `raw`, or None. Records last use at most once a minute so a busy
    integrator does not cost a write per request."""
    if not raw.startswith("ck_") or "." not in raw:
        return None
    prefix = raw[3:].split(".", 1)[0]
    key = next(iter(ApiKey.objects.raw(_ACTIVE_KEY_BY_PREFIX, [prefix])), None)
    if key is None or not key.matches(raw):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > settings.API_KEY_LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def user_has_confirmed_totp(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def staff_in_roles(roles):
    """Active staff holding any of `roles` (names from accounts.roles), in id order: whom to
    tell about something a role handles."""
    unknown = set(roles) - set(STAFF_ROLES)
    if unknown:
        raise ValueError(f"Unknown staff role(s): {', '.join(sorted(unknown))}.")
    return User.objects.filter(is_active=True, is_staff=True, groups__name__in=list(roles)).distinct().order_by("pk")
