"""Deposits on procedure plans: an amount billing staff set on a plan, billed to the patient as
an invoice of its own (one line) and paid in the portal like any bill, through the same gateway,
Idempotency-Key and invoice lock. Paid means that invoice is PAID: the deposit keeps no status
of its own to drift from the money. When the plan's surgical case is invoiced, the paid deposit
is credited on that invoice (`applied_to`), once.

With BILLING_DEPOSIT_REQUIRED on, "Deposit paid" is a pre-op requirement of the plan's case
(consents' preop_requirements hook): the case cannot start until the deposit invoice is paid."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.billing.money import money_field


class Deposit(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.OneToOneField("consents.ProcedurePlan", on_delete=models.PROTECT, related_name="deposit")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="deposits")
    amount = money_field()
    # The bill the patient pays (a new one when staff change an unpaid amount: the old one is voided).
    invoice = models.OneToOneField("billing.Invoice", on_delete=models.PROTECT, related_name="deposit")
    # The surgical case's invoice the paid deposit was credited on (none until then, and again
    # after that invoice is voided).
    applied_to = models.ForeignKey("billing.Invoice", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="deposits_applied")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_deposit_amount_positive"),
            models.CheckConstraint(condition=Q(applied_to__isnull=True) | ~Q(applied_to=F("invoice")),
                                   name="billing_deposit_not_applied_to_itself"),
        ]

    def __str__(self):
        return f"Deposit ${self.amount} on plan {self.plan_id}"

    @property
    def is_paid(self):
        return self.invoice.status == "PAID"
