"""The estimate shown at booking: copay, or deductible then coinsurance (capped by the
out-of-pocket left), or the full fee without active coverage; Decimal and half-up cents."""
import datetime
from decimal import Decimal

import pytest

from apps.billing import services
from apps.billing.models import VisitTypeCode
from apps.billing.x12 import parse_271
from tests.billing.factories import coverage
from tests.billing.test_x12 import fixture
from tests.scheduling.factories import VisitTypeFactory


def result(name):
    return parse_271(fixture(name))[0].as_dict()


def test_a_copay_plan_owes_the_copay():
    estimate = services.estimate_from_result(fee=Decimal("125.00"), result=result("271_active_copay.x12"))

    assert (estimate.basis, estimate.patient_amount, estimate.insurance_amount) == ("copay", Decimal("25.00"), Decimal("100.00"))
    assert estimate.explanation == "Your plan's copay for this visit is $25.00."


def test_a_copay_is_never_more_than_the_fee():
    estimate = services.estimate_from_result(fee=Decimal("12.33"), result=result("271_active_copay.x12"))

    assert estimate.patient_amount == Decimal("12.33") and estimate.insurance_amount == Decimal("0.00")


def test_without_a_copay_the_deductible_left_then_coinsurance_rounded_half_up():
    # $100 of deductible left, then 30% of the remaining 85.55 = 25.665 -> 25.67.
    estimate = services.estimate_from_result(fee=Decimal("185.55"), result=result("271_deductible_coinsurance.x12"))

    assert estimate.basis == "deductible_coinsurance"
    assert estimate.patient_amount == Decimal("125.67") and estimate.insurance_amount == Decimal("59.88")
    assert estimate.explanation == "$100.00 toward your deductible ($100.00 left), then 30% coinsurance on the rest."


def test_the_out_of_pocket_left_caps_what_the_patient_owes():
    data = result("271_deductible_coinsurance.x12")
    for benefit in data["benefits"]:
        if benefit["info"] == "G":
            benefit["amount"] = "40.10"

    estimate = services.estimate_from_result(fee=Decimal("2400.00"), result=data)

    assert estimate.patient_amount == Decimal("40.10")


@pytest.mark.parametrize("name", ["271_inactive.x12", "271_member_not_found.x12", None])
def test_without_active_coverage_the_estimate_is_the_full_fee(name):
    estimate = services.estimate_from_result(fee=Decimal("185.50"), result=result(name) if name else None)

    assert (estimate.basis, estimate.patient_amount) == ("self_pay", Decimal("185.50"))


@pytest.mark.django_db
def test_a_visit_estimate_prices_the_visit_type_and_uses_a_fresh_check(patient, fees, biller):
    visit_type = VisitTypeFactory(default_billing_codes=[])
    VisitTypeCode.objects.create(visit_type=visit_type, code="99214", position=1)
    VisitTypeCode.objects.create(visit_type=visit_type, code="36415", position=2, quantity=2)
    coverage(patient, member_id="HDHP1234")

    estimate = services.estimate_visit(patient=patient, visit_type=visit_type, on_date=datetime.date(2026, 12, 10), actor=biller)

    # 185.50 + 2 x 12.33 = 210.16, all of it toward the $2100 deductible left.
    assert estimate.fee == Decimal("210.16") and estimate.patient_amount == Decimal("210.16")
    assert estimate.basis == "deductible_coinsurance" and estimate.check.outcome == "ACTIVE"
    again = services.estimate_visit(patient=patient, visit_type=visit_type, on_date=datetime.date(2026, 12, 10), actor=biller)
    assert again.check.pk == estimate.check.pk  # the 24-hour cache


@pytest.mark.django_db
def test_a_patient_without_coverage_is_estimated_the_fee_without_a_check(patient, fees, biller):
    visit_type = VisitTypeFactory(default_billing_codes=["99213"])

    estimate = services.estimate_visit(patient=patient, visit_type=visit_type, on_date=datetime.date(2026, 12, 10), actor=biller)

    assert (estimate.basis, estimate.patient_amount, estimate.check) == ("self_pay", Decimal("125.00"), None)
