"""Payments: online through the active gateway with an Idempotency-Key, at the desk (cash,
check, card terminal), refunds (never more than was paid), and the Stripe webhook.

An online payment runs in three short transactions, so no lock is held while the gateway
works and nothing is ever charged twice:
1. the key is claimed: a PaymentRequest row (caller, key, fingerprint) is inserted and
   committed. A second request with the key finds it: other parameters -> 422 and nothing
   charged; still running -> 409 payment_in_progress; finished -> the first answer, replayed.
2. the invoice row is locked and the amount checked against what is due less what other
   payments still in flight hold; a PENDING payment reserves it. Two payments at once on one
   invoice queue on that lock, so together they can never pay more than is due.
3. after the gateway's answer, under the invoice's lock again: SUCCEEDED (the invoice settles)
   or FAILED, and the answer is saved on the request for replay.
A gateway that cannot be reached leaves the outcome unknown: the payment is FAILED with
gateway_unavailable (502) and the gateway's own idempotency key (our payment's id) keeps a
later retry by the gateway from charging twice."""
import hashlib
import json
import logging
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from apps.billing.exceptions import (
    AmountExceedsDue, IdempotencyKeyMismatch, InvoiceNotPayable, PaymentDeclined, PaymentInProgress, RefundExceedsPaid,
)
from apps.billing.gateways import ChargeResult, GatewayUnavailable, active_gateway, gateway_named
from apps.billing.models import Invoice, Payment, PaymentRequest, Refund, WebhookEvent
from apps.billing.money import ZERO, cents, to_money
from apps.billing.services._common import move, user_actor
from apps.billing.services.deposits import check_refundable as check_deposit_refundable
from apps.billing.services.invoices import settle
from apps.core.api.errors import error_body
from apps.core.exceptions import Conflict, DomainError, ValidationFailed
from apps.core.transitions import lock, record_event

log = logging.getLogger(__name__)
P = Payment.Status
MAX_KEY_LENGTH = PaymentRequest.MAX_KEY_LENGTH


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    replayed: bool = False
    payment: Payment | None = None


def fingerprint(params):
    text = json.dumps({k: str(v) for k, v in params.items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def check_key(key):
    key = (key or "").strip()
    if not key:
        raise ValidationFailed({"idempotency_key": ["Every payment needs an Idempotency-Key."]})
    if len(key) > MAX_KEY_LENGTH or "\x00" in key:
        raise ValidationFailed({"idempotency_key": [f"At most {MAX_KEY_LENGTH} printable characters."]})
    return key


def _claim(owner, key, digest):
    """Insert the request row (committed at once) or answer from the existing one."""
    try:
        with transaction.atomic():
            return PaymentRequest.objects.create(owner=owner, key=key, fingerprint=digest), None
    except IntegrityError:
        saved = PaymentRequest.objects.select_related("payment").get(owner=owner, key=key)
    if saved.fingerprint != digest:
        raise IdempotencyKeyMismatch()
    if saved.status_code is None:
        raise PaymentInProgress()
    return None, Answer(saved.status_code, json.loads(saved.body), replayed=True, payment=saved.payment)


def _save_answer(request_row, status, body, payment=None):
    PaymentRequest.objects.filter(pk=request_row.pk).update(
        status_code=status, body=json.dumps(body, cls=DjangoJSONEncoder), payment=payment)


def _reserved(invoice):
    return Payment.objects.filter(invoice=invoice, status=P.PENDING).aggregate(total=Sum("amount"))["total"] or ZERO


def _check_amount(invoice, amount):
    if invoice.status not in Invoice.PAYABLE:
        raise InvoiceNotPayable(extra={"status": invoice.status})
    if amount <= 0:
        raise ValidationFailed({"amount": ["The amount must be more than zero."]})
    available = cents(invoice.amount_due - _reserved(invoice))
    if amount > available:
        raise AmountExceedsDue(extra={"amount_due": str(available)})


def _reserve(*, invoice_id, amount, actor, gateway_name):
    with transaction.atomic():
        invoice = lock(Invoice, invoice_id)
        _check_amount(invoice, amount)
        payment = Payment.objects.create(invoice=invoice, patient_id=invoice.patient_id, method=Payment.Method.CARD_ONLINE,
                                         amount=amount, gateway=gateway_name, created_by=user_actor(actor))
        record_event(payment, actor=actor, reason="Payment started", data={"amount": str(amount)})
        return payment


def _finish(*, payment, result, actor, now=None):
    """Phase 3: the gateway's answer recorded under the invoice's lock."""
    now = now or timezone.now()
    with transaction.atomic():
        invoice = lock(Invoice, payment.invoice_id)
        payment = lock(Payment, payment.pk)
        if payment.status != P.PENDING:
            return payment  # the webhook got there first
        if result.ok:
            move(payment, P.SUCCEEDED, actor=actor, reason="Charged", gateway_reference=result.reference,
                 card_brand=result.card_brand, card_last4=result.card_last4, succeeded_at=now)
            settle(invoice, paid_delta=payment.amount, actor=actor, reason=f"Payment {payment.receipt_number}", now=now)
        else:
            move(payment, P.FAILED, actor=actor, reason=result.message or result.code, failure_code=result.code[:40],
                 failure_message=(result.message or "")[:200], card_brand=result.card_brand, card_last4=result.card_last4,
                 gateway_reference=result.reference)
        return payment


def payment_submit(*, owner, key, invoice, amount, source, actor, render):
    """Pay `amount` of `invoice` (the caller has checked access to it) with `source` (a card
    number for the test gateway, a PaymentMethod id for Stripe) once per (`owner`, `key`):
    see the module docstring. `render(payment)` makes the success body. Returns an Answer:
    201 and the payment, 402 card_declined (saved and replayed like any answer), 409/400 for a
    refusal before charging (saved too), 502 for an unreachable gateway."""
    key = check_key(key)
    amount = to_money(amount)
    source = str(source or "").strip()
    if not source:
        raise ValidationFailed({"source": ["Enter the card."]})
    gateway = active_gateway()
    digest = fingerprint({"invoice": invoice.pk, "amount": amount, "source": hashlib.sha256(source.encode()).hexdigest()})
    request_row, replay = _claim(owner, key, digest)
    if replay is not None:
        return replay
    try:
        payment = _reserve(invoice_id=invoice.pk, amount=amount, actor=actor, gateway_name=gateway.name)
    except DomainError as exc:
        body = error_body(exc.code, exc.message, exc.extra)
        _save_answer(request_row, exc.status_code, body)
        return Answer(exc.status_code, body)
    PaymentRequest.objects.filter(pk=request_row.pk).update(payment=payment)
    try:
        result = gateway.charge(amount=amount, source=source, idempotency_key=str(payment.pk),
                                description=f"Invoice {invoice.display_number}", metadata={"payment": str(payment.pk)})
    except GatewayUnavailable:
        log.warning("payment gateway unavailable for payment %s", payment.pk)
        result = ChargeResult(False, code="gateway_unavailable", message="The payment service did not answer. Nothing was charged by us; try again.")
    payment = _finish(payment=payment, result=result, actor=actor)
    if payment.status == P.SUCCEEDED:
        status, body = 201, render(payment)
    else:
        error = PaymentDeclined(payment.failure_message or None, code=payment.failure_code or "card_declined",
                                extra={"payment": str(payment.pk)})
        status = 502 if payment.failure_code == "gateway_unavailable" else error.status_code
        body = error_body(error.code, error.message, error.extra)
    _save_answer(request_row, status, body, payment)
    return Answer(status, body, payment=payment)


DESK_METHODS = (Payment.Method.CASH, Payment.Method.CHECK, Payment.Method.CARD_TERMINAL)


@transaction.atomic
def payment_record_desk(*, invoice, amount, method, actor, reference="", now=None):
    """A payment taken at the desk (cash, check, card terminal), SUCCEEDED at once; the invoice
    settles. Never more than is due (under the invoice's lock)."""
    if method not in DESK_METHODS:
        raise ValidationFailed({"method": ["Cash, check or card terminal."]})
    now = now or timezone.now()
    amount = to_money(amount)
    invoice = lock(Invoice, invoice.pk)
    _check_amount(invoice, amount)
    payment = Payment.objects.create(invoice=invoice, patient_id=invoice.patient_id, method=method, amount=amount,
                                     reference=(reference or "")[:60], created_by=user_actor(actor))
    move(payment, P.SUCCEEDED, actor=actor, reason=f"Taken at the desk ({payment.get_method_display()})", succeeded_at=now)
    settle(invoice, paid_delta=amount, actor=actor, reason=f"Payment {payment.receipt_number}", now=now)
    return payment


@transaction.atomic
def payment_refund(*, payment, amount, reason, actor, now=None):
    """Refund `amount` (all that is left when None) of a SUCCEEDED payment, never more than what
    is left of it (409 refund_exceeds_paid; the database checks it too). Online payments are
    refunded through their gateway first; the invoice's paid amount goes down and its status
    follows (a PAID invoice reopens). Returns the Refund."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["Give the reason for the refund."]})
    # The invoice first, then the payment: the order every billing service locks in.
    invoice = lock(Invoice, payment.invoice_id)
    payment = lock(Payment, payment.pk)
    if payment.status != P.SUCCEEDED:
        raise Conflict("Only a successful payment can be refunded.", code="payment_not_refundable")
    check_deposit_refundable(invoice)
    left = cents(payment.amount - payment.amount_refunded)
    amount = left if amount in (None, "") else to_money(amount)
    if amount <= 0:
        raise ValidationFailed({"amount": ["The amount must be more than zero."]})
    if amount > left:
        raise RefundExceedsPaid(extra={"refundable": str(left)})
    gateway_reference = ""
    if payment.gateway:
        result = gateway_named(payment.gateway).refund(reference=payment.gateway_reference, amount=amount,
                                                       idempotency_key=f"refund:{payment.pk}:{payment.amount_refunded}:{amount}")
        if not result.ok:
            raise Conflict(result.message or "The gateway refused the refund.", code=result.code or "refund_refused")
        gateway_reference = result.reference
    refund = Refund.objects.create(payment=payment, amount=amount, reason=reason[:500], gateway_reference=gateway_reference,
                                   created_by=user_actor(actor))
    payment.amount_refunded = cents(payment.amount_refunded + amount)
    payment.save(update_fields=["amount_refunded", "updated_at"])
    record_event(payment, actor=actor, reason=reason, data={"refund": str(refund.pk), "amount": str(amount)})
    settle(invoice, paid_delta=-amount, actor=actor, reason=f"Refund of {payment.receipt_number}", now=now)
    return refund


def stripe_event_handle(event):
    """A verified Stripe event, once per event id (a replay does nothing; returns False):
    payment_intent.succeeded / payment_failed settle a payment still PENDING (one whose
    confirmation finished after our request had ended)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookEvent.objects.create(gateway="stripe", event_id=event["id"], kind=event["type"])
        except IntegrityError:
            return False
        if event["type"] not in ("payment_intent.succeeded", "payment_intent.payment_failed"):
            return True
        intent = event["data"]["object"]
        payment_id = (intent.get("metadata") or {}).get("payment")
        payment = Payment.objects.filter(pk=payment_id, gateway="stripe").first() if payment_id else None
        if payment is None or payment.status != P.PENDING:
            return True
        if event["type"] == "payment_intent.succeeded":
            result = ChargeResult(True, reference=intent["id"])
        else:
            error = intent.get("last_payment_error") or {}
            result = ChargeResult(False, reference=intent["id"], code=error.get("decline_code") or error.get("code") or "card_declined",
                                  message=error.get("message") or "The card was declined.")
        _finish(payment=payment, result=result, actor=None)
        return True
