"""The built-in test gateway: no network, deterministic answers by card number (the numbers
Stripe documents for its test mode):

    4242 4242 4242 4242   succeeds
    4000 0000 0000 0002   declined (card_declined)
    4000 0000 0000 9995   declined (insufficient_funds)

Any other number passing the Luhn check is declined as card_not_supported; one that fails it
as incorrect_number. Charges are remembered in the process, so a refund can be checked against
what was charged; the same idempotency key answers the first result (as a real gateway does)."""
import threading
import uuid

from apps.billing.gateways import ChargeResult, Gateway, RefundResult
from apps.billing.money import to_minor_units

SUCCESS = "4242424242424242"
DECLINE = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
TEST_CARDS = {
    SUCCESS: ("ok", "Approved."),
    DECLINE: ("card_declined", "The card was declined."),
    INSUFFICIENT_FUNDS: ("insufficient_funds", "The card has insufficient funds."),
}


def luhn_ok(number):
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, digit in enumerate(int(d) for d in reversed(number)):
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def normalise(number):
    return "".join(ch for ch in str(number or "") if not ch.isspace() and ch != "-")


class TestGateway(Gateway):
    name = "test"
    takes_card_number = True

    def __init__(self):
        self._lock = threading.Lock()
        self.charges = {}  # reference -> [minor units charged, minor units refunded]
        self._by_key = {}
        self.calls = 0

    def charge(self, *, amount, source, idempotency_key, description="", metadata=None):
        number = normalise(source)
        with self._lock:
            self.calls += 1
            if idempotency_key in self._by_key:
                return self._by_key[idempotency_key]
            if not luhn_ok(number):
                result = ChargeResult(False, code="incorrect_number", message="The card number is not valid.")
            else:
                code, message = TEST_CARDS.get(number, ("card_not_supported", "Use one of the documented test cards."))
                if code == "ok":
                    reference = f"test_ch_{uuid.uuid4().hex[:20]}"
                    self.charges[reference] = [to_minor_units(amount), 0]
                    result = ChargeResult(True, reference=reference, card_brand="visa", card_last4=number[-4:])
                else:
                    result = ChargeResult(False, code=code, message=message, card_brand="visa", card_last4=number[-4:])
            self._by_key[idempotency_key] = result
            return result

    def refund(self, *, reference, amount, idempotency_key):
        with self._lock:
            entry = self.charges.get(reference)
            if entry is None:
                # Charged by another process (the demo server): the test gateway trusts the caller.
                return RefundResult(True, reference=f"test_re_{uuid.uuid4().hex[:20]}")
            minor = to_minor_units(amount)
            if entry[1] + minor > entry[0]:
                return RefundResult(False, code="amount_too_large", message="More than is left of the charge.")
            entry[1] += minor
            return RefundResult(True, reference=f"test_re_{uuid.uuid4().hex[:20]}")
