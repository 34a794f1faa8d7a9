"""Visit notes (SOAP, by the visit's provider), their addenda, and the patient-readable visit
summaries released from them.

A note is a DRAFT while the provider writes it and SIGNED once (core's transition()). A signed
note never changes: the service refuses, and the database refuses too (migration 0002: a
trigger on UPDATE of a SIGNED row, PostgreSQL and SQLite), so a raw UPDATE cannot rewrite one.
Corrections are addenda: rows of their own with author and time, never updated either.

The plain-words part (summary_assessment, follow_up, medications_changed) is written by the
provider in the same editor and signed with the note; the VisitSummary released to the portal
copies it when the visit is COMPLETED and the note SIGNED (whichever comes second)."""
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.transitions import TransitionEvent
from apps.records.codes import validate_icd10_list


class VisitNote(models.Model):
    class Status(models.TextChoices):
        DRAFT = "DRAFT", "Draft"
        SIGNED = "SIGNED", "Signed"

    TRANSITIONS = {Status.DRAFT: {Status.SIGNED}}
    EVENT_MODEL = "records.VisitNoteEvent"
    EDITABLE_FIELDS = ("subjective", "objective", "assessment", "plan", "diagnosis_codes",
                       "summary_assessment", "follow_up", "medications_changed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    visit = models.OneToOneField("scheduling.Visit", on_delete=models.PROTECT, related_name="note")
    # The visit's patient and provider, kept here so access rules and queues are one indexed filter.
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="visit_notes")
    provider = models.ForeignKey("scheduling.Provider", on_delete=models.PROTECT, related_name="visit_notes")
    subjective = models.TextField(blank=True)
    objective = models.TextField(blank=True)
    assessment = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    # ICD-10-CM codes, upper case, in the provider's order: ["J06.9", "R50.9"].
    diagnosis_codes = models.JSONField(default=list, blank=True, validators=[validate_icd10_list])
    # For the patient, in plain words (copied into the visit summary).
    summary_assessment = models.TextField("assessment in plain words", blank=True)
    follow_up = models.TextField(blank=True)
    medications_changed = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("sign_visitnote", "Can sign visit notes")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="DRAFT") | models.Q(signed_at__isnull=False, signed_by__isnull=False),
                name="records_note_signed_has_signer",
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "status"], name="records_note_provider_status"),
            models.Index(fields=["patient", "-created_at"], name="records_note_patient_idx"),
        ]

    def __str__(self):
        return f"Note for visit {self.visit_id} ({self.status})"

    @property
    def is_signed(self):
        return self.status == self.Status.SIGNED


class VisitNoteEvent(TransitionEvent):
    SUBJECT_FIELD = "note"
    note = models.ForeignKey(VisitNote, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass


class NoteAddendum(models.Model):
    """A correction or addition to a signed note: append-only (the database refuses UPDATE)."""

    id = models.BigAutoField(primary_key=True)
    note = models.ForeignKey(VisitNote, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Addendum {self.pk} to {self.note_id}"


class VisitSummary(models.Model):
    """What the patient reads about a visit, released once (never edited: a later addendum
    stays in the chart). Exists only for a COMPLETED visit with a SIGNED note."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    visit = models.OneToOneField("scheduling.Visit", on_delete=models.PROTECT, related_name="summary")
    note = models.OneToOneField(VisitNote, on_delete=models.PROTECT, related_name="summary")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="visit_summaries")
    reason = models.TextField(blank=True)
    assessment = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    follow_up = models.TextField(blank=True)
    medications_changed = models.TextField(blank=True)
    released_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-released_at"]
        indexes = [models.Index(fields=["patient", "-released_at"], name="records_summary_patient_idx")]
        verbose_name_plural = "visit summaries"

    def __str__(self):
        return f"Summary of visit {self.visit_id}"
