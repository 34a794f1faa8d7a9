"""The Stripe adapter: PaymentIntents created and confirmed at once with the PaymentMethod the
portal's Stripe.js made (the card never touches our server), refunds by PaymentIntent, and
webhook events verified with the Stripe-Signature header (stripe.Webhook.construct_event).

Settings: STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, BILLING_CURRENCY. The stripe client's HTTP
layer is a constructor argument (http_client), which the tests replace with a fake: no test
reaches Stripe. Our payment's id is sent as Stripe's idempotency key, so a retried request is
charged once at Stripe too."""
import stripe
from django.conf import settings

from apps.billing.gateways import ChargeResult, Gateway, GatewayUnavailable, RefundResult
from apps.billing.money import to_minor_units


class StripeGateway(Gateway):
    name = "stripe"
    takes_card_number = False

    def __init__(self, *, api_key=None, http_client=None):
        self.client = stripe.StripeClient(api_key or settings.STRIPE_SECRET_KEY or "sk_test_unset", http_client=http_client,
                                          max_network_retries=0)

    def charge(self, *, amount, source, idempotency_key, description="", metadata=None):
        params = {
            "amount": to_minor_units(amount),
            "currency": settings.BILLING_CURRENCY,
            "payment_method": source,
            "confirm": True,
            "description": description,
            "metadata": metadata or {},
            # Cards only, no redirect: the portal pays in one step.
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        }
        try:
            intent = self.client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.CardError as exc:
            error = exc.error
            return ChargeResult(False, code=(getattr(error, "decline_code", None) or getattr(error, "code", None) or "card_declined"),
                                message=getattr(error, "message", None) or "The card was declined.")
        except stripe.StripeError as exc:
            raise GatewayUnavailable(str(exc.__class__.__name__)) from exc
        if intent.status != "succeeded":
            return ChargeResult(False, reference=intent.id, code=f"intent_{intent.status}",
                                message="The payment needs another step the portal does not support.")
        card = self._card(intent)
        return ChargeResult(True, reference=intent.id, card_brand=card.get("brand", ""), card_last4=card.get("last4", ""))

    @staticmethod
    def _card(intent):
        charge = getattr(intent, "latest_charge", None)
        details = getattr(charge, "payment_method_details", None) if charge is not None and not isinstance(charge, str) else None
        card = getattr(details, "card", None) if details is not None else None
        return {"brand": getattr(card, "brand", ""), "last4": getattr(card, "last4", "")} if card is not None else {}

    def refund(self, *, reference, amount, idempotency_key):
        try:
            refund = self.client.v1.refunds.create(params={"payment_intent": reference, "amount": to_minor_units(amount)},
                                                   options={"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as exc:
            return RefundResult(False, code=getattr(exc, "code", None) or "refund_refused", message=str(exc.user_message or "Refused."))
        except stripe.StripeError as exc:
            raise GatewayUnavailable(str(exc.__class__.__name__)) from exc
        return RefundResult(refund.status in ("succeeded", "pending"), reference=refund.id, code="" if refund.status != "failed" else "refund_failed")


def webhook_event(payload, signature_header, *, secret=None):
    """The verified event of a webhook delivery; ValueError for a bad payload and
    stripe.SignatureVerificationError for a missing, forged or stale signature."""
    return stripe.Webhook.construct_event(payload, signature_header or "", secret or settings.STRIPE_WEBHOOK_SECRET)
