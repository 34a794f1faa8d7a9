import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app notification for one user. Later, the messaging outbox delivers the same event
    by SMS and email; this row is what the bell and /ws/notifications/ show."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64, help_text="Stable code, e.g. offer_made.")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True, help_text="A path inside the clinic, never with PHI in it.")
    data = models.JSONField(default=dict, blank=True)
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox_idx")]

    def __str__(self):
        return f"{self.kind} for {self.recipient_id}"

    def as_event(self):
        return {
            "id": str(self.id),
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "link": self.link,
            "urgent": self.urgent,
            "created_at": self.created_at.isoformat(),
            "read": self.read_at is not None,
        }


# --- Delivery: the outbox ----------------------------------------------------------------
# Every outgoing SMS, email and (outbox-delivered) in-app message is an OutboundMessage row,
# written in the transaction of the event that causes it. Workers only deliver rows; the
# claim/attempt protocol that keeps a row from being sent twice is described in
# apps/messaging/delivery.py.


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"
    IN_APP = "in_app", "In-app"
    # To a phone app, one row per (notification, device): `to` holds the device id
    # (apps/messaging/push/).
    PUSH = "push", "Push"


class OutboundMessageQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=OutboundMessage.Status.PENDING, next_attempt_at__lte=now)


class OutboundMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    # Allowed moves, enforced by core.transitions for every status change (claims and batch
    # moves through transition_rows, apps/messaging/delivery.py and outbox.py):
    #   PENDING -> SENDING    claimed by a worker
    #   PENDING -> CANCELLED  the event was called off (visit cancelled or moved)
    #   PENDING -> SENT       a reaped row whose earlier send did reach the provider
    #   SENDING -> SENT / FAILED        the attempt's outcome (FAILED: permanent, or out of attempts)
    #   SENDING -> PENDING    retry after a transient failure, a reaped or given-back claim
    #   SENDING -> CANCELLED  suppressed at send time (STOP, preferences, visit no longer planned)
    #   SENT -> FAILED        the carrier reported failed/undelivered before any "delivered"
    #                         (a delivered SMS stays SENT: see delivery_status_record)
    TRANSITIONS = {
        Status.PENDING: {Status.SENDING, Status.CANCELLED, Status.SENT},
        Status.SENDING: {Status.SENT, Status.PENDING, Status.FAILED, Status.CANCELLED},
        Status.SENT: {Status.FAILED},
        Status.FAILED: set(),
        Status.CANCELLED: set(),
    }
    # No event rows: each row's DeliveryAttempts (and DeliveryStatusEvents) are its record, and
    # outbox rows are no patient record to audit.
    AUDIT_TRANSITIONS = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="outbound_messages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="outbound_messages")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    to = models.CharField(max_length=254, blank=True, help_text="E.164 phone or email address; empty for in-app.")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    link = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=64, help_text="Event kind, e.g. visit_reminder.")
    language = models.CharField(max_length=8, default="en")
    dedupe_key = models.CharField(max_length=255, unique=True, help_text="The same event for the same recipient and channel is queued once.")
    urgent = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(help_text="Not before this time (quiet hours already applied).")
    next_attempt_at = models.DateTimeField(help_text="When a worker may claim it next (due_at, then backoff).")
    attempts = models.PositiveIntegerField(default=0)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The worker process holding the claim (its heartbeat row, apps/core/tasks.py); "" when the
    # claimer keeps no heartbeat. A claim whose process stopped beating is taken back in
    # seconds; any other waits out MESSAGING_SENDING_TIMEOUT_SECONDS (apps/messaging/delivery.py).
    claimed_by = models.CharField(max_length=64, blank=True, default="", editable=False)
    provider_message_id = models.CharField(max_length=64, blank=True, db_index=True)
    provider_status = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it became FAILED or CANCELLED.")

    objects = OutboundMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbound_due_idx"),
            models.Index(fields=["status", "claimed_at"], name="outbound_claimed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "sending", "sent", "failed", "cancelled"]),
                name="outbound_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(channel="in_app", user__isnull=False) | (~models.Q(channel="in_app") & ~models.Q(to="")),
                name="outbound_has_address",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sending") | models.Q(claim_token__isnull=False),
                name="outbound_sending_is_claimed",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.channel} ({self.status})"

    @property
    def masked_to(self):
        """The address with most of it hidden, for staff lists."""
        if not self.to:
            return ""
        if "@" in self.to:
            name, _, domain = self.to.partition("@")
            return f"{name[:1]}***@{domain}"
        return f"***{self.to[-4:]}"


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"  # written before the provider call
        SUCCESS = "success", "Accepted by the provider"
        TRANSIENT = "transient", "Transient failure (retried)"
        PERMANENT = "permanent", "Permanent failure"
        UNKNOWN = "unknown", "Unknown: the worker was lost mid-send"
        NOT_SENT = "not_sent", "Checked afterwards: never reached the provider"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(OutboundMessage, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveIntegerField()
    claim_token = models.UUIDField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.IN_FLIGHT)
    provider_message_id = models.CharField(max_length=64, blank=True, db_index=True)
    provider_status = models.CharField(max_length=32, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["message", "number"]
        constraints = [models.UniqueConstraint(fields=["message", "number"], name="delivery_attempt_number_unique")]

    def __str__(self):
        return f"attempt {self.number} of {self.message_id}: {self.outcome}"


class DeliveryStatusEvent(models.Model):
    """One provider status callback (Twilio MessageStatus), kept once per (sid, status): a
    replayed callback finds its row and changes nothing."""

    message_sid = models.CharField(max_length=64)
    status = models.CharField(max_length=32)
    message = models.ForeignKey(OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="status_events")
    error_code = models.CharField(max_length=32, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at"]
        constraints = [models.UniqueConstraint(fields=["message_sid", "status"], name="status_event_unique")]


class SmsOutboxEntry(models.Model):
    """What the local SMS backend "sent" (no Twilio credentials): staff pages and tests read it."""

    sid = models.CharField(max_length=64, unique=True)
    attempt_id = models.UUIDField(null=True, blank=True, db_index=True)
    message_id = models.UUIDField(null=True, blank=True, db_index=True)
    to = models.CharField(max_length=32)
    from_number = models.CharField(max_length=32, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "SMS outbox entries"

    def __str__(self):
        return f"{self.sid} to ***{self.to[-4:]}"


class SmsOptOut(models.Model):
    """A phone number that texted STOP: no SMS to it until it texts START (the carrier enforces
    the same on Twilio's side; keeping it here avoids sending into a 21610 error)."""

    phone = models.CharField(max_length=32, unique=True)
    opted_out_at = models.DateTimeField(default=timezone.now)
    keyword = models.CharField(max_length=16, blank=True)

    def __str__(self):
        return f"opt-out ***{self.phone[-4:]}"


class InboundSms(models.Model):
    class Status(models.TextChoices):
        PROCESSED = "processed", "Handled automatically"
        NEEDS_STAFF = "needs_staff", "Needs staff"
        UNMATCHED = "unmatched", "No patient with this number"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sid = models.CharField(max_length=64, unique=True, help_text="Twilio MessageSid: a replayed webhook finds this row.")
    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32, blank=True)
    body = models.TextField(blank=True)
    patient = models.ForeignKey("patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="inbound_sms")
    keyword = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=32, blank=True, help_text="What was done: opt_out, opt_in, help, confirm, cancel, thread.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROCESSED, db_index=True)
    reply = models.ForeignKey(OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "inbound SMS"
        verbose_name_plural = "inbound SMS"

    def __str__(self):
        return f"inbound {self.sid} ({self.status})"


class MessageTemplate(models.Model):
    """The words of one event kind in one language, in Django template syntax. Admin-editable.
    Context: clinic_name, clinic_phone, patient_first_name, visit_time, location_name,
    deadline, link, portal_url. Never put diagnoses or visit reasons in SMS or email."""

    kind = models.CharField(max_length=64)
    language = models.CharField(max_length=8, default="en")
    subject = models.CharField(max_length=200, help_text="Email subject and in-app title.")
    sms_body = models.TextField(help_text="Keep under 320 characters.")
    email_body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "language"]
        constraints = [models.UniqueConstraint(fields=["kind", "language"], name="message_template_unique")]

    def __str__(self):
        return f"{self.kind} ({self.language})"


# Secure threads live in their own module; imported here so Django registers them.
from apps.messaging.threads.models import Attachment, Message, ReadReceipt, Thread, ThreadEvent  # noqa: E402,F401
from apps.messaging.push.models import Device, DeviceEvent, PushOutboxEntry, PushPreference  # noqa: E402,F401
