"""The gateways: the test gateway's documented cards; the Stripe adapter with its HTTP layer
replaced (no network): PaymentIntents confirmed, declines, refunds, idempotency keys sent;
Stripe webhooks verified by Stripe-Signature (valid, forged, stale, replayed)."""
import hashlib
import hmac
import json
import time
import urllib.parse
from decimal import Decimal

import pytest
import stripe

from apps.billing import services
from apps.billing.gateways import GatewayUnavailable
from apps.billing.gateways.stripe_gateway import StripeGateway
from apps.billing.gateways.test_gateway import DECLINE, INSUFFICIENT_FUNDS, SUCCESS, TestGateway, luhn_ok
from apps.billing.models import Invoice, Payment, WebhookEvent
from tests.billing.factories import issued_invoice


def test_the_test_gateways_documented_cards():
    gateway = TestGateway()

    ok = gateway.charge(amount=Decimal("10.00"), source="4242 4242 4242 4242", idempotency_key="a")
    declined = gateway.charge(amount=Decimal("10.00"), source=DECLINE, idempotency_key="b")
    poor = gateway.charge(amount=Decimal("10.00"), source=INSUFFICIENT_FUNDS, idempotency_key="c")

    assert (ok.ok, ok.card_last4, ok.reference.startswith("test_ch_")) == (True, "4242", True)
    assert (declined.ok, declined.code) == (False, "card_declined")
    assert (poor.ok, poor.code) == (False, "insufficient_funds")
    assert all(luhn_ok(n) for n in (SUCCESS, DECLINE, INSUFFICIENT_FUNDS))


def test_the_test_gateway_answers_a_repeated_key_with_the_first_result_and_refunds_within_the_charge():
    gateway = TestGateway()
    first = gateway.charge(amount=Decimal("10.00"), source=SUCCESS, idempotency_key="same")

    assert gateway.charge(amount=Decimal("10.00"), source=SUCCESS, idempotency_key="same") == first
    assert gateway.refund(reference=first.reference, amount=Decimal("4.00"), idempotency_key="r1").ok
    assert not gateway.refund(reference=first.reference, amount=Decimal("6.01"), idempotency_key="r2").ok


class FakeStripeHTTP(stripe.HTTPClient):
    """Stripe's HTTP layer, answering from a script and keeping every request."""

    name = "fake"

    def __init__(self, answers):
        super().__init__()
        self.answers = list(answers)
        self.requests = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append({"method": method, "url": url, "headers": dict(headers or {}),
                              "data": urllib.parse.parse_qs(post_data.decode() if isinstance(post_data, bytes) else post_data or "")})
        status, body = self.answers.pop(0)
        return json.dumps(body), status, {"request-id": "req_fake"}


def _intent(status="succeeded"):
    return {"id": "pi_123", "object": "payment_intent", "status": status, "amount": 12500, "currency": "usd",
            "latest_charge": {"id": "ch_1", "object": "charge",
                              "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}}}}


def test_the_stripe_adapter_creates_and_confirms_a_payment_intent(settings):
    settings.BILLING_CURRENCY = "usd"
    http = FakeStripeHTTP([(200, _intent())])
    gateway = StripeGateway(api_key="sk_test_x", http_client=http)

    result = gateway.charge(amount=Decimal("125.00"), source="pm_card_visa", idempotency_key="pay-1", description="INV-1")

    assert (result.ok, result.reference, result.card_last4, result.card_brand) == (True, "pi_123", "4242", "visa")
    sent = http.requests[0]
    assert sent["url"].endswith("/v1/payment_intents") and sent["method"] == "post"
    assert sent["data"]["amount"] == ["12500"] and sent["data"]["confirm"] == ["true"]
    assert sent["data"]["payment_method"] == ["pm_card_visa"]
    assert sent["headers"]["Idempotency-Key"] == "pay-1"


def test_a_stripe_card_error_is_a_declined_result():
    error = {"error": {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
                       "message": "Your card has insufficient funds."}}
    gateway = StripeGateway(api_key="sk_test_x", http_client=FakeStripeHTTP([(402, error)]))

    result = gateway.charge(amount=Decimal("5.00"), source="pm_x", idempotency_key="k")

    assert (result.ok, result.code, result.message) == (False, "insufficient_funds", "Your card has insufficient funds.")


def test_a_stripe_server_error_is_gateway_unavailable():
    gateway = StripeGateway(api_key="sk_test_x", http_client=FakeStripeHTTP([(500, {"error": {"type": "api_error", "message": "x"}})]))

    with pytest.raises(GatewayUnavailable):
        gateway.charge(amount=Decimal("5.00"), source="pm_x", idempotency_key="k")


def test_a_stripe_refund_by_payment_intent():
    http = FakeStripeHTTP([(200, {"id": "re_1", "object": "refund", "status": "succeeded", "amount": 500})])

    result = StripeGateway(api_key="sk_test_x", http_client=http).refund(reference="pi_123", amount=Decimal("5.00"),
                                                                         idempotency_key="r")

    assert (result.ok, result.reference) == (True, "re_1")
    assert http.requests[0]["data"] == {"payment_intent": ["pi_123"], "amount": ["500"]}


# --- webhooks --------------------------------------------------------------------------------

SECRET = "whsec_test_secret"


def _signed(payload, *, secret=SECRET, at=None):
    at = int(at if at is not None else time.time())
    signature = hmac.new(secret.encode(), f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={signature}"


def _event(payment, kind="payment_intent.succeeded", event_id="evt_1"):
    return json.dumps({"id": event_id, "object": "event", "type": kind,
                       "data": {"object": {"id": "pi_999", "object": "payment_intent", "metadata": {"payment": str(payment.pk)}}}})


@pytest.fixture
def pending_payment(db, patient, fees, biller):
    invoice = issued_invoice(patient, biller)
    return Payment.objects.create(invoice=invoice, patient=patient, method="CARD_ONLINE", amount=Decimal("125.00"), gateway="stripe")


@pytest.fixture
def stripe_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def _post(client, payload, signature):
    return client.post("/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def test_a_signed_webhook_settles_a_pending_payment_once(client, stripe_secret, pending_payment):
    payload = _event(pending_payment)

    first = _post(client, payload, _signed(payload))
    replay = _post(client, payload, _signed(payload))

    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (replay.status_code, replay.json()["duplicate"]) == (200, True)
    pending_payment.refresh_from_db()
    assert (pending_payment.status, pending_payment.gateway_reference) == ("SUCCEEDED", "pi_999")
    assert Invoice.objects.get(pk=pending_payment.invoice_id).status == "PAID"
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize("signature", [
    "", "t=1,v1=deadbeef", "garbage",
])
def test_a_forged_or_missing_signature_is_400_and_changes_nothing(client, stripe_secret, pending_payment, signature):
    payload = _event(pending_payment)

    response = _post(client, payload, signature)

    assert (response.status_code, response.json()["code"]) == (400, "bad_signature")
    assert not WebhookEvent.objects.exists()
    pending_payment.refresh_from_db()
    assert pending_payment.status == "PENDING"


def test_a_signature_by_another_secret_or_too_old_is_400(client, stripe_secret, pending_payment):
    payload = _event(pending_payment)

    other = _post(client, payload, _signed(payload, secret="whsec_other"))
    stale = _post(client, payload, _signed(payload, at=time.time() - 3600))

    assert (other.status_code, stale.status_code) == (400, 400)
    assert not WebhookEvent.objects.exists()


def test_a_failed_intent_webhook_fails_the_payment(client, stripe_secret, pending_payment):
    payload = json.dumps({"id": "evt_2", "object": "event", "type": "payment_intent.payment_failed",
                          "data": {"object": {"id": "pi_9", "object": "payment_intent", "metadata": {"payment": str(pending_payment.pk)},
                                              "last_payment_error": {"code": "card_declined", "message": "Declined."}}}})

    assert _post(client, payload, _signed(payload)).status_code == 200

    pending_payment.refresh_from_db()
    assert (pending_payment.status, pending_payment.failure_code) == ("FAILED", "card_declined")


def test_payments_through_the_stripe_gateway_end_to_end(settings, patient, fees, biller, monkeypatch):
    from apps.billing import gateways

    settings.BILLING_PAYMENT_GATEWAY = "stripe"
    invoice = issued_invoice(patient, biller)
    http = FakeStripeHTTP([(200, _intent())])
    gateways._instances["stripe"] = StripeGateway(api_key="sk_test_x", http_client=http)

    answer = services.payment_submit(owner="user:1", key="k", invoice=invoice, amount="125.00", source="pm_card_visa",
                                     actor=None, render=lambda p: {"id": str(p.pk)})

    payment = Payment.objects.get()
    assert (answer.status, payment.gateway, payment.gateway_reference) == (201, "stripe", "pi_123")
    assert http.requests[0]["headers"]["Idempotency-Key"] == str(payment.pk)
