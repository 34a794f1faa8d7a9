"""The billing app's data: the fee schedule (fees.py), charges (charges.py), invoices
(invoices.py), insurance coverages and eligibility checks (insurance.py), payments, refunds
and payment requests (payments.py). Every status has a
TRANSITIONS table and an event model; only apps/billing/services changes these rows."""
from apps.billing.models.charges import Charge, ChargeEvent
from apps.billing.models.deposits import Deposit
from apps.billing.models.fees import ServiceCode, VisitTypeCode
from apps.billing.models.insurance import Coverage, EligibilityCheck, EligibilityCheckEvent, Payer
from apps.billing.models.invoices import Invoice, InvoiceCounter, InvoiceEvent, InvoiceLine
from apps.billing.models.payments import Payment, PaymentEvent, PaymentRequest, Refund, WebhookEvent

__all__ = [
    "Charge", "ChargeEvent", "ServiceCode", "VisitTypeCode", "Invoice", "InvoiceCounter", "InvoiceEvent", "InvoiceLine",
    "Payment", "PaymentEvent", "PaymentRequest", "Refund", "WebhookEvent", "Coverage", "EligibilityCheck",
    "EligibilityCheckEvent", "Payer", "Deposit",
]
