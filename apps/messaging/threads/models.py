"""Threads between one patient and the care team.

Read state. Each side has one thread-level "read up to" time:
  - patient_read_at: when the patient last read the thread;
  - staff_read_at: when anyone on the care team last read it.
The staff side is a shared inbox, so a thread is unread for staff while a patient (or SMS)
message is newer than the team's last read, whoever read it: the front desk and nurses work
one queue, and a message one of them has opened is not "new" to the others. Each user's own
reads are still kept (ReadReceipt), for "seen by" and for the audit of who read what.
Unread counts are a comparison of two columns on the thread (last_patient_message_at >
staff_read_at), so inbox pages and badges cost a fixed number of queries.
"""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.core.transitions import TransitionEvent
from apps.messaging.threads.attachments import attachment_upload_to, private_attachment_storage


class Thread(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    TRANSITIONS = {
        Status.OPEN: {Status.CLOSED},
        Status.CLOSED: {Status.OPEN},
    }
    EVENT_MODEL = "messaging.ThreadEvent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="threads")
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_threads"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_message_at = models.DateTimeField(default=timezone.now)
    last_patient_message_at = models.DateTimeField(null=True, blank=True, help_text="Latest message from the patient (portal or SMS).")
    last_staff_message_at = models.DateTimeField(null=True, blank=True, help_text="Latest message from the care team (or the system).")
    patient_read_at = models.DateTimeField(null=True, blank=True)
    staff_read_at = models.DateTimeField(null=True, blank=True, help_text="When anyone on the care team last read it.")
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        permissions = [
            ("reply_thread", "Can reply to patient message threads"),
            ("assign_thread", "Can assign patient message threads"),
        ]
        indexes = [
            models.Index(fields=["patient", "-last_message_at"], name="thread_patient_idx"),
            models.Index(fields=["status", "-last_message_at"], name="thread_status_idx"),
            models.Index(fields=["assigned_to", "status"], name="thread_assignee_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "closed"]), name="thread_status_valid"),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True) | Q(status="closed", closed_at__isnull=False),
                name="thread_closed_at_matches_status",
            ),
        ]

    def __str__(self):
        return f"thread {self.pk} ({self.status})"

    @property
    def unread_for_patient(self):
        return self.last_staff_message_at is not None and (
            self.patient_read_at is None or self.last_staff_message_at > self.patient_read_at
        )

    @property
    def unread_for_staff(self):
        return self.last_patient_message_at is not None and (
            self.staff_read_at is None or self.last_patient_message_at > self.staff_read_at
        )


def unread_for_patient_q():
    return Q(last_staff_message_at__isnull=False) & (Q(patient_read_at__isnull=True) | Q(last_staff_message_at__gt=F("patient_read_at")))


def unread_for_staff_q():
    return Q(last_patient_message_at__isnull=False) & (Q(staff_read_at__isnull=True) | Q(last_patient_message_at__gt=F("staff_read_at")))


class Message(models.Model):
    class AuthorKind(models.TextChoices):
        PATIENT = "patient", "Patient"
        STAFF = "staff", "Care team"
        SMS = "sms", "Text message"
        SYSTEM = "system", "System"

    PATIENT_SIDE = (AuthorKind.PATIENT, AuthorKind.SMS)
    STAFF_SIDE = (AuthorKind.STAFF, AuthorKind.SYSTEM)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    author_kind = models.CharField(max_length=8, choices=AuthorKind.choices)
    author_label = models.CharField(max_length=120, blank=True, help_text="Who, for display: a staff name, an integrator, 'Text message'.")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["thread", "created_at"], name="thread_message_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(author_kind__in=["patient", "staff", "sms", "system"]), name="message_author_kind_valid"
            ),
            # A portal or staff message always has its author; SMS and system messages may not.
            models.CheckConstraint(
                condition=Q(author_kind__in=["sms", "system"]) | Q(author__isnull=False), name="message_author_required"
            ),
        ]

    def __str__(self):
        return f"message {self.pk} ({self.author_kind})"

    @property
    def from_patient_side(self):
        return self.author_kind in self.PATIENT_SIDE


class Attachment(models.Model):
    """A file on a message, kept in private storage (never under MEDIA_URL); downloaded only
    through the permission-checked view. The content type is what the bytes are, not what the
    browser said."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(storage=private_attachment_storage, upload_to=attachment_upload_to, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"attachment {self.pk} ({self.content_type})"

    @property
    def patient_id(self):
        # For the audit log (apps.audit.services reads obj.patient_id).
        return self.message.thread.patient_id


class ReadReceipt(models.Model):
    """When one user last read one thread (the patient, or one staff member)."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="read_receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="thread_read_receipts")
    last_read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="read_receipt_unique")]

    def __str__(self):
        return f"{self.user_id} read {self.thread_id} at {self.last_read_at}"


class ThreadEvent(TransitionEvent):
    """Every status and assignment change of a thread, and its creation (who, from, to, why,
    when: core's TransitionEvent), with the kind of change and, for an assignment, who had it
    before and after. Status changes are written by core.transitions.transition(), the others
    by record_event() (apps/messaging/threads/services.py)."""

    SUBJECT_FIELD = "thread"

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status changed"
        ASSIGNED = "assigned", "Assignment changed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    from_assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(TransitionEvent.Meta):
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.kind} on {self.thread_id}"
