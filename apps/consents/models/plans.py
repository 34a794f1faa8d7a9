"""Procedure plans: what the surgeon proposes after a completed consultation (procedure lines
with CPT/HCPCS codes and estimated fees), approved by that surgeon, then frozen. A change after
approval is a new version (a new row linked to the old one, which is kept). The pre-op
checklist is derived from the plan when it is approved."""
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.consents.exceptions import PlanFrozen
from apps.consents.querysets import ProcedurePlanQuerySet
from apps.core.transitions import TransitionEvent

# CPT: five digits, or four digits and a letter (Category II/III: 0001F, 0042T); HCPCS Level II:
# a letter and four digits (A4550, L8699).
PROCEDURE_CODE_RE = r"^([0-9]{4}[0-9FTU]|[A-V][0-9]{4})$"
validate_procedure_code = RegexValidator(PROCEDURE_CODE_RE, "A CPT (5 characters, e.g. 15823) or HCPCS code (e.g. L8699).")


class ConsultationVisitType(models.Model):
    """Marks a scheduling visit type as a consultation: a procedure plan starts from a
    COMPLETED visit of one of these types. Kept here, not on scheduling's VisitType, because
    scheduling sits below consents and knows nothing of it."""

    visit_type = models.OneToOneField("scheduling.VisitType", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "consultation visit type"

    def __str__(self):
        return str(self.visit_type)


class ProcedurePlan(models.Model):
    class Status(models.TextChoices):
        DRAFT = "DRAFT", "Draft"
        PENDING_APPROVAL = "PENDING_APPROVAL", "Waiting for the surgeon's approval"
        APPROVED = "APPROVED", "Approved"
        CONSENT_PENDING = "CONSENT_PENDING", "Consent sent, not signed yet"
        CONSENT_SIGNED = "CONSENT_SIGNED", "Consent signed"
        SCHEDULED = "SCHEDULED", "Surgery scheduled"
        COMPLETED = "COMPLETED", "Completed"
        CANCELLED = "CANCELLED", "Cancelled"

    S = Status
    TRANSITIONS = {
        S.DRAFT: {S.PENDING_APPROVAL, S.CANCELLED},
        S.PENDING_APPROVAL: {S.APPROVED, S.CANCELLED},
        S.APPROVED: {S.CONSENT_PENDING, S.CANCELLED},
        S.CONSENT_PENDING: {S.CONSENT_SIGNED, S.CANCELLED},
        S.CONSENT_SIGNED: {S.SCHEDULED, S.CANCELLED},
        S.SCHEDULED: {S.COMPLETED, S.CANCELLED},
    }
    EVENT_MODEL = "consents.PlanEvent"
    # Approved or later: the surgeon's approval stands behind the plan.
    APPROVED_STATUSES = [S.APPROVED, S.CONSENT_PENDING, S.CONSENT_SIGNED, S.SCHEDULED, S.COMPLETED]
    # Clinical content: editable only while DRAFT (approval freezes it; a change is a new version).
    CLINICAL_FIELDS = frozenset({"patient", "patient_id", "consultation", "consultation_id", "surgeon", "surgeon_id",
                                 "notes", "quote_total", "version", "previous_version", "previous_version_id"})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    consultation = models.ForeignKey("scheduling.Visit", on_delete=models.PROTECT, related_name="+")
    surgeon = models.ForeignKey("scheduling.Provider", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    previous_version = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="next_version")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    notes = models.TextField(blank=True, max_length=4000)
    quote_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    # The date the surgery is aimed at, before a theatre is booked (scheduling, not clinical
    # content: it may change after approval). A consent still unsigned is reminded before it.
    planned_date = models.DateField("planned surgery date", null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProcedurePlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        permissions = [("approve_procedureplan", "Can approve procedure plans (only their own, as the surgeon)")]
        constraints = [
            models.CheckConstraint(condition=Q(version__gte=1), name="plan_version_positive"),
            models.CheckConstraint(condition=Q(quote_total__gte=0), name="plan_quote_not_negative"),
            # Approved or later always names who approved it and when.
            models.CheckConstraint(
                condition=~Q(status__in=["APPROVED", "CONSENT_PENDING", "CONSENT_SIGNED", "SCHEDULED", "COMPLETED"])
                | Q(approved_at__isnull=False, approved_by__isnull=False),
                name="plan_approved_has_approver",
            ),
            models.CheckConstraint(condition=~Q(status="CANCELLED") | ~Q(cancel_reason=""), name="plan_cancel_has_reason"),
            models.CheckConstraint(condition=Q(previous_version__isnull=True) | Q(version__gte=2),
                                   name="plan_new_version_numbered"),
        ]
        indexes = [models.Index(fields=["patient", "created_at"], name="plan_patient_created_idx"),
                   models.Index(fields=["surgeon", "status"], name="plan_surgeon_status_idx")]

    def __str__(self):
        return f"Procedure plan {self.id} v{self.version} ({self.status})"

    @property
    def is_editable(self):
        return self.status == self.Status.DRAFT

    @property
    def is_approved(self):
        return self.status in self.APPROVED_STATUSES

    def save(self, *args, **kwargs):
        # Model guard behind the services: once out of DRAFT, the clinical content of the row
        # in the database cannot be changed through the ORM (status moves save only their fields).
        update_fields = kwargs.get("update_fields")
        if self.pk and not self._state.adding and (update_fields is None or self.CLINICAL_FIELDS & set(update_fields)):
            stored = type(self).objects.filter(pk=self.pk).values("status", "consultation_id", "surgeon_id", "notes",
                                                                  "quote_total", "version", "previous_version_id").first()
            if stored is not None and stored["status"] != self.Status.DRAFT:
                changed = [name for name in ("consultation_id", "surgeon_id", "notes", "quote_total", "version",
                                             "previous_version_id") if stored[name] != getattr(self, name)]
                if changed:
                    raise PlanFrozen(extra={"plan_id": str(self.pk), "fields": changed})
        super().save(*args, **kwargs)


class ProcedureLine(models.Model):
    class Side(models.TextChoices):
        NOT_APPLICABLE = "NA", "Not applicable"
        LEFT = "LEFT", "Left"
        RIGHT = "RIGHT", "Right"
        BILATERAL = "BILATERAL", "Bilateral"

    id = models.BigAutoField(primary_key=True)
    plan = models.ForeignKey(ProcedurePlan, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    code = models.CharField("CPT/HCPCS code", max_length=5, validators=[validate_procedure_code])
    description = models.CharField(max_length=300)
    site = models.CharField(max_length=120, blank=True, help_text="Anatomical site, e.g. upper eyelids.")
    side = models.CharField(max_length=10, choices=Side.choices, default=Side.NOT_APPLICABLE)
    estimated_fee = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["plan", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(estimated_fee__gte=0), name="procedure_line_fee_not_negative"),
            models.CheckConstraint(condition=Q(code__regex=PROCEDURE_CODE_RE), name="procedure_line_code_format"),
        ]

    def __str__(self):
        return f"{self.code} {self.description}"

    def _check_plan_editable(self):
        status = ProcedurePlan.objects.filter(pk=self.plan_id).values_list("status", flat=True).first()
        if status is not None and status != ProcedurePlan.Status.DRAFT:
            raise PlanFrozen(extra={"plan_id": str(self.plan_id)})

    def save(self, *args, **kwargs):
        self._check_plan_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_plan_editable()
        return super().delete(*args, **kwargs)


class PlanEvent(TransitionEvent):
    """A plan's moves (submitted, approved, cancelled...) and its other events (edited, new
    version, pre-op item done), with who and why."""

    SUBJECT_FIELD = "plan"

    plan = models.ForeignKey(ProcedurePlan, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass


class PreOpRequirement(models.Model):
    """The clinic's catalogue of pre-op checklist items (labs, clearance, fasting
    instructions...), copied onto each plan's checklist when the surgeon approves it. Billing
    (or any app above) adds its own items through the `preop_requirements` hook
    (apps/consents/hooks.py), e.g. a deposit."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=120)
    instructions = models.TextField(blank=True, max_length=2000)
    is_required = models.BooleanField(default=True, help_text="The case cannot start until it is done.")
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = "pre-op requirement"

    def __str__(self):
        return self.label


class PreOpItem(models.Model):
    """One item of a plan's pre-op checklist. `source` is "clinic" for the catalogue's items or
    the name of the app that added it through the hook."""

    id = models.BigAutoField(primary_key=True)
    plan = models.ForeignKey(ProcedurePlan, on_delete=models.CASCADE, related_name="preop_items")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=120)
    instructions = models.TextField(blank=True)
    is_required = models.BooleanField(default=True)
    source = models.CharField(max_length=40, default="clinic")
    order = models.PositiveSmallIntegerField(default=100)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["plan", "order", "id"]
        verbose_name = "pre-op checklist item"
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="preop_item_plan_code_uniq"),
            models.CheckConstraint(condition=Q(done_by__isnull=True) | Q(done_at__isnull=False), name="preop_item_done_has_time"),
        ]

    def __str__(self):
        return f"{self.label} ({'done' if self.done_at else 'open'})"

    @property
    def patient_id(self):
        return self.plan.patient_id
