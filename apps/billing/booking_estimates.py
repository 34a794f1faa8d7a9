"""Billing's answer to scheduling's booking_estimate hook (apps/scheduling/hooks.py): the
patient's estimated share of a visit, shown on the portal's booking confirmation and
accept-an-offer pages before they confirm. Only calls the estimates service (the fee schedule
and a fresh eligibility result: the 24-hour cache, or a new check through the clearinghouse)."""
from apps.billing.models import EligibilityCheck
from apps.billing.services import estimate_visit

CHECK_FAILED = ("We could not reach your insurance plan just now, so this is the full fee; "
                "the front desk can check your coverage again before the visit.")


def booking_estimate(*, patient, visit_type, slot, actor):
    """{"patient_amount", "fee", "insurance_amount", "basis", "explanation"} for a visit of
    `visit_type` in `slot`, or None when the visit type has no priced codes (nothing to show)."""
    estimate = estimate_visit(patient=patient, visit_type=visit_type, on_date=slot.local_start().date(), actor=actor)
    if not estimate.fee:
        return None
    explanation = estimate.explanation
    if estimate.check is not None and estimate.check.status == EligibilityCheck.Status.FAILED:
        explanation = CHECK_FAILED
    return {"patient_amount": estimate.patient_amount, "fee": estimate.fee, "insurance_amount": estimate.insurance_amount,
            "basis": estimate.basis, "explanation": explanation}
