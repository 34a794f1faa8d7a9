"""The payment-gateway interface. A gateway charges an amount to a payment source and refunds
part or all of a charge; it never raises for a refusal (a decline is a result), only for a
failure to reach it (GatewayUnavailable). Which one is active is a setting:
BILLING_PAYMENT_GATEWAY = "test" (the default: apps/billing/gateways/test_gateway.py, no
network) or "stripe" (apps/billing/gateways/stripe_gateway.py, PaymentIntents).

    gateway = active_gateway()
    result = gateway.charge(amount=Decimal("25.00"), source="4242424242424242",
                            idempotency_key=str(payment.pk), description="Invoice INV-000001")
    if result.ok: result.reference ...  else: result.code, result.message"""
import abc
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


class GatewayUnavailable(Exception):
    """The gateway could not be reached or answered nonsense: the outcome is unknown."""


@dataclass(frozen=True)
class ChargeResult:
    ok: bool
    reference: str = ""
    code: str = ""
    message: str = ""
    card_brand: str = ""
    card_last4: str = ""


@dataclass(frozen=True)
class RefundResult:
    ok: bool
    reference: str = ""
    code: str = ""
    message: str = ""


class Gateway(abc.ABC):
    name = ""
    # Whether the portal's card form posts a card number (the test gateway) or a token made
    # by the gateway's own script (Stripe: a PaymentMethod id).
    takes_card_number = False

    @abc.abstractmethod
    def charge(self, *, amount, source, idempotency_key, description="", metadata=None):
        """Charge `amount` (Decimal) to `source`: a ChargeResult, or GatewayUnavailable."""

    @abc.abstractmethod
    def refund(self, *, reference, amount, idempotency_key):
        """Refund `amount` of the charge `reference`: a RefundResult, or GatewayUnavailable."""


GATEWAYS = {
    "test": "apps.billing.gateways.test_gateway.TestGateway",
    "stripe": "apps.billing.gateways.stripe_gateway.StripeGateway",
}
_instances = {}


def gateway_named(name):
    if name not in GATEWAYS:
        raise LookupError(f"Unknown payment gateway {name!r} (one of {', '.join(GATEWAYS)}).")
    if name not in _instances:
        _instances[name] = import_string(GATEWAYS[name])()
    return _instances[name]


def active_gateway():
    return gateway_named(settings.BILLING_PAYMENT_GATEWAY)


def reset():
    """Forget the built gateways (tests change settings)."""
    _instances.clear()
