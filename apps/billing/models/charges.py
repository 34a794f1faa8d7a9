"""Charges: what a completed visit or surgical case bills, one row per code, reviewed (and
adjusted, with the reason kept in its event rows) by billing staff before it goes on an invoice."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils import timezone

from apps.billing.money import money_field
from apps.core.transitions import TransitionEvent


class Charge(models.Model):
    class Status(models.TextChoices):
        PENDING_REVIEW = "PENDING_REVIEW", "To review"
        APPROVED = "APPROVED", "Approved"
        INVOICED = "INVOICED", "Invoiced"
        VOID = "VOID", "Void"

    S = Status
    TRANSITIONS = {
        S.PENDING_REVIEW: {S.APPROVED, S.VOID},
        S.APPROVED: {S.INVOICED, S.PENDING_REVIEW, S.VOID},
        # A voided invoice gives its charges back for the corrected one.
        S.INVOICED: {S.APPROVED},
    }
    EVENT_MODEL = "billing.ChargeEvent"

    class Source(models.TextChoices):
        VISIT = "VISIT", "Visit"
        CASE = "CASE", "Surgical case"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="charges")
    source = models.CharField(max_length=8, choices=Source.choices)
    visit = models.ForeignKey("scheduling.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="charges")
    case = models.ForeignKey("consents.SurgicalCase", null=True, blank=True, on_delete=models.PROTECT, related_name="charges")
    # The charge's place among its source's lines: (visit or case, line) is unique, so a second
    # completion (or a retried task) can never add the lines again.
    line = models.PositiveSmallIntegerField()
    service_code = models.ForeignKey("billing.ServiceCode", null=True, blank=True, on_delete=models.PROTECT, related_name="charges")
    code = models.CharField(max_length=5)
    description = models.CharField(max_length=200)
    modifiers = models.JSONField(default=list, blank=True)
    place_of_service = models.CharField(max_length=2, blank=True, help_text="CMS place of service: 11 office, 02/10 telehealth, 24 ASC.")
    quantity = models.PositiveIntegerField(default=1)
    unit_price = money_field()
    amount = money_field()
    service_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING_REVIEW)
    invoice = models.ForeignKey("billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="charges")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["service_date", "source", "line"]
        permissions = [("review_charge", "Can review and adjust charges")]
        constraints = [
            models.UniqueConstraint(fields=["visit", "line"], condition=Q(visit__isnull=False), name="billing_charge_visit_line_uniq"),
            models.UniqueConstraint(fields=["case", "line"], condition=Q(case__isnull=False), name="billing_charge_case_line_uniq"),
            models.CheckConstraint(
                condition=(Q(source="VISIT", visit__isnull=False, case__isnull=True)
                           | Q(source="CASE", case__isnull=False, visit__isnull=True)),
                name="billing_charge_one_source"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="billing_charge_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="billing_charge_price_not_negative"),
            models.CheckConstraint(condition=Q(amount=Round(F("unit_price") * F("quantity"), 2)), name="billing_charge_amount_is_price_times_quantity"),
            models.CheckConstraint(condition=~Q(status="INVOICED") | Q(invoice__isnull=False), name="billing_charge_invoiced_has_invoice"),
        ]
        indexes = [models.Index(fields=["patient", "status"], name="billing_charge_patient_idx"),
                   models.Index(fields=["status", "service_date"], name="billing_charge_status_idx")]

    def __str__(self):
        return f"{self.code} x{self.quantity} ${self.amount} ({self.status})"


class ChargeEvent(TransitionEvent):
    """Created, approved, adjusted (data: before / after), invoiced, released by a void."""

    SUBJECT_FIELD = "charge"
    id = models.BigAutoField(primary_key=True)
    charge = models.ForeignKey(Charge, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass
