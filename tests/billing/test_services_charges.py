"""Charges: once per completed visit and case, also when completion runs twice; telehealth's
place of service and modifier; adjustments keep their reason."""
from decimal import Decimal

import pytest

from apps.audit.models import AccessLog
from apps.billing import hooks, services
from apps.billing.models import Charge, ChargeEvent
from apps.billing.receivers import visit_transition
from apps.core.exceptions import InvalidTransition, ValidationFailed
from apps.core.transitions import Change
from apps.scheduling.services import visit_complete
from tests.billing.factories import completed_visit

pytestmark = pytest.mark.django_db


def test_completing_a_visit_charges_its_codes_at_the_fee_schedule_price(patient, fees):
    visit = completed_visit(patient, codes=("99214", "36415"))

    charges = list(Charge.objects.filter(visit=visit).order_by("line"))
    assert [(c.code, c.unit_price, c.amount, c.status, c.place_of_service) for c in charges] == [
        ("99214", Decimal("185.50"), Decimal("185.50"), "PENDING_REVIEW", "11"),
        ("36415", Decimal("12.33"), Decimal("12.33"), "PENDING_REVIEW", "11"),
    ]
    assert all(c.patient_id == patient.pk for c in charges)
    assert ChargeEvent.objects.filter(charge__visit=visit, reason="Charge created").count() == 2


def test_completing_twice_is_refused_and_charges_stay_single(patient, fees):
    visit = completed_visit(patient)

    with pytest.raises(InvalidTransition):
        visit_complete(visit=visit, actor=None)

    assert Charge.objects.filter(visit=visit).count() == 1


def test_a_retried_completion_listener_makes_no_second_charge(patient, fees):
    visit = completed_visit(patient, codes=("99213", "36415"))

    # The listener running again (a retried task, a replayed event) for the same visit.
    visit_transition(Change(visit, "IN_PROGRESS", "COMPLETED", None, None, True, "transition"))
    services.charges_for_visit(visit=visit)

    assert Charge.objects.filter(visit=visit).count() == 2


def test_the_database_refuses_a_second_charge_for_the_same_visit_line(patient, fees):
    from django.db import IntegrityError, transaction

    visit = completed_visit(patient)
    first = Charge.objects.get(visit=visit)

    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.create(patient=patient, source="VISIT", visit=visit, line=first.line, code="99213",
                              description="again", unit_price=1, amount=1, service_date=first.service_date)


def test_a_virtual_visit_without_telehealth_is_billed_from_home_with_modifier_95(patient, fees):
    visit = completed_visit(patient, mode="VIRTUAL")

    charge = Charge.objects.get(visit=visit)
    assert (charge.place_of_service, charge.modifiers) == ("10", ["95"])


def test_telehealth_answers_place_of_service_02_and_modifier_95(patient, fees):
    def telehealth(*, visit):
        return {"place_of_service": "02", "modifiers": ["95"]} if visit.mode == "VIRTUAL" else None

    hooks.visit_billing_context.connect(telehealth)
    try:
        visit = completed_visit(patient, mode="VIRTUAL")
    finally:
        hooks.visit_billing_context.disconnect(telehealth)

    charge = Charge.objects.get(visit=visit)
    assert (charge.place_of_service, charge.modifiers) == ("02", ["95"])


def test_a_code_missing_from_the_fee_schedule_waits_for_review_at_zero(patient, fees):
    visit = completed_visit(patient, codes=("99499",))

    charge = Charge.objects.get(visit=visit)
    assert (charge.unit_price, charge.service_code, charge.status) == (Decimal("0.00"), None, "PENDING_REVIEW")
    assert "not in the fee schedule" in charge.description


def test_a_visit_type_without_a_billing_mapping_uses_its_default_codes(patient, fees, provider_user):
    from tests.consents.factories import verified, visit
    from tests.scheduling.factories import ProviderFactory, VisitTypeFactory

    provider = ProviderFactory()
    v = visit(patient, provider, VisitTypeFactory(default_billing_codes=["99214"]), status="IN_PROGRESS")
    visit_complete(visit=v, actor=verified(provider.user))

    assert list(Charge.objects.filter(visit=v).values_list("code", "amount")) == [("99214", Decimal("185.50"))]


def test_adjusting_a_charge_keeps_the_reason_and_the_before_and_after(patient, fees, biller):
    charge = Charge.objects.get(visit=completed_visit(patient))

    services.charge_adjust(charge=charge, actor=biller, reason="Second unit documented", quantity=2, modifiers=["25"])

    charge.refresh_from_db()
    assert (charge.quantity, charge.amount, charge.modifiers) == (2, Decimal("250.00"), ["25"])
    event = charge.events.get(reason="Second unit documented")
    assert event.actor == biller
    assert event.data["adjustment"] == {"before": {"unit_price": "125.00", "quantity": 1, "modifiers": []},
                                        "after": {"unit_price": "125.00", "quantity": 2, "modifiers": ["25"]}}
    assert AccessLog.objects.filter(object_type="billing.charge", object_id=str(charge.pk)).exists()


def test_an_adjustment_needs_a_reason_and_an_allowed_modifier(patient, fees, biller):
    charge = Charge.objects.get(visit=completed_visit(patient))

    with pytest.raises(ValidationFailed) as no_reason:
        services.charge_adjust(charge=charge, actor=biller, reason=" ", quantity=2)
    with pytest.raises(ValidationFailed) as bad_modifier:
        services.charge_adjust(charge=charge, actor=biller, reason="x", modifiers=["RT"])

    assert "reason" in no_reason.value.extra["fields"]
    assert "modifiers" in bad_modifier.value.extra["fields"]
    charge.refresh_from_db()
    assert (charge.quantity, charge.modifiers) == (1, [])


def test_an_invoiced_charge_can_no_longer_be_adjusted(patient, fees, biller):
    from apps.core.exceptions import Conflict

    charge = Charge.objects.get(visit=completed_visit(patient))
    services.charge_approve(charge=charge, actor=biller)
    services.invoice_create(patient=patient, actor=biller)

    with pytest.raises(Conflict) as refused:
        services.charge_adjust(charge=charge, actor=biller, reason="late", quantity=3)

    assert refused.value.code == "charge_not_adjustable"


def test_an_adjustment_past_the_largest_amount_is_refused_not_overflowed(patient, fees, biller):
    charge = Charge.objects.get(visit=completed_visit(patient))

    with pytest.raises(ValidationFailed) as too_much:
        services.charge_adjust(charge=charge, actor=biller, reason="typo", unit_price=Decimal("9999999999.99"), quantity=999)

    assert "unit_price" in too_much.value.extra["fields"]
    charge.refresh_from_db()
    assert (charge.quantity, charge.amount) == (1, Decimal("125.00"))
