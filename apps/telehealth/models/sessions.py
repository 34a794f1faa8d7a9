"""The video session of a VIRTUAL visit and its waiting room.

A TelehealthSession is created when a VIRTUAL visit is booked (one per visit, database-unique)
and cancelled with it (apps/telehealth/wiring.py reacts to scheduling's visit events). Its room
is created at the provider only when the waiting room opens (a room made days ahead would expire
at Twilio and cost a vendor call inside the booking's transaction). Every move goes through
core's transition() with a SessionEvent / WaitingRoomEvent row."""
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.transitions import TransitionEvent

# CMS place-of-service codes for telehealth claims, and the synchronous-telemedicine modifier.
PLACE_OF_SERVICE_OTHER = "02"  # telehealth provided other than in the patient's home
PLACE_OF_SERVICE_AT_HOME = "10"  # telehealth provided in the patient's home
TELEHEALTH_MODIFIER = "95"


class VideoProvider(models.TextChoices):
    BUILTIN = "BUILTIN", "Built-in WebRTC"
    TWILIO = "TWILIO", "Twilio Video"
    ZOOM = "ZOOM", "Zoom Video SDK"


def new_room_name():
    # 128 bits from the OS's CSPRNG: a room name is never guessable.
    return "th-" + secrets.token_urlsafe(16)


class TelehealthSession(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "SCHEDULED", "Scheduled"
        WAITING = "WAITING", "Patient waiting"
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        COMPLETED = "COMPLETED", "Completed"
        NO_SHOW = "NO_SHOW", "No-show"
        CANCELLED = "CANCELLED", "Cancelled"
        TECHNICAL_ISSUES = "TECHNICAL_ISSUES", "Technical issues"

    S = Status
    TRANSITIONS = {
        S.SCHEDULED: {S.WAITING, S.CANCELLED, S.NO_SHOW},
        # The patient left or timed out before being admitted: back to SCHEDULED until they return.
        S.WAITING: {S.IN_PROGRESS, S.SCHEDULED, S.CANCELLED, S.NO_SHOW, S.TECHNICAL_ISSUES},
        S.IN_PROGRESS: {S.COMPLETED, S.TECHNICAL_ISSUES},
    }
    EVENT_MODEL = "telehealth.SessionEvent"
    OPEN_STATUSES = [S.SCHEDULED, S.WAITING, S.IN_PROGRESS]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    visit = models.OneToOneField("scheduling.Visit", on_delete=models.PROTECT, related_name="telehealth_session")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey("scheduling.Provider", on_delete=models.PROTECT, related_name="telehealth_sessions")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)

    video_provider = models.CharField(max_length=10, choices=VideoProvider.choices, blank=True,
                                      help_text="The provider that served the room (empty until the room exists).")
    # [{"provider": "TWILIO", "error": "..."}]: the providers tried before the one that served, and why they failed.
    provider_fallbacks = models.JSONField(default=list, blank=True)
    room_name = models.CharField(max_length=64, unique=True, default=new_room_name, editable=False)
    room_sid = models.CharField(max_length=64, blank=True, help_text="The vendor's id of the room.")
    room_created_at = models.DateTimeField(null=True, blank=True)
    recording_planned = models.BooleanField(default=False, help_text="The visit will be recorded (RECORDING consent needed).")

    scheduled_start = models.DateTimeField()
    scheduled_end = models.DateTimeField()
    actual_start = models.DateTimeField(null=True, blank=True)
    actual_end = models.DateTimeField(null=True, blank=True)

    # Where each party was when the call started (two-letter US states), for licensure and billing.
    patient_state = models.CharField(max_length=2, blank=True)
    provider_state = models.CharField(max_length=2, blank=True)
    place_of_service = models.CharField(max_length=2, blank=True, help_text="02, or 10 when the patient is at home.")
    modifier = models.CharField(max_length=2, default=TELEHEALTH_MODIFIER)
    # From the browsers' getStats at the end: {"patient": {...}, "provider": {...}}, each with
    # rtt_ms, packet_loss_pct, bitrate_kbps, bytes_received...
    quality = models.JSONField(default=dict, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    # After TECHNICAL_ISSUES: the session of the visit it was rebooked as (services/rebooking.py).
    rebooked_to = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rebooked_from",
                                       editable=False)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scheduled_start"]
        permissions = [("admit_patient", "Can admit a patient from the virtual waiting room")]
        constraints = [
            models.CheckConstraint(condition=Q(scheduled_end__gt=models.F("scheduled_start")),
                                   name="telehealth_session_end_after_start"),
            models.CheckConstraint(condition=Q(place_of_service__in=["", "02", "10"]),
                                   name="telehealth_session_place_of_service"),
        ]
        indexes = [models.Index(fields=["status", "scheduled_start"], name="telehealth_status_start_idx")]

    def __str__(self):
        return f"Telehealth session {self.id} ({self.status})"

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES


class SessionEvent(TransitionEvent):
    SUBJECT_FIELD = "session"

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(TelehealthSession, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass


class WaitingRoomEntry(models.Model):
    """One stay of the patient in the virtual waiting room: WAITING until admitted, or LEFT
    (they closed the page), or TIMED_OUT (the job, after TELEHEALTH_WAITING_TIMEOUT_MINUTES).
    At most one WAITING or ADMITTED entry per session (database-unique)."""

    class Status(models.TextChoices):
        WAITING = "WAITING", "Waiting"
        ADMITTED = "ADMITTED", "Admitted"
        LEFT = "LEFT", "Left"
        TIMED_OUT = "TIMED_OUT", "Timed out"

    S = Status
    TRANSITIONS = {S.WAITING: {S.ADMITTED, S.LEFT, S.TIMED_OUT}}
    EVENT_MODEL = "telehealth.WaitingRoomEvent"
    ACTIVE_STATUSES = [S.WAITING, S.ADMITTED]

    id = models.BigAutoField(primary_key=True)
    session = models.ForeignKey(TelehealthSession, on_delete=models.CASCADE, related_name="entries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    entered_at = models.DateTimeField(default=timezone.now)
    admitted_at = models.DateTimeField(null=True, blank=True)
    admitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    # The browser's device check: {"camera": bool, "microphone": bool, "mic_level": 0..1,
    # "rtt_ms": int, "download_kbps": int}; device_ok is its verdict.
    device_check = models.JSONField(default=dict, blank=True)
    device_ok = models.BooleanField(null=True, blank=True)
    device_checked_at = models.DateTimeField(null=True, blank=True)
    # Pre-visit questions.
    current_state = models.CharField(max_length=2, blank=True)
    at_home = models.BooleanField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    late_message = models.CharField(max_length=300, blank=True)
    late_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["entered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session"], condition=Q(status__in=["WAITING", "ADMITTED"]),
                                    name="telehealth_one_active_entry_per_session"),
        ]
        indexes = [models.Index(fields=["status", "entered_at"], name="telehealth_entry_status_idx")]

    def __str__(self):
        return f"Waiting-room entry {self.id} ({self.status})"


class WaitingRoomEvent(TransitionEvent):
    SUBJECT_FIELD = "entry"

    id = models.BigAutoField(primary_key=True)
    entry = models.ForeignKey(WaitingRoomEntry, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass


class WebhookReceipt(models.Model):
    """A provider callback already handled: the digest of its signature and body. A replay of
    the same callback hits the unique index and is refused."""

    id = models.BigAutoField(primary_key=True)
    provider = models.CharField(max_length=10, choices=VideoProvider.choices)
    digest = models.CharField(max_length=64)
    event = models.CharField(max_length=80, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "digest"], name="telehealth_webhook_once")]

    def __str__(self):
        return f"{self.provider} {self.event} {self.digest[:12]}"
