"""Devices and push: registering a phone, its token's changes, retiring it, the push
preferences, and queueing one push per notification per device as outbox rows.

Push rows go through the outbox like SMS and email (rows first, claimed, retried, exactly once
with the local provider; see apps/messaging/delivery.py): the body is a generic line for the
notification's category, never its title or body, and the app fetches the detail over the
API (/api/v1/portal/notifications/)."""
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.exceptions import ValidationFailed
from apps.core.transitions import record_event, transition
from apps.core.validation import check_text
from apps.messaging.models import Channel, OutboundMessage
from apps.messaging.outbox import apply_quiet_hours, kick_many_after_commit, outbox_rows_insert
from apps.messaging.push.models import Device, PushCategory, PushPreference
from apps.patients.models import Patient

Retired = Device.RetiredReason

# Notification kinds by prefix, longest first wins; anything else is OTHER (always sent).
CATEGORY_PREFIXES = [
    ("secure_message", PushCategory.MESSAGES),
    ("lab_result", PushCategory.LAB_RESULTS),
    ("billing_", PushCategory.BILLS),
    ("payment_", PushCategory.BILLS),
    ("visit_", PushCategory.APPOINTMENT_REMINDERS),
    ("offer_", PushCategory.APPOINTMENT_REMINDERS),
    ("request_", PushCategory.APPOINTMENT_REMINDERS),
    ("case_", PushCategory.APPOINTMENT_REMINDERS),
    ("telehealth_", PushCategory.APPOINTMENT_REMINDERS),
]

# The only words a push carries: lock screens are seen by others, and the payload passes
# through Google or Apple. No names, times, places, results or amounts.
GENERIC_LINES = {
    PushCategory.MESSAGES: "You have a new message",
    PushCategory.APPOINTMENT_REMINDERS: "You have an appointment update",
    PushCategory.LAB_RESULTS: "You have a new update in your records",
    PushCategory.BILLS: "You have a new billing update",
    PushCategory.OTHER: "You have a new notification",
}


def category_for(kind):
    for prefix, category in CATEGORY_PREFIXES:
        if kind.startswith(prefix):
            return category
    return PushCategory.OTHER


def _clean_text(value, *, field, max_length, required=False):
    """A device's short text field through core's shared text rule (no NUL, within its
    column), as a field error naming `field`. None: not given (refused when `required`);
    `required` text must not be blank either."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValidationFailed({field: ["This field is required." if value is None else "Give text."]})
    try:
        check_text(value, max_length=max_length)
    except DjangoValidationError as exc:
        raise ValidationFailed({field: exc.messages})
    if required and not value.strip():
        raise ValidationFailed({field: ["This field is required."]})
    return value.strip()


def _retire(device, *, reason, actor=None, actor_label=""):
    """ACTIVE -> RETIRED through core's transition helper (locks the row, writes the event)."""
    return transition(device, Device.Status.RETIRED, actor=actor, actor_label=actor_label, reason=reason,
                      fields={"retired_reason": reason, "retired_at": timezone.now()})


def _retire_token_holders(token, *, keep=None, actor=None):
    """Retire the active rows holding `token` except `keep` (REPLACED): a token belongs to one
    installed app at a time."""
    for other in Device.objects.select_for_update().filter(push_token=token, status=Device.Status.ACTIVE).exclude(pk=getattr(keep, "pk", None)):
        _retire(other, reason=Retired.REPLACED, actor=actor)


@transaction.atomic
def device_register(*, user, platform, push_token, app_version=""):
    """Register the app on a phone for `user`. Requires a platform (ios, android) and the
    platform's push token. The same token registered again by the same user finds its row
    (app version refreshed); registered by another user, the other's row is RETIRED
    (REPLACED) first. Returns (device, created). Writes a DeviceEvent."""
    if platform not in Device.Platform.values:
        raise ValidationFailed({"platform": ["Choose ios or android."]})
    push_token = _clean_text(push_token, field="push_token", max_length=Device.TOKEN_MAX_LENGTH, required=True)
    app_version = _clean_text(app_version or "", field="app_version", max_length=Device.APP_VERSION_MAX_LENGTH)
    existing = Device.objects.select_for_update().filter(push_token=push_token, status=Device.Status.ACTIVE, user=user).first()
    if existing is not None:
        return device_update(device=existing, actor=user, app_version=app_version, platform=platform), False
    _retire_token_holders(push_token, actor=user)
    try:
        with transaction.atomic():
            device = Device.objects.create(user=user, platform=platform, push_token=push_token, app_version=app_version)
    except IntegrityError:
        # The same phone registering twice at once: the other request's row is this device.
        device = Device.objects.filter(push_token=push_token, status=Device.Status.ACTIVE, user=user).first()
        if device is None:
            raise
        return device, False
    record_event(device, actor=user, reason="registered", data={"platform": platform, "app_version": app_version}, audit=False)
    return device, True


@transaction.atomic
def device_update(*, device, actor, push_token=None, app_version=None, platform=None):
    """Change an active device's push token (the platform issued a new one) and/or app
    version. Another active row holding the new token is RETIRED (REPLACED). Writes a
    DeviceEvent when something changed (never the token itself: it is a credential)."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    if not device.is_active:
        raise ValidationFailed({"device": ["This device was unregistered: register it again."]})
    if push_token is not None:
        push_token = _clean_text(push_token, field="push_token", max_length=Device.TOKEN_MAX_LENGTH, required=True)
    app_version = _clean_text(app_version, field="app_version", max_length=Device.APP_VERSION_MAX_LENGTH)
    changed = []
    if push_token is not None and push_token != device.push_token:
        _retire_token_holders(push_token, keep=device, actor=actor)
        device.push_token = push_token
        changed.append("push_token")
    if app_version is not None and app_version != device.app_version:
        device.app_version = app_version
        changed.append("app_version")
    if platform is not None and platform != device.platform:
        device.platform = platform
        changed.append("platform")
    if changed:
        device.save(update_fields=[*changed, "updated_at"])
        record_event(device, actor=actor, reason="updated", data={"changed": changed, "app_version": device.app_version}, audit=False)
    return device


@transaction.atomic
def device_unregister(*, device, actor):
    """The user signs the app out on that phone or removes it: ACTIVE -> RETIRED
    (UNREGISTERED). Its queued pushes are cancelled when they come up (_suppressed)."""
    return _retire(device, reason=Retired.UNREGISTERED, actor=actor)


@transaction.atomic
def device_retire_invalid_token(*, device_id, token):
    """The push service said `token` is dead: the device is RETIRED (TOKEN_INVALID), unless
    its token changed meanwhile (the app sent a new one) or it is retired already."""
    device = Device.objects.select_for_update().filter(pk=device_id, status=Device.Status.ACTIVE, push_token=token).first()
    if device is None:
        return None
    return _retire(device, reason=Retired.TOKEN_INVALID, actor_label="push service", actor=None)


def push_preferences(user):
    """The user's switches per category (a row with every default when none is stored)."""
    return PushPreference.objects.filter(user=user).first() or PushPreference(user=user)


@transaction.atomic
def push_preferences_update(*, user, data):
    """Turn push on or off per category (keys of PushPreference.FIELDS, booleans)."""
    unknown = set(data) - set(PushPreference.FIELDS)
    bad = {name: ["Give true or false."] for name, value in data.items() if name in PushPreference.FIELDS and not isinstance(value, bool)}
    if unknown or bad:
        raise ValidationFailed({**{name: ["Unknown preference."] for name in unknown}, **bad})
    preference, _ = PushPreference.objects.select_for_update().get_or_create(user=user)
    for name, value in data.items():
        setattr(preference, name, value)
    preference.save()
    return preference


def push_enqueue(*, notification):
    """Queue the push of one in-app notification: one outbox row per active device of its
    recipient (dedupe key "push:<notification>:<device>", so it is queued once), unless the
    recipient is staff (no app tokens) or switched this category off. Non-urgent pushes wait
    out the patient's quiet hours. One query when the user has no device.
    Requires: the notification's transaction. Triggers: delivery after commit."""
    user = notification.recipient
    if user.is_staff:
        return []
    devices = list(Device.objects.filter(user=user, status=Device.Status.ACTIVE).values_list("pk", flat=True))
    if not devices:
        return []
    category = category_for(notification.kind)
    if not push_preferences(user).allows(category):
        return []
    now = timezone.now()
    due = now if notification.urgent else apply_quiet_hours(Patient.objects.filter(user=user).first(), now)
    rows = [OutboundMessage(
        id=uuid.uuid4(), dedupe_key=f"push:{notification.pk}:{device_id}", user=user, channel=Channel.PUSH, to=str(device_id),
        subject=settings.CLINIC_NAME, body=GENERIC_LINES[category], link=notification.link, kind=notification.kind,
        urgent=notification.urgent, due_at=due, next_attempt_at=due,
    ) for device_id in devices]
    stored, created = outbox_rows_insert(rows)
    kick_many_after_commit(created)
    return stored


def push_suppressed_reason(message):
    """Why a queued push must not go out any more: its device was retired, or its user turned
    the category off since it was queued. None: send it."""
    if not Device.objects.filter(pk=message.to, status=Device.Status.ACTIVE).exists():
        return "device unregistered"
    if message.user_id and not push_preferences(message.user).allows(category_for(message.kind)):
        return "push turned off for this kind"
    return None
