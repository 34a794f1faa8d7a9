"""Recordings of video visits.

A recording exists only when the patient holds a valid RECORDING consent and the visit's
provider starts it (apps/telehealth/services/recordings.py). With the built-in provider the
provider's browser records (MediaRecorder) and uploads the file to the private storage when the
call ends; with Twilio, its recording rules record the room and the recordings stay at Twilio
(grouped by the room's sid). Every recording carries the moment it must be gone
(delete_after, TELEHEALTH_RECORDING_RETENTION_DAYS after it started): the retention job deletes
it through the provider interface and moves it to DELETED, audited."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.storage import PrivateFiles
from apps.core.transitions import TransitionEvent
from apps.telehealth.models.sessions import TelehealthSession, VideoProvider

recording_storage = PrivateFiles("telehealth-recordings")


class Recording(models.Model):
    class Status(models.TextChoices):
        RECORDING = "RECORDING", "Recording"
        AVAILABLE = "AVAILABLE", "Available"
        DELETED = "DELETED", "Deleted"

    S = Status
    TRANSITIONS = {S.RECORDING: {S.AVAILABLE, S.DELETED}, S.AVAILABLE: {S.DELETED}}
    EVENT_MODEL = "telehealth.RecordingEvent"
    KEPT_STATUSES = [S.RECORDING, S.AVAILABLE]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(TelehealthSession, on_delete=models.PROTECT, related_name="recordings")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    video_provider = models.CharField(max_length=10, choices=VideoProvider.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECORDING)
    # Twilio: the room's sid, which groups its track recordings (deleted by the retention job).
    vendor_sid = models.CharField(max_length=64, blank=True)
    # The built-in provider: the file the provider's browser uploaded (private storage, no URL).
    file = models.FileField(storage=recording_storage, max_length=200, blank=True, editable=False)
    content_type = models.CharField(max_length=60, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    consent_id = models.UUIDField(help_text="The RECORDING consent verified when the recording started.")
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    stored_at = models.DateTimeField(null=True, blank=True)
    delete_after = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        permissions = [("view_recording_media", "Can play or download a video visit's recording")]
        constraints = [
            models.UniqueConstraint(fields=["session"], condition=Q(status="RECORDING"),
                                    name="telehealth_one_running_recording_per_session"),
            models.CheckConstraint(condition=Q(delete_after__gt=models.F("started_at")),
                                   name="telehealth_recording_delete_after_start"),
        ]
        indexes = [models.Index(fields=["status", "delete_after"], name="telehealth_recording_due_idx")]

    def __str__(self):
        return f"Recording {self.id} ({self.status})"


class RecordingEvent(TransitionEvent):
    SUBJECT_FIELD = "recording"

    id = models.BigAutoField(primary_key=True)
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass
