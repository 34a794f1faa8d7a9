"""The chart staff keep: problems, allergies and medications, with refill requests from the
patient. Every status change goes through core's transition() and leaves an event row."""
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.transitions import TransitionEvent
from apps.records.codes import validate_icd10, validate_rxnorm, validate_snomed


class Problem(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        RESOLVED = "RESOLVED", "Resolved"

    TRANSITIONS = {Status.ACTIVE: {Status.RESOLVED}, Status.RESOLVED: {Status.ACTIVE}}
    EVENT_MODEL = "records.ProblemEvent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="problems")
    code = models.CharField("ICD-10-CM code", max_length=8, validators=[validate_icd10])
    description = models.CharField(max_length=200)
    onset_date = models.DateField(null=True, blank=True)
    resolved_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["status", "-onset_date", "description"]
        indexes = [models.Index(fields=["patient", "status"], name="records_problem_patient_idx")]

    def __str__(self):
        return f"{self.code} {self.description}"


class ProblemEvent(TransitionEvent):
    SUBJECT_FIELD = "problem"
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass


class Allergy(models.Model):
    class Severity(models.TextChoices):
        MILD = "MILD", "Mild"
        MODERATE = "MODERATE", "Moderate"
        SEVERE = "SEVERE", "Severe"

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        INACTIVE = "INACTIVE", "Inactive"
        RESOLVED = "RESOLVED", "Resolved"

    TRANSITIONS = {
        Status.ACTIVE: {Status.INACTIVE, Status.RESOLVED},
        Status.INACTIVE: {Status.ACTIVE, Status.RESOLVED},
        Status.RESOLVED: {Status.ACTIVE},
    }
    EVENT_MODEL = "records.AllergyEvent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="allergies")
    class CodeSystem(models.TextChoices):
        RXNORM = "rxnorm", "RxNorm (a drug)"
        SNOMED = "snomed", "SNOMED CT (a food, a material, something in the air)"

    substance = models.CharField(max_length=200)
    # The substance coded when staff know the code (optional: the name is always kept).
    substance_system = models.CharField(max_length=8, choices=CodeSystem.choices, blank=True)
    substance_code = models.CharField(max_length=18, blank=True)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MODERATE)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["status", "substance"]
        verbose_name_plural = "allergies"
        indexes = [models.Index(fields=["patient", "status"], name="records_allergy_patient_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(substance_code="") | ~Q(substance_system=""),
                                   name="records_allergy_code_has_system"),
        ]

    def __str__(self):
        return self.substance

    def clean(self):
        if self.substance_code and not self.substance_system:
            raise ValidationError({"substance_system": "Say which code system the substance code is from."})
        if self.substance_system == self.CodeSystem.RXNORM:
            try:
                validate_rxnorm(self.substance_code)
            except ValidationError as exc:
                raise ValidationError({"substance_code": exc.messages})
        if self.substance_system == self.CodeSystem.SNOMED:
            try:
                validate_snomed(self.substance_code)
            except ValidationError as exc:
                raise ValidationError({"substance_code": exc.messages})


class AllergyEvent(TransitionEvent):
    SUBJECT_FIELD = "allergy"
    allergy = models.ForeignKey(Allergy, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass


class Medication(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        ON_HOLD = "ON_HOLD", "On hold"
        STOPPED = "STOPPED", "Stopped"
        COMPLETED = "COMPLETED", "Completed"

    TRANSITIONS = {
        Status.ACTIVE: {Status.ON_HOLD, Status.STOPPED, Status.COMPLETED},
        Status.ON_HOLD: {Status.ACTIVE, Status.STOPPED},
    }
    EVENT_MODEL = "records.MedicationEvent"
    CURRENT_STATUSES = [Status.ACTIVE, Status.ON_HOLD]

    class Route(models.TextChoices):
        ORAL = "ORAL", "By mouth"
        TOPICAL = "TOPICAL", "On the skin"
        INHALED = "INHALED", "Inhaled"
        INJECTION = "INJECTION", "Injection"
        NASAL = "NASAL", "In the nose"
        OPHTHALMIC = "OPHTHALMIC", "In the eye"
        OTHER = "OTHER", "Other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="medications")
    name = models.CharField(max_length=200)
    # The drug's RxNorm concept (RxCUI) when staff know it; the name is always kept.
    rxnorm_code = models.CharField("RxNorm code", max_length=8, blank=True, validators=[validate_rxnorm])
    dose = models.CharField(max_length=100)
    route = models.CharField(max_length=12, choices=Route.choices, default=Route.ORAL)
    frequency = models.CharField(max_length=100)
    prescriber = models.ForeignKey("scheduling.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="prescriptions")
    start_date = models.DateField(default=timezone.localdate)
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["status", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                                   name="records_medication_end_after_start"),
        ]
        indexes = [models.Index(fields=["patient", "status"], name="records_med_patient_idx")]

    def __str__(self):
        return f"{self.name} {self.dose}"

    @property
    def is_current(self):
        return self.status in self.CURRENT_STATUSES

    def clean(self):
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "A medication ends on or after the day it starts."})


class MedicationEvent(TransitionEvent):
    SUBJECT_FIELD = "medication"
    medication = models.ForeignKey(Medication, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass


class RefillRequest(models.Model):
    """A patient asks for more of a current medication; the prescriber approves or denies with a
    note; the patient is told. At most one REQUESTED row per medication (partial unique index),
    so two taps or two tabs cannot queue two requests."""

    class Status(models.TextChoices):
        REQUESTED = "REQUESTED", "Waiting for review"
        APPROVED = "APPROVED", "Approved"
        DENIED = "DENIED", "Not approved"
        CANCELLED = "CANCELLED", "Cancelled"

    TRANSITIONS = {Status.REQUESTED: {Status.APPROVED, Status.DENIED, Status.CANCELLED}}
    EVENT_MODEL = "records.RefillEvent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="refill_requests")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="refill_requests")
    # Whose queue it waits in: the medication's prescriber when it was asked.
    prescriber = models.ForeignKey("scheduling.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="refill_requests")
    pharmacy = models.CharField(max_length=200)
    note = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("decide_refillrequest", "Can approve or deny refill requests")]
        constraints = [
            models.UniqueConstraint(fields=["medication"], condition=Q(status="REQUESTED"),
                                    name="records_one_open_refill_per_medication"),
        ]
        indexes = [
            models.Index(fields=["prescriber", "status", "created_at"], name="records_refill_queue_idx"),
            models.Index(fields=["patient", "-created_at"], name="records_refill_patient_idx"),
        ]

    def __str__(self):
        return f"Refill of {self.medication_id} ({self.status})"


class RefillEvent(TransitionEvent):
    SUBJECT_FIELD = "refill"
    refill = models.ForeignKey(RefillRequest, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass
