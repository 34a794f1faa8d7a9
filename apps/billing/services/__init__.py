"""Every write of the billing app: charges (charges.py), invoices (invoices.py), payments and
refunds (payments.py), coverages and eligibility (insurance.py), estimates (estimates.py). Each service is one transaction (an online payment: three short ones)."""
from apps.billing.services.charges import (
    charge_adjust, charge_approve, charge_void, charges_for_case, charges_for_visit, fee_for,
)
from apps.billing.services.deposits import deposit_set
from apps.billing.services.estimates import Estimate, estimate_from_result, estimate_visit
from apps.billing.services.insurance import (
    cached_check, coverage_add, coverage_remove, coverage_update, eligibility_check, eligibility_recheck_tomorrow,
)
from apps.billing.services.invoices import (
    invoice_add_credit, invoice_create, invoice_issue, invoice_set_insurance, invoice_void, invoices_mark_overdue, settle,
)
from apps.billing.services.payments import (
    Answer, payment_record_desk, payment_refund, payment_submit, stripe_event_handle,
)

__all__ = [
    "charge_adjust", "charge_approve", "charge_void", "charges_for_case", "charges_for_visit", "fee_for",
    "invoice_add_credit", "invoice_create", "invoice_issue", "invoice_set_insurance", "invoice_void",
    "invoices_mark_overdue", "settle", "Answer", "payment_record_desk", "payment_refund", "payment_submit",
    "stripe_event_handle", "Estimate", "estimate_from_result", "estimate_visit", "cached_check", "coverage_add",
    "coverage_remove", "coverage_update", "eligibility_check", "eligibility_recheck_tomorrow", "deposit_set",
]
