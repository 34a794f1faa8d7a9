"""Documents in the chart: uploaded by the patient (ID, insurance card...) or by staff (a
referral, an imaging report). Files live in the private storage under "records/" with random
names; the type is decided by the file's first bytes (apps/records/files.py), and the only way
out is the permission-checked, audited download view. A patient sees what they uploaded and
what staff shared with them."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.storage import PrivateFiles

_storage = PrivateFiles("records")


def private_document_storage():
    return _storage


def document_upload_to(instance, filename):
    return f"documents/{instance.patient_id}/{uuid.uuid4().hex}"


class Document(models.Model):
    class Category(models.TextChoices):
        ID = "ID", "Photo ID"
        INSURANCE_CARD = "INSURANCE_CARD", "Insurance card"
        REFERRAL = "REFERRAL", "Referral"
        IMAGING_REPORT = "IMAGING_REPORT", "Imaging report"
        OTHER = "OTHER", "Other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="documents")
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.OTHER)
    title = models.CharField(max_length=200, blank=True)
    file = models.FileField(storage=private_document_storage, upload_to=document_upload_to, max_length=255)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    uploaded_by_patient = models.BooleanField(default=False)
    # Staff documents stay in the chart until someone shares them; the patient's own are theirs.
    shared_with_patient = models.BooleanField(default=False)
    shared_at = models.DateTimeField(null=True, blank=True)
    shared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("share_document", "Can share documents with the patient")]
        constraints = [
            models.CheckConstraint(condition=Q(uploaded_by_patient=False) | Q(shared_with_patient=True),
                                   name="records_patient_upload_is_shared"),
        ]
        indexes = [models.Index(fields=["patient", "-created_at"], name="records_document_patient_idx")]

    def __str__(self):
        return self.title or self.filename
