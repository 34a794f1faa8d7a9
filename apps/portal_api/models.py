"""What offline sync keeps (README "Patient app API", "Offline sync").

SyncChange: the patient's change log, the feed GET /api/v1/portal/sync/ pages through. One row
per change of an object the patient may see (a visit, a thread or message, a notification, a
bill, a record entry, a reading from the phone); its `id` is the change's place in the log, and the (patient, id) index
makes a cursor one index range scan. Rows hold ids only (no PHI): the feed reads the objects
themselves through the access layer when it answers, so an object the patient can no longer
see (or one deleted) answers as a tombstone.

SyncAction: an action the app queued offline (POST /api/v1/portal/sync/), saved under the
app's client id with its answer, so a retry replays the answer and never runs it twice."""
from django.conf import settings
from django.db import models
from django.utils import timezone


class SyncChange(models.Model):
    """Written by apps/portal_api/changes.py in the writing transaction (rows first: a change
    that committed is in the log). Older rows for the same object are deleted as a newer one
    is written, so the log holds about one row per object."""

    class Kind(models.TextChoices):
        APPOINTMENT = "appointment"
        THREAD = "thread"
        MESSAGE = "message"
        NOTIFICATION = "notification"
        BILL = "bill"
        PROBLEM = "problem"
        ALLERGY = "allergy"
        MEDICATION = "medication"
        REFILL = "refill"
        LAB = "lab"
        VISIT_SUMMARY = "visit_summary"
        DOCUMENT = "document"
        READING = "reading"

    id = models.BigAutoField(primary_key=True)
    # No index of its own: every read goes through (patient, id).
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.UUIDField()
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["patient", "id"], name="portal_sync_patient_seq_idx"),
            models.Index(fields=["kind", "object_id"], name="portal_sync_object_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.object_id} #{self.id}"


class SyncAction(models.Model):
    """The first answer to one queued action (whatever its status), under (user, client_id).
    Inserted in the action's own transaction before it runs: a second request with the same
    client id waits on the unique index (PostgreSQL) until the first commits, then replays
    its answer. `fingerprint` is a hash of the action's type and data: the same client id
    with others is refused (422 client_id_reused)."""

    MAX_CLIENT_ID_LENGTH = 100

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    client_id = models.CharField(max_length=MAX_CLIENT_ID_LENGTH)
    kind = models.CharField(max_length=20)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)
    # The answer's JSON as text: a replay is the same document.
    body = models.TextField(default="{}")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "client_id"], name="portal_sync_action_client_uniq")]

    def __str__(self):
        return f"{self.kind} {self.client_id} -> {self.status_code}"
