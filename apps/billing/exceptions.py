"""The billing app's domain errors (apps/core/exceptions.py renders them, pages and API alike)."""
from apps.core.exceptions import Conflict, DomainError


class AmountExceedsDue(Conflict):
    default_code = "amount_exceeds_due"
    default_message = "The amount is more than the invoice still owes."


class RefundExceedsPaid(Conflict):
    default_code = "refund_exceeds_paid"
    default_message = "The refund is more than what is left of the payment."


class InvoiceNotPayable(Conflict):
    default_code = "invoice_not_payable"
    default_message = "This invoice cannot be paid now."


class InvoiceHasPayments(Conflict):
    default_code = "invoice_has_payments"
    default_message = "This invoice holds payments: refund them before voiding it."


class PaymentInProgress(Conflict):
    default_code = "payment_in_progress"
    default_message = "A payment with this Idempotency-Key is still being processed. Try again in a moment."


class IdempotencyKeyMismatch(DomainError):
    status_code = 422
    default_code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used with different parameters."


class PaymentDeclined(DomainError):
    status_code = 402
    default_code = "card_declined"
    default_message = "The card was declined."
