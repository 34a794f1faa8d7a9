"""Health data from the patient's phone (issue 14): readings the phone collected (steps, heart
rate, blood pressure, weight, glucose), stored as patient-reported observations. They live in
their own table, apart from what clinicians enter (the chart) and from lab results, so no page,
API answer or FHIR resource can mistake one for the other; every row says where it came from
(`source`, the device) and who sent it.

The patient decides per type what the app may sync (ReadingPermission, off until turned on).
The database keeps the rules that matter: one reading per patient, type, source and time (a
retried upload cannot double it), the diastolic value exactly on blood pressure, a positive
value. Ranges and units are checked by the service (apps/records/services/readings.py)."""
import dataclasses
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.records.models.labs import _plain


class ReadingKind(models.TextChoices):
    STEPS = "steps", "Steps"
    HEART_RATE = "heart_rate", "Heart rate"
    BLOOD_PRESSURE = "blood_pressure", "Blood pressure"
    WEIGHT = "weight", "Weight"
    GLUCOSE = "glucose", "Blood glucose"


@dataclasses.dataclass(frozen=True)
class Kind:
    """One type of reading: its stored unit, the units accepted (factor to the stored one), the
    plausible range in the stored unit, and how FHIR codes it (LOINC, category)."""

    unit: str
    units: dict
    low: Decimal
    high: Decimal
    loinc: str
    display: str
    category: str
    whole: bool = False
    diastolic: tuple = None  # (low, high) for blood pressure


KINDS = {
    ReadingKind.STEPS: Kind("steps", {"steps": 1, "count": 1, "{steps}": 1}, Decimal(0), Decimal(100000),
                            "55423-8", "Number of steps", "activity", whole=True),
    ReadingKind.HEART_RATE: Kind("/min", {"/min": 1, "bpm": 1, "beats/min": 1}, Decimal(20), Decimal(250),
                                 "8867-4", "Heart rate", "vital-signs", whole=True),
    ReadingKind.BLOOD_PRESSURE: Kind("mm[Hg]", {"mm[Hg]": 1, "mmHg": 1}, Decimal(50), Decimal(260),
                                     "85354-9", "Blood pressure panel", "vital-signs", whole=True,
                                     diastolic=(Decimal(30), Decimal(160))),
    ReadingKind.WEIGHT: Kind("kg", {"kg": 1, "lb": Decimal("0.45359237"), "lbs": Decimal("0.45359237")},
                             Decimal(1), Decimal(400), "29463-7", "Body weight", "vital-signs"),
    ReadingKind.GLUCOSE: Kind("mg/dL", {"mg/dL": 1, "mmol/L": Decimal("18.0182")}, Decimal(10), Decimal(800),
                              "41653-7", "Glucose [Mass/volume] in Capillary blood by Glucometer", "vital-signs"),
}
SYSTOLIC_LOINC, DIASTOLIC_LOINC = "8480-6", "8462-4"  # blood pressure components


class PatientReading(models.Model):
    """One patient-reported reading, in its type's stored unit (services convert lb to kg and
    mmol/L to mg/dL). Blood pressure keeps systolic in `value` and diastolic in `diastolic`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="readings")
    kind = models.CharField(max_length=16, choices=ReadingKind.choices)
    value = models.DecimalField(max_digits=9, decimal_places=2)
    diastolic = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=16)
    measured_at = models.DateTimeField()
    # The device or app that measured it ("Apple Watch", "Omron BP7000").
    source = models.CharField(max_length=100)
    # Always patient-reported: the flag is stored so exports and FHIR say so without inference.
    patient_reported = models.BooleanField(default=True, editable=False)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-measured_at", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "kind", "source", "measured_at"],
                                    name="records_reading_once_per_source_time"),
            models.CheckConstraint(
                condition=(Q(kind="blood_pressure") & Q(diastolic__isnull=False))
                | (~Q(kind="blood_pressure") & Q(diastolic__isnull=True)),
                name="records_reading_diastolic_only_on_bp"),
            models.CheckConstraint(condition=Q(value__gte=0), name="records_reading_value_not_negative"),
            models.CheckConstraint(condition=Q(patient_reported=True), name="records_reading_patient_reported"),
        ]
        indexes = [models.Index(fields=["patient", "kind", "-measured_at"], name="records_reading_trend_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.display_value} {self.unit}"

    @property
    def display_value(self):
        value = _plain(self.value)
        return f"{value}/{_plain(self.diastolic)}" if self.diastolic is not None else value


class ReadingPermission(models.Model):
    """Whether the patient lets the app sync readings of one type. No row: not allowed."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="reading_permissions")
    kind = models.CharField(max_length=16, choices=ReadingKind.choices)
    allowed = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["patient", "kind"], name="records_reading_permission_once")]

    def __str__(self):
        return f"{self.kind}: {'on' if self.allowed else 'off'}"
