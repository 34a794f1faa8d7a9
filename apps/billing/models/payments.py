"""Payments against invoices (online through a gateway, or taken at the desk), their refunds,
the saved answers of payment requests by Idempotency-Key, and the gateway webhooks seen."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from apps.billing.money import money_field
from apps.core.transitions import TransitionEvent


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"

    S = Status
    TRANSITIONS = {S.PENDING: {S.SUCCEEDED, S.FAILED}}
    EVENT_MODEL = "billing.PaymentEvent"

    class Method(models.TextChoices):
        CARD_ONLINE = "CARD_ONLINE", "Card (online)"
        CARD_TERMINAL = "CARD_TERMINAL", "Card (terminal at the desk)"
        CASH = "CASH", "Cash"
        CHECK = "CHECK", "Check"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="payments")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="payments")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    method = models.CharField(max_length=14, choices=Method.choices)
    amount = money_field()
    amount_refunded = money_field()
    gateway = models.CharField(max_length=16, blank=True, help_text="test, stripe; empty for the desk.")
    gateway_reference = models.CharField(max_length=120, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    reference = models.CharField(max_length=60, blank=True, help_text="Check number or terminal slip.")
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("refund_payment", "Can refund payments")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_payment_amount_positive"),
            models.CheckConstraint(condition=Q(amount_refunded__gte=0), name="billing_payment_refunded_not_negative"),
            models.CheckConstraint(condition=Q(amount_refunded__lte=F("amount")), name="billing_payment_refund_within_amount"),
            models.CheckConstraint(condition=Q(amount_refunded=0) | Q(status="SUCCEEDED"), name="billing_payment_refund_only_succeeded"),
            models.UniqueConstraint(fields=["gateway", "gateway_reference"], condition=~Q(gateway_reference=""),
                                    name="billing_payment_gateway_reference_uniq"),
        ]
        indexes = [models.Index(fields=["patient", "created_at"], name="billing_payment_patient_idx")]

    def __str__(self):
        return f"Payment ${self.amount} ({self.status})"

    @property
    def refundable(self):
        return self.amount - self.amount_refunded if self.status == self.S.SUCCEEDED else 0

    @property
    def receipt_number(self):
        return f"RCPT-{str(self.pk).split('-')[0].upper()}"


class PaymentEvent(TransitionEvent):
    SUBJECT_FIELD = "payment"
    id = models.BigAutoField(primary_key=True)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")

    class Meta(TransitionEvent.Meta):
        pass


class Refund(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = money_field()
    reason = models.CharField(max_length=500)
    gateway_reference = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="billing_refund_amount_positive")]

    def __str__(self):
        return f"Refund ${self.amount} of {self.payment_id}"


class PaymentRequest(models.Model):
    """One Idempotency-Key of one caller: claimed (committed) before the gateway is asked, so a
    second request with the key, at once or later, never charges again; the first answer
    (status and body, whatever the status) is saved here and replayed. `fingerprint` hashes the
    request's parameters: the same key with others is refused (422) and charges nothing."""

    MAX_KEY_LENGTH = 255

    id = models.BigAutoField(primary_key=True)
    owner = models.CharField(max_length=64, help_text='"user:<id>" or "api_key:<id>"')
    key = models.CharField(max_length=MAX_KEY_LENGTH)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while the first request runs.")
    body = models.TextField(blank=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="billing_payment_request_owner_key_uniq")]

    def __str__(self):
        return f"{self.owner} {self.key} -> {self.status_code or 'running'}"


class WebhookEvent(models.Model):
    """A gateway event handled once: its id is unique, so a replayed delivery does nothing."""

    id = models.BigAutoField(primary_key=True)
    gateway = models.CharField(max_length=16)
    event_id = models.CharField(max_length=120)
    kind = models.CharField(max_length=80)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["gateway", "event_id"], name="billing_webhook_event_uniq")]

    def __str__(self):
        return f"{self.gateway} {self.event_id} {self.kind}"
