"""Writes for users, staff roles, MFA devices and API keys."""
import secrets

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import ApiKey, User, _hash_key
from apps.accounts.roles import STAFF_ROLES
from apps.accounts.scopes import SCOPES
from apps.core.consumers import CLOSE_UNAUTHENTICATED, revoke_sockets
from apps.core.exceptions import ValidationFailed

BACKUP_CODE_COUNT = 10


@transaction.atomic
def staff_user_create(*, email, password, full_name="", role):
    """Create an active staff user in one staff role. Requires a role from STAFF_ROLES. The
    user must still enrol a TOTP device before reaching any staff page."""
    if role not in STAFF_ROLES:
        raise ValidationFailed({"role": [f"Unknown staff role '{role}'."]})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationFailed({"email": ["A user with this email already exists."]})
    user = User.objects.create_user(email=email, password=password, full_name=full_name, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    _mark_email_verified(user)
    return user


def _mark_email_verified(user):
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


def totp_device_for_enrolment(*, user):
    """The user's unconfirmed TOTP device, created on first call (one per user)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, device, token):
    """Confirm an enrolment when the token is right. Returns the new backup codes (shown once)
    or None when the token is wrong."""
    if not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return backup_codes_regenerate(user=device.user)


@transaction.atomic
def backup_codes_regenerate(*, user):
    """Replace the user's backup codes with BACKUP_CODE_COUNT new single-use codes."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Backup codes", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def api_key_create(*, name, scopes, created_by=None):
    """Create an API key. Returns (api_key, raw_key); the raw key is never stored or shown
    again."""
    name = (name or "").strip()
    unknown = sorted(set(scopes) - set(SCOPES))
    errors = {}
    if not name:
        errors["name"] = ["A name is required."]
    elif ApiKey.objects.filter(name=name).exists():
        errors["name"] = ["An API key with this name already exists."]
    if unknown:
        errors["scopes"] = [f"Unknown scope(s): {', '.join(unknown)}."]
    if not scopes:
        errors.setdefault("scopes", ["At least one scope is required."])
    if errors:
        raise ValidationFailed(errors)
    prefix = secrets.token_hex(6)
    raw = f"ck_{prefix}.{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        name=name, prefix=prefix, key_hash=_hash_key(raw), scopes=sorted(set(scopes)), created_by=created_by
    )
    return key, raw


def api_key_revoke(*, api_key):
    """Revoke a key (idempotent). A revoked key authenticates nothing from then on."""
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


# --- sessions (browsers and phone apps) -------------------------------------------------------

def signed_in_sessions(user):
    """How many live sessions the account has (allauth.usersessions keeps one row per sign-in;
    ended and expired ones are purged as they are read)."""
    from allauth.usersessions.models import UserSession

    return len(UserSession.objects.purge_and_list(user))


@transaction.atomic
def sign_out_everywhere(*, user):
    """End every session of `user`: each app token and browser session stops working at once,
    and the user's open sockets are closed (revoke_sockets). Returns how many were ended."""
    from allauth.usersessions.models import UserSession

    sessions = list(UserSession.objects.filter(user=user))
    for session in sessions:
        session.end()
    transaction.on_commit(lambda: revoke_sockets(user.pk, code=CLOSE_UNAUTHENTICATED))
    return len(sessions)
