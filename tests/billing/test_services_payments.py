"""Payments and refunds: money to the cent, the test gateway's cards, Idempotency-Key replays
and refusals, refunds never above what was paid; the database backs each amount rule."""
import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.billing import services
from apps.billing.exceptions import AmountExceedsDue, IdempotencyKeyMismatch, InvoiceNotPayable, RefundExceedsPaid
from apps.billing.gateways import active_gateway
from apps.billing.gateways.test_gateway import DECLINE, INSUFFICIENT_FUNDS, SUCCESS
from apps.billing.models import Payment, PaymentRequest
from apps.core.exceptions import ValidationFailed
from tests.billing.factories import issued_invoice

pytestmark = pytest.mark.django_db


def _render(payment):
    return {"id": str(payment.pk), "amount": str(payment.amount), "status": payment.status}


def pay(invoice, *, key="k-1", amount="125.00", card=SUCCESS, owner="user:1"):
    return services.payment_submit(owner=owner, key=key, invoice=invoice, amount=amount, source=card, actor=None,
                                   render=_render)


@pytest.fixture
def invoice(patient, fees, biller):
    return issued_invoice(patient, biller)  # 125.00 due


def test_a_success_card_pays_the_invoice_in_full(invoice):
    answer = pay(invoice)

    invoice.refresh_from_db()
    payment = Payment.objects.get()
    assert (answer.status, answer.body["status"], answer.replayed) == (201, "SUCCEEDED", False)
    assert (payment.card_last4, payment.gateway, payment.method) == ("4242", "test", "CARD_ONLINE")
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("PAID", Decimal("125.00"), Decimal("0.00"))
    assert payment.events.filter(from_status="PENDING", to_status="SUCCEEDED").exists()


@pytest.mark.parametrize("card, code", [(DECLINE, "card_declined"), (INSUFFICIENT_FUNDS, "insufficient_funds"),
                                        ("4242424242424241", "incorrect_number"), ("4111111111111111", "card_not_supported")])
def test_declining_cards_pay_nothing_and_answer_402_with_the_reason(invoice, card, code):
    answer = pay(invoice, card=card)

    invoice.refresh_from_db()
    assert (answer.status, answer.body["code"]) == (402, code)
    assert Payment.objects.get().status == "FAILED"
    assert (invoice.status, invoice.amount_paid) == ("ISSUED", Decimal("0.00"))


def test_partial_payments_to_the_cent_then_the_rest(invoice):
    pay(invoice, key="a", amount="0.01")
    pay(invoice, key="b", amount="100.004")  # rounds half-up to 100.00
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("PARTIALLY_PAID", Decimal("100.01"), Decimal("24.99"))

    pay(invoice, key="c", amount="24.99")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == ("PAID", Decimal("0.00"))


def test_paying_more_than_is_due_is_refused_and_charges_nothing(invoice):
    answer = pay(invoice, amount="125.01")

    assert (answer.status, answer.body["code"]) == (409, "amount_exceeds_due")
    assert not Payment.objects.exists()
    assert active_gateway().calls == 0


def test_the_same_key_and_body_answers_the_first_result_and_charges_once(invoice):
    first = pay(invoice, amount="50.00")
    second = pay(invoice, amount="50.00")

    assert (second.status, second.body, second.replayed) == (first.status, first.body, True)
    assert Payment.objects.count() == 1
    assert active_gateway().calls == 1


def test_a_declined_answer_is_replayed_too(invoice):
    first = pay(invoice, card=DECLINE)
    second = pay(invoice, card=DECLINE)

    assert (second.status, second.body["code"], second.replayed) == (402, first.body["code"], True)
    assert active_gateway().calls == 1


def test_the_same_key_with_another_body_is_refused_and_charges_nothing(invoice):
    pay(invoice, amount="50.00")

    with pytest.raises(IdempotencyKeyMismatch):
        pay(invoice, amount="60.00")

    assert Payment.objects.count() == 1
    assert active_gateway().calls == 1


def test_keys_belong_to_their_owner(invoice):
    pay(invoice, amount="50.00", owner="user:1")
    answer = pay(invoice, amount="50.00", owner="user:2")

    assert (answer.status, answer.replayed) == (201, False)
    assert Payment.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "a\x00b"])
def test_a_missing_or_unusable_key_is_refused(invoice, key):
    with pytest.raises(ValidationFailed) as refused:
        pay(invoice, key=key)

    assert "idempotency_key" in refused.value.extra["fields"]
    assert not PaymentRequest.objects.exists()


def test_a_draft_or_void_invoice_cannot_be_paid(invoice, biller):
    services.invoice_void(invoice=invoice, actor=biller, reason="Error")

    answer = pay(invoice)

    assert (answer.status, answer.body["code"]) == (409, InvoiceNotPayable.default_code)


def test_refunds_after_partial_payments_never_exceed_what_was_paid(invoice, biller):
    pay(invoice, key="a", amount="100.00")
    payment = Payment.objects.get()

    services.payment_refund(payment=payment, amount="30.55", reason="Overcharged", actor=biller)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("PARTIALLY_PAID", Decimal("69.45"), Decimal("55.55"))
    with pytest.raises(RefundExceedsPaid):
        services.payment_refund(payment=payment, amount="69.46", reason="too much", actor=biller)

    services.payment_refund(payment=payment, amount=None, reason="The rest", actor=biller)

    payment.refresh_from_db(), invoice.refresh_from_db()
    assert payment.amount_refunded == Decimal("100.00")
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("ISSUED", Decimal("0.00"), Decimal("125.00"))
    assert list(payment.refunds.values_list("amount", flat=True)) == [Decimal("30.55"), Decimal("69.45")]


def test_a_refund_reopens_a_paid_invoice(invoice, biller):
    pay(invoice)

    services.payment_refund(payment=Payment.objects.get(), amount="25.00", reason="Goodwill", actor=biller)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == ("PARTIALLY_PAID", Decimal("25.00"))


def test_desk_payments_settle_and_cannot_overpay(invoice, biller):
    services.payment_record_desk(invoice=invoice, amount="25.00", method="CHECK", reference="1042", actor=biller)

    with pytest.raises(AmountExceedsDue):
        services.payment_record_desk(invoice=invoice, amount="100.01", method="CASH", actor=biller)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("PARTIALLY_PAID", Decimal("25.00"))


@pytest.mark.parametrize("values", [
    {"amount": Decimal("0.00")},
    {"amount": Decimal("-5.00")},
    {"amount_refunded": Decimal("125.01")},
    {"amount_refunded": Decimal("-0.01")},
])
def test_the_database_keeps_payment_amounts_in_bounds_bypassing_the_services(invoice, values):
    pay(invoice)

    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(invoice=invoice).update(**values)


def test_a_saved_answer_is_the_json_the_caller_got(invoice):
    answer = pay(invoice)

    saved = PaymentRequest.objects.get()
    assert (saved.status_code, json.loads(saved.body), saved.payment_id) == (201, answer.body, answer.payment.pk)
