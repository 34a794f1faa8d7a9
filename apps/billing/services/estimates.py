"""What a patient will likely owe for a visit, from the fee schedule and a fresh eligibility
result: shown when they book or accept a slot, before they confirm.

    copay for the service type (in network)           -> the copay (never more than the fee)
    otherwise deductible left, then coinsurance       -> min(fee, deductible left)
                                                         + coinsurance x the rest
    capped by what is left of the out-of-pocket maximum
    no active coverage (none on file, inactive,
    rejected, the check failed)                       -> the full fee (self-pay)

Money is Decimal, rounded half-up to the cent once, at the end of each step."""
from dataclasses import dataclass

from apps.billing.benefits import COINSURANCE, COPAY, DEDUCTIBLE, OUT_OF_POCKET, benefit, number
from apps.billing.models import Coverage, EligibilityCheck
from apps.billing.money import ZERO, cents
from apps.billing.services.charges import fee_for, visit_type_codes
from apps.billing.services.insurance import eligibility_check

# The service type an office visit is asked and estimated under (EB03 98; plan-wide 30 falls back).
OFFICE_VISIT = "98"


@dataclass(frozen=True)
class Estimate:
    fee: object
    patient_amount: object
    insurance_amount: object
    basis: str  # copay, deductible_coinsurance, self_pay
    explanation: str
    check: EligibilityCheck | None = None
    copay: object = None
    deductible_remaining: object = None
    coinsurance: object = None


def estimate_from_result(*, fee, result, service_type=OFFICE_VISIT, check=None):
    """The Estimate of `fee` under a stored 271 result (pure arithmetic; tests call it direct)."""
    fee = cents(fee)
    if not result or result.get("status") != "ACTIVE":
        return Estimate(fee=fee, patient_amount=fee, insurance_amount=ZERO, basis="self_pay", check=check,
                        explanation="No active insurance was confirmed: the estimate is the full fee.")
    copay = number(benefit(result, COPAY, service_type))
    if copay is not None:
        patient = cents(min(copay, fee))
        return Estimate(fee=fee, patient_amount=patient, insurance_amount=cents(fee - patient), basis="copay", check=check,
                        copay=cents(copay), explanation=f"Your plan's copay for this visit is ${cents(copay)}.")
    left = number(benefit(result, DEDUCTIBLE, service_type, remaining=True))
    if left is None:
        left = number(benefit(result, DEDUCTIBLE, service_type, remaining=False)) or ZERO
    share = number(benefit(result, COINSURANCE, service_type), "percent") or ZERO
    toward_deductible = cents(min(fee, left))
    patient = cents(toward_deductible + (fee - toward_deductible) * share)
    out_of_pocket_left = number(benefit(result, OUT_OF_POCKET, service_type, remaining=True))
    if out_of_pocket_left is not None:
        patient = cents(min(patient, out_of_pocket_left))
    percent = cents(share * 100).normalize()
    explanation = (f"${toward_deductible} toward your deductible (${cents(left)} left), then {percent:f}% coinsurance"
                   f" on the rest.")
    return Estimate(fee=fee, patient_amount=patient, insurance_amount=cents(fee - patient), basis="deductible_coinsurance",
                    check=check, deductible_remaining=cents(left), coinsurance=share, explanation=explanation)


def fee_for_visit_type(visit_type, *, on_date):
    """The fee schedule's price of the codes a visit type bills (each code x its quantity)."""
    total = ZERO
    for code, quantity, _ in visit_type_codes(visit_type):
        row = fee_for(code, on_date)
        total += (row.price if row is not None else ZERO) * quantity
    return cents(total)


def estimate_visit(*, patient, visit_type, on_date, actor, service_type=OFFICE_VISIT):
    """The estimate of a visit of `visit_type` on `on_date` for `patient`: the fee from the
    schedule and the primary coverage's eligibility (a fresh one: the 24-hour cache or a new
    check). A patient with no active primary coverage pays the fee."""
    fee = fee_for_visit_type(visit_type, on_date=on_date)
    coverage = (Coverage.objects.filter(patient=patient, is_active=True, priority=Coverage.Priority.PRIMARY)
                .select_related("payer", "patient").first())
    if coverage is None or not coverage.covers(on_date):
        return estimate_from_result(fee=fee, result=None, service_type=service_type)
    check = eligibility_check(coverage=coverage, actor=actor, service_date=on_date)
    return estimate_from_result(fee=fee, result=check.result, service_type=service_type, check=check)
