"""Phone-app devices and their push notifications.

A Device is one installed app on one phone (a user may have several). Its push token comes
from the platform (APNs on iOS, FCM on Android) and changes now and then; the app sends the
new one (device_update). A device stops receiving push when the user unregisters it, when
the same token is registered again for another user (the phone changed hands), or when the
push service says the token is no longer valid: each is ACTIVE -> RETIRED through core's
transition helper, with a DeviceEvent row saying why.

Push itself is an outbox channel (Channel.PUSH): one OutboundMessage per (notification,
device), addressed to the device id, delivered by the usual claim/attempt protocol
(apps/messaging/delivery.py) through the push providers (apps/messaging/push/providers.py)."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.transitions import TransitionEvent


class Device(models.Model):
    class Platform(models.TextChoices):
        IOS = "ios", "iOS"
        ANDROID = "android", "Android"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    class RetiredReason(models.TextChoices):
        UNREGISTERED = "unregistered", "Unregistered by the user"
        TOKEN_INVALID = "token_invalid", "The push service said the token is invalid"
        REPLACED = "replaced", "The token was registered again by another user"

    TRANSITIONS = {Status.ACTIVE: {Status.RETIRED}, Status.RETIRED: set()}
    EVENT_MODEL = "messaging.DeviceEvent"
    # A phone's push address is no patient record: no audit row per move (the event rows are kept).
    AUDIT_TRANSITIONS = False

    TOKEN_MAX_LENGTH = 512
    APP_VERSION_MAX_LENGTH = 32

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices")
    platform = models.CharField(max_length=8, choices=Platform.choices)
    app_version = models.CharField(max_length=APP_VERSION_MAX_LENGTH, blank=True)
    push_token = models.CharField(max_length=TOKEN_MAX_LENGTH)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    retired_reason = models.CharField(max_length=16, choices=RetiredReason.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "status"], name="device_user_status_idx")]
        constraints = [
            # One active row per token: a token registered again finds its row (or retires the
            # other user's) instead of making the phone buzz twice.
            models.UniqueConstraint(fields=["push_token"], condition=Q(status="active"), name="device_active_token_unique"),
            models.CheckConstraint(condition=Q(status__in=["active", "retired"]), name="device_status_valid"),
            models.CheckConstraint(condition=Q(platform__in=["ios", "android"]), name="device_platform_valid"),
            models.CheckConstraint(condition=~Q(push_token=""), name="device_token_not_empty"),
        ]

    def __str__(self):
        return f"{self.platform} device of {self.user_id} ({self.status})"

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE


class DeviceEvent(TransitionEvent):
    """Registration, token changes and retirement of a device (who, from, to, why)."""

    SUBJECT_FIELD = "device"

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="events")


class PushCategory(models.TextChoices):
    """What a patient may switch push off for; every notification kind falls in one
    (apps/messaging/push/services.py, category_for)."""

    APPOINTMENT_REMINDERS = "appointment_reminders", "Appointment reminders and updates"
    MESSAGES = "messages", "Messages from the care team"
    LAB_RESULTS = "lab_results", "Lab results"
    BILLS = "bills", "Bills"
    OTHER = "other", "Other notices"


class PushPreference(models.Model):
    """A user's push switches per category (no row: everything on). Quiet hours are the
    patient's own (the same as SMS and email)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_preference")
    appointment_reminders = models.BooleanField(default=True)
    messages = models.BooleanField(default=True)
    lab_results = models.BooleanField(default=True)
    bills = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    FIELDS = ["appointment_reminders", "messages", "lab_results", "bills"]

    def __str__(self):
        return f"push preferences of {self.user_id}"

    def allows(self, category):
        return getattr(self, category, True) if category in self.FIELDS else True


class PushOutboxEntry(models.Model):
    """What the local push provider "sent" (no FCM or APNs credentials): the demo, the example
    app client and tests read it. It holds the generic line only, never PHI."""

    provider_id = models.CharField(max_length=64, unique=True)
    attempt_id = models.UUIDField(null=True, blank=True, db_index=True)
    message_id = models.UUIDField(null=True, blank=True, db_index=True)
    device = models.ForeignKey(Device, null=True, on_delete=models.SET_NULL, related_name="+")
    platform = models.CharField(max_length=8)
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=200)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "push outbox entries"

    def __str__(self):
        return f"{self.provider_id} to {self.platform} device {self.device_id}"
