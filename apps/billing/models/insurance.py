"""Insurance: payers, a patient's coverages (the card: payer, member id, group, subscriber and
relationship, priority, effective dates) and eligibility checks (an X12 270 sent through the
clearinghouse and its 271 read into coverage status and benefits).

An eligibility check is PENDING while the clearinghouse is asked, then COMPLETE (the 271 read:
`result` holds the parsed benefits) or FAILED (the clearinghouse unreachable or the 271
malformed: `message` says why, `result` stays empty). A COMPLETE check younger than 24 hours
answers for its coverage and service type (the cache)."""
import datetime
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.core.transitions import TransitionEvent

PAYER_ID_VALIDATOR = RegexValidator(r"^[A-Za-z0-9]{2,80}$", "A payer id is 2 to 80 letters or digits.")
MEMBER_ID_VALIDATOR = RegexValidator(r"^[A-Za-z0-9-]{2,80}$", "A member id is 2 to 80 letters, digits or dashes.")
GROUP_VALIDATOR = RegexValidator(r"^[A-Za-z0-9 -]{0,50}$", "A group number is letters, digits, spaces or dashes.")
SERVICE_TYPE_VALIDATOR = RegexValidator(r"^[A-Z0-9]{1,2}$", "A service type code is one or two letters or digits (30, 98).")


class Payer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=60)
    payer_id = models.CharField("payer id", max_length=80, unique=True, validators=[PAYER_ID_VALIDATOR],
                                help_text="The payer's id at the clearinghouse (NM1*PR ... PI).")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.payer_id})"


class Coverage(models.Model):
    class Priority(models.TextChoices):
        PRIMARY = "PRIMARY", "Primary"
        SECONDARY = "SECONDARY", "Secondary"

    class Relationship(models.TextChoices):
        # X12 individual relationship codes of the patient to the subscriber.
        SELF = "18", "Self"
        SPOUSE = "01", "Spouse"
        CHILD = "19", "Child"
        OTHER = "G8", "Other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="coverages")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    member_id = models.CharField(max_length=80, validators=[MEMBER_ID_VALIDATOR])
    group_number = models.CharField(max_length=50, blank=True, validators=[GROUP_VALIDATOR])
    relationship = models.CharField("patient's relationship to the subscriber", max_length=2,
                                    choices=Relationship.choices, default=Relationship.SELF)
    subscriber_first_name = models.CharField(max_length=35, blank=True)
    subscriber_last_name = models.CharField(max_length=60, blank=True)
    subscriber_date_of_birth = models.DateField(null=True, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.PRIMARY)
    effective_from = models.DateField(default=datetime.date.today)
    effective_to = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True, help_text="Off: the card was removed (kept for past checks).")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["patient", "priority", "-effective_from"]
        constraints = [
            # One active primary and one active secondary card per patient.
            models.UniqueConstraint(fields=["patient", "priority"], condition=Q(is_active=True),
                                    name="billing_coverage_one_active_per_priority"),
            models.CheckConstraint(condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                                   name="billing_coverage_period_ordered"),
            # Someone else's plan names its subscriber.
            models.CheckConstraint(
                condition=Q(relationship="18") | (~Q(subscriber_first_name="") & ~Q(subscriber_last_name="")
                                                  & Q(subscriber_date_of_birth__isnull=False)),
                name="billing_coverage_subscriber_named"),
        ]

    def __str__(self):
        return f"{self.payer.name} {self.get_priority_display().lower()} coverage"

    @property
    def is_self(self):
        return self.relationship == self.Relationship.SELF

    @property
    def member_id_masked(self):
        """The member id with all but the last four characters hidden (lists, messages)."""
        return "•" * max(len(self.member_id) - 4, 0) + self.member_id[-4:]

    def covers(self, day):
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class EligibilityCheck(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        COMPLETE = "COMPLETE", "Complete"
        FAILED = "FAILED", "Failed"

    class Outcome(models.TextChoices):
        ACTIVE = "ACTIVE", "Active coverage"
        INACTIVE = "INACTIVE", "Inactive coverage"
        REJECTED = "REJECTED", "Rejected by the payer"
        UNKNOWN = "UNKNOWN", "No coverage status given"

    S = Status
    TRANSITIONS = {S.PENDING: {S.COMPLETE, S.FAILED}}
    EVENT_MODEL = "billing.EligibilityCheckEvent"
    CACHE_HOURS = 24

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="eligibility_checks")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="eligibility_checks")
    service_type = models.CharField(max_length=2, default="30", validators=[SERVICE_TYPE_VALIDATOR])
    service_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    control_number = models.PositiveIntegerField(unique=True, help_text="ISA13 of the 270 (from the counter row).")
    result = models.JSONField(default=dict, blank=True, help_text="The 271 read: benefits and rejections.")
    message = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status="COMPLETE") | Q(result={}), name="billing_eligibility_result_only_complete"),
            models.CheckConstraint(condition=~Q(status="COMPLETE") | ~Q(outcome=""), name="billing_eligibility_complete_has_outcome"),
        ]
        indexes = [models.Index(fields=["coverage", "service_type", "status", "completed_at"], name="billing_elig_cache_idx")]

    def __str__(self):
        return f"Eligibility {self.service_type} {self.status} {self.outcome}"

    def fresh(self, now=None):
        now = now or timezone.now()
        return (self.status == self.S.COMPLETE and self.completed_at is not None
                and now - self.completed_at < datetime.timedelta(hours=self.CACHE_HOURS))


class EligibilityCheckEvent(TransitionEvent):
    SUBJECT_FIELD = "eligibility_check"
    id = models.BigAutoField(primary_key=True)
    eligibility_check = models.ForeignKey(EligibilityCheck, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass
