"""Invoices: lines copied from approved charges (or credits), the insurance portion, what the
patient owes, has paid and still owes, and a number given at issue from a counter row locked
in the issuing transaction (never max()+1), so numbers are sequential with no gaps.

The database keeps the arithmetic honest: every amount is non-negative, the patient's part is
the subtotal less the insurance portion, what is due is that part less what was paid (so
nothing can be paid twice over), an issued invoice has its number and due date, and (a trigger,
migration 0002) the lines of an invoice that left DRAFT never change."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils import timezone

from apps.billing.money import money_field
from apps.core.transitions import TransitionEvent


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "DRAFT", "Draft"
        ISSUED = "ISSUED", "Issued"
        PARTIALLY_PAID = "PARTIALLY_PAID", "Partially paid"
        PAID = "PAID", "Paid"
        OVERDUE = "OVERDUE", "Overdue"
        VOID = "VOID", "Void"

    S = Status
    TRANSITIONS = {
        S.DRAFT: {S.ISSUED, S.VOID},
        S.ISSUED: {S.PARTIALLY_PAID, S.PAID, S.OVERDUE, S.VOID},
        S.PARTIALLY_PAID: {S.PAID, S.OVERDUE, S.ISSUED},
        S.OVERDUE: {S.PARTIALLY_PAID, S.PAID, S.ISSUED, S.VOID},
        # A refund reopens a paid bill.
        S.PAID: {S.PARTIALLY_PAID, S.ISSUED},
    }
    # Statuses a patient can pay in.
    PAYABLE = (S.ISSUED, S.PARTIALLY_PAID, S.OVERDUE)
    OPEN = PAYABLE
    EVENT_MODEL = "billing.InvoiceEvent"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="invoices")
    number = models.PositiveBigIntegerField(null=True, blank=True, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    subtotal = money_field()
    insurance_portion = money_field()
    patient_responsibility = money_field()
    amount_paid = money_field()
    amount_due = money_field()
    due_date = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    # The void invoice this one corrects.
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("issue_invoice", "Can issue and void invoices"), ("view_balance", "Can see patients' balances")]
        constraints = [
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="billing_invoice_subtotal_not_negative"),
            models.CheckConstraint(condition=Q(insurance_portion__gte=0), name="billing_invoice_insurance_not_negative"),
            models.CheckConstraint(condition=Q(patient_responsibility__gte=0), name="billing_invoice_patient_part_not_negative"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="billing_invoice_paid_not_negative"),
            models.CheckConstraint(condition=Q(amount_due__gte=0), name="billing_invoice_due_not_negative"),
            models.CheckConstraint(
                condition=Q(patient_responsibility=Round(F("subtotal") - F("insurance_portion"), 2)),
                name="billing_invoice_patient_part_is_subtotal_less_insurance"),
            models.CheckConstraint(
                condition=Q(amount_due=Round(F("patient_responsibility") - F("amount_paid"), 2)),
                name="billing_invoice_due_is_part_less_paid"),
            # Numbered at issue, and for good: only a draft, or a draft voided before it was
            # issued (no number taken, so the sequence keeps no gap), goes without.
            models.CheckConstraint(condition=Q(status="DRAFT") | Q(status="VOID", issued_at__isnull=True, number__isnull=True)
                                   | Q(number__isnull=False, due_date__isnull=False, issued_at__isnull=False),
                                   name="billing_invoice_issued_has_number"),
            models.CheckConstraint(condition=~Q(status="PAID") | Q(amount_due=0), name="billing_invoice_paid_owes_nothing"),
            models.CheckConstraint(condition=~Q(status="VOID") | Q(amount_paid=0), name="billing_invoice_void_holds_no_money"),
        ]
        indexes = [models.Index(fields=["patient", "status"], name="billing_invoice_patient_idx"),
                   models.Index(fields=["status", "due_date"], name="billing_invoice_due_idx")]

    def __str__(self):
        return f"Invoice {self.display_number} ({self.status})"

    @property
    def display_number(self):
        return f"INV-{self.number:06d}" if self.number else "draft"

    @property
    def is_payable(self):
        return self.status in self.PAYABLE and self.amount_due > 0


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        CHARGE = "CHARGE", "Charge"
        CREDIT = "CREDIT", "Credit"

    id = models.BigAutoField(primary_key=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CHARGE)
    charge = models.ForeignKey("billing.Charge", null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=5, blank=True)
    description = models.CharField(max_length=200)
    modifiers = models.JSONField(default=list, blank=True)
    service_date = models.DateField(null=True, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = money_field()
    amount = money_field()

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="billing_invoice_line_position_uniq"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="billing_invoice_line_quantity_positive"),
            # A charge line adds, a credit line takes off; neither the other way round.
            models.CheckConstraint(condition=(Q(kind="CHARGE", unit_price__gte=0) | Q(kind="CREDIT", unit_price__lte=0)),
                                   name="billing_invoice_line_sign_by_kind"),
            models.CheckConstraint(condition=Q(amount=Round(F("unit_price") * F("quantity"), 2)),
                                   name="billing_invoice_line_amount_is_price_times_quantity"),
        ]

    def __str__(self):
        return f"{self.code} {self.description} ${self.amount}"


class InvoiceCounter(models.Model):
    """The next invoice number. Issuing locks this row (SELECT ... FOR UPDATE), takes the
    number and moves it on in the same transaction: a rollback gives the number back, so
    numbers have no gaps, and concurrent issues queue on the row."""

    name = models.CharField(max_length=32, primary_key=True)
    next_number = models.PositiveBigIntegerField(default=1)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(next_number__gte=1), name="billing_counter_positive")]

    def __str__(self):
        return f"{self.name}: next {self.next_number}"


class InvoiceEvent(TransitionEvent):
    SUBJECT_FIELD = "invoice"
    id = models.BigAutoField(primary_key=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass
