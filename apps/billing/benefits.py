"""Reading a stored eligibility result (EligibilityCheck.result, the 271 as plain JSON): the
benefit of a kind for a service type, and the summary the pages show (copay, deductible and
what is left of it, coinsurance, out of pocket left, prior authorisation)."""
from decimal import Decimal

from apps.billing.x12.codes import REMAINING_PERIODS

COPAY, COINSURANCE, DEDUCTIBLE, OUT_OF_POCKET = "B", "A", "C", "G"


def benefit(result, info, service_type, *, remaining=None):
    """The first individual-level, in-network (then network-unspecified) benefit of `info` for
    `service_type`, falling back to the plan-wide 30; None when the payer sent none."""
    rows = [b for b in (result or {}).get("benefits", []) if b["info"] == info and b.get("coverage_level") in ("", "IND", None)]
    if remaining is not None:
        rows = [b for b in rows if (b.get("time_period") in REMAINING_PERIODS) == remaining]
    for wanted in dict.fromkeys((service_type, "30")):
        for network in (True, None):
            for row in rows:
                if wanted in row.get("service_types", []) and row.get("in_network") is network:
                    return row
    return None


def number(row, key="amount"):
    if row is None or row.get(key) in (None, ""):
        return None
    return Decimal(row[key])


def summary(result, service_type="98"):
    """{copay, deductible, deductible_remaining, coinsurance_percent, out_of_pocket_remaining,
    surgery_needs_authorization, plan} of a stored result, each None when not given."""
    if not result:
        return None
    coinsurance = number(benefit(result, COINSURANCE, service_type), "percent")
    plan = next((b.get("plan") for b in result.get("benefits", []) if b.get("plan")), "")
    return {
        "copay": number(benefit(result, COPAY, service_type)),
        "deductible": number(benefit(result, DEDUCTIBLE, service_type, remaining=False)),
        "deductible_remaining": number(benefit(result, DEDUCTIBLE, service_type, remaining=True)),
        "coinsurance_percent": None if coinsurance is None else (coinsurance * 100).normalize(),
        "out_of_pocket_remaining": number(benefit(result, OUT_OF_POCKET, service_type, remaining=True)),
        "surgery_needs_authorization": any(b.get("authorization_required") for b in result.get("benefits", [])
                                           if "2" in b.get("service_types", [])),
        "plan": plan,
    }
