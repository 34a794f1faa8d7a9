"""Lab results: entered by staff or received through the API, ENTERED until staff release them
(then RELEASED, and the patient is told). The patient sees RELEASED rows only: the access rule
(apps/records/rules.py) filters on status, so no page, API answer or FHIR read of a patient can
reach an unreleased result."""
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.transitions import TransitionEvent
from apps.records.codes import validate_loinc


class LabResult(models.Model):
    class Status(models.TextChoices):
        ENTERED = "ENTERED", "Waiting for release"
        RELEASED = "RELEASED", "Released"

    class Flag(models.TextChoices):
        # HL7 v2 table 0078 / FHIR ObservationInterpretation codes.
        NORMAL = "N", "Normal"
        LOW = "L", "Low"
        HIGH = "H", "High"
        CRITICAL_LOW = "LL", "Critically low"
        CRITICAL_HIGH = "HH", "Critically high"
        ABNORMAL = "A", "Abnormal"

    TRANSITIONS = {Status.ENTERED: {Status.RELEASED}}
    EVENT_MODEL = "records.LabResultEvent"
    ABNORMAL_FLAGS = [Flag.LOW, Flag.HIGH, Flag.CRITICAL_LOW, Flag.CRITICAL_HIGH, Flag.ABNORMAL]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="lab_results")
    visit = models.ForeignKey("scheduling.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="lab_results")
    ordering_provider = models.ForeignKey("scheduling.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="lab_results")
    test_name = models.CharField(max_length=200)
    loinc_code = models.CharField("LOINC code", max_length=10, validators=[validate_loinc])
    # As reported ("5.4", "Positive"); value_numeric holds the number when there is one, for
    # flags and trends.
    value = models.CharField(max_length=100)
    value_numeric = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=40, blank=True)
    reference_low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    reference_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # A range that is not two numbers ("Negative", "<200").
    reference_text = models.CharField(max_length=100, blank=True)
    abnormal_flag = models.CharField(max_length=2, choices=Flag.choices, default=Flag.NORMAL)
    collected_at = models.DateTimeField()
    resulted_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ENTERED)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The API key's name when a lab interface sent it.
    source = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-collected_at", "test_name"]
        permissions = [("release_labresult", "Can release lab results to the patient")]
        constraints = [
            models.CheckConstraint(condition=Q(resulted_at__gte=models.F("collected_at")),
                                   name="records_lab_resulted_after_collected"),
            models.CheckConstraint(
                condition=Q(reference_low__isnull=True) | Q(reference_high__isnull=True)
                | Q(reference_high__gte=models.F("reference_low")),
                name="records_lab_range_ordered",
            ),
            models.CheckConstraint(condition=Q(status="ENTERED") | Q(released_at__isnull=False),
                                   name="records_lab_released_has_time"),
        ]
        indexes = [
            models.Index(fields=["patient", "status", "-collected_at"], name="records_lab_patient_idx"),
            models.Index(fields=["patient", "loinc_code", "collected_at"], name="records_lab_trend_idx"),
            models.Index(fields=["status", "created_at"], name="records_lab_to_release_idx"),
        ]

    def __str__(self):
        return f"{self.test_name} {self.value} {self.unit}".strip()

    @property
    def is_abnormal(self):
        return self.abnormal_flag in self.ABNORMAL_FLAGS

    @property
    def reference_range(self):
        """The range as a person reads it: "70-99", "<= 200", ">= 40", or the text."""
        low, high = self.reference_low, self.reference_high
        if low is not None and high is not None:
            return f"{_plain(low)}–{_plain(high)}"
        if high is not None:
            return f"up to {_plain(high)}"
        if low is not None:
            return f"at least {_plain(low)}"
        return self.reference_text


def _plain(number):
    """4.5000 -> "4.5", 100.0000 -> "100"."""
    text = format(Decimal(number).normalize(), "f")
    return text


class LabResultEvent(TransitionEvent):
    SUBJECT_FIELD = "result"
    result = models.ForeignKey(LabResult, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass
