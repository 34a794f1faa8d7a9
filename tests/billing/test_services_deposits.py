"""Deposits on procedure plans: billed as an invoice of their own, paid like any bill, and with
BILLING_DEPOSIT_REQUIRED on a pre-op requirement of the surgical case ("Deposit paid", consents'
pluggable checklist): the case cannot start until the deposit is paid; with the setting off
there is no such requirement. A paid deposit is credited once on the case's invoice."""
from decimal import Decimal

import pytest

from apps.billing import services
from apps.billing.gateways.test_gateway import SUCCESS
from apps.billing.models import Deposit, Invoice, InvoiceLine
from apps.consents import services as consents
from apps.consents.exceptions import OutOfOrder
from apps.consents.models import PlanEvent
from apps.core.exceptions import Conflict, ValidationFailed
from tests.consents.factories import Flow, preop_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow(patient, fees):
    preop_catalogue()
    return Flow(patient)


@pytest.fixture
def required(settings):
    settings.BILLING_DEPOSIT_REQUIRED = True


def pay_online(invoice, patient, key="deposit-1"):
    answer = services.payment_submit(owner=f"user:{patient.user_id}", key=key, invoice=invoice, amount=invoice.amount_due,
                                     source=SUCCESS, actor=patient.user, render=lambda payment: {"id": str(payment.pk)})
    assert answer.status == 201, answer.body
    return answer.payment


def clinic_items_done(flow):
    for item in flow.plan.preop_items.filter(source="clinic"):
        consents.preop_item_complete(item=item, actor=flow.surgeon_user)


def ready_to_start(flow):
    """Approved plan, signed consent, case booked, the clinic's checklist done."""
    flow.book()
    clinic_items_done(flow)
    return flow


def test_a_deposit_is_billed_as_an_issued_invoice_of_one_line(flow, biller):
    flow.draft()

    deposit = services.deposit_set(plan=flow.plan, amount="500.00", actor=biller)

    invoice = deposit.invoice
    assert (deposit.amount, deposit.patient_id, invoice.status, invoice.amount_due) == (
        Decimal("500.00"), flow.patient.pk, "ISSUED", Decimal("500.00"))
    assert invoice.number is not None and invoice.patient_id == flow.patient.pk
    line = invoice.lines.get()
    assert line.description.startswith("Deposit: procedure plan v1 (15823 Upper eyelid blepharoplasty")
    assert flow.patient.user.notifications.filter(kind="billing_invoice_issued").exists()


def test_with_deposits_required_the_case_cannot_start_until_the_deposit_is_paid(flow, biller, required):
    flow.draft()
    deposit = services.deposit_set(plan=flow.plan, amount="500.00", actor=biller)
    flow.approve()
    item = flow.plan.preop_items.get(code="deposit")
    assert (item.label, item.source, item.is_required, item.done_at) == ("Deposit paid", "billing", True, None)
    ready_to_start(flow)

    with pytest.raises(OutOfOrder) as refused:
        consents.case_start(case=flow.case, actor=flow.surgeon_user)
    assert (refused.value.status_code, refused.value.code, refused.value.extra["missing"]) == (409, "preop_incomplete", ["deposit"])
    flow.case.refresh_from_db()
    assert flow.case.status == "SCHEDULED"

    pay_online(deposit.invoice, flow.patient)

    item.refresh_from_db()
    invoice = Invoice.objects.get(pk=deposit.invoice_id)
    assert invoice.status == "PAID" and item.done_at == invoice.paid_at and item.note == f"Paid: {invoice.display_number}"
    assert consents.case_start(case=flow.case, actor=flow.surgeon_user).status == "IN_PROGRESS"


def test_with_the_setting_off_a_deposit_is_no_requirement(flow, biller, settings):
    settings.BILLING_DEPOSIT_REQUIRED = False
    flow.draft()
    deposit = services.deposit_set(plan=flow.plan, amount="500.00", actor=biller)
    flow.approve()

    assert not flow.plan.preop_items.filter(code="deposit").exists()
    ready_to_start(flow)
    assert consents.case_start(case=flow.case, actor=flow.surgeon_user).status == "IN_PROGRESS"
    assert Invoice.objects.get(pk=deposit.invoice_id).status == "ISSUED"  # still billed, just not blocking


def test_a_deposit_set_after_the_approval_goes_on_the_checklist_at_once(flow, biller, required):
    flow.sign()
    assert not flow.plan.preop_items.filter(code="deposit").exists()

    services.deposit_set(plan=flow.plan, amount="300.00", actor=biller)

    item = flow.plan.preop_items.get(code="deposit")
    assert item.done_at is None and "$300.00" in item.instructions
    assert PlanEvent.objects.filter(plan=flow.plan, reason="Pre-op: Deposit paid added").exists()
    flow.case_create()
    ready_to_start(flow)
    with pytest.raises(OutOfOrder):
        consents.case_start(case=flow.case, actor=flow.surgeon_user)


def test_a_deposit_paid_before_the_approval_is_already_met_on_the_checklist(flow, biller, patient, required):
    flow.draft()
    deposit = services.deposit_set(plan=flow.plan, amount="250.00", actor=biller)
    pay_online(deposit.invoice, patient)

    flow.approve()

    item = flow.plan.preop_items.get(code="deposit")
    assert item.done_at == Invoice.objects.get(pk=deposit.invoice_id).paid_at
    ready_to_start(flow)
    assert consents.case_start(case=flow.case, actor=flow.surgeon_user).status == "IN_PROGRESS"


def test_staff_cannot_tick_the_deposit_as_paid(flow, biller, required):
    flow.draft()
    services.deposit_set(plan=flow.plan, amount="500.00", actor=biller)
    flow.approve()
    item = flow.plan.preop_items.get(code="deposit")

    with pytest.raises(OutOfOrder) as refused:
        consents.preop_item_complete(item=item, actor=flow.surgeon_user)

    assert refused.value.code == "preop_item_managed"
    item.refresh_from_db()
    assert item.done_at is None


def test_an_unpaid_deposit_changes_by_a_void_and_a_new_invoice_and_a_paid_one_does_not(flow, biller, patient):
    flow.draft()
    first = services.deposit_set(plan=flow.plan, amount="500.00", actor=biller).invoice
    assert services.deposit_set(plan=flow.plan, amount="500.00", actor=biller).invoice_id == first.pk  # same: nothing

    deposit = services.deposit_set(plan=flow.plan, amount="400.00", actor=biller)

    first.refresh_from_db()
    assert first.status == "VOID" and deposit.invoice_id != first.pk and deposit.invoice.amount_due == Decimal("400.00")
    assert Deposit.objects.count() == 1
    pay_online(deposit.invoice, patient)
    with pytest.raises(Conflict) as refused:
        services.deposit_set(plan=flow.plan, amount="450.00", actor=biller)
    assert (refused.value.status_code, refused.value.code) == (409, "deposit_already_paid")
    assert Deposit.objects.get().amount == Decimal("400.00")


@pytest.mark.parametrize("amount", ["abc", "0", "-5.00", "1e20", "12\x00", "NaN", 1.5, "", None])
def test_a_bad_amount_is_a_400_naming_the_field(flow, biller, amount):
    flow.draft()
    with pytest.raises(ValidationFailed) as refused:
        services.deposit_set(plan=flow.plan, amount=amount, actor=biller)
    assert "amount" in refused.value.extra["fields"]
    assert not Deposit.objects.exists() and not Invoice.objects.exists()


def test_no_deposit_once_the_plan_is_cancelled_or_the_surgery_started(flow, biller, other_patient):
    flow.draft()
    consents.procedure_plan_cancel(plan=flow.plan, actor=flow.surgeon_user, reason="Patient moved away")
    with pytest.raises(Conflict) as refused:
        services.deposit_set(plan=flow.plan, amount="100.00", actor=biller)
    assert refused.value.code == "deposit_plan_closed"

    preop_catalogue()
    started = Flow(other_patient)
    started.start()
    with pytest.raises(Conflict) as refused:
        services.deposit_set(plan=started.plan, amount="100.00", actor=biller)
    assert refused.value.code == "deposit_case_started"
    assert not Deposit.objects.exists()


# --- the deposit and the surgery's invoice ---------------------------------------------------------

def _completed_with_paid_deposit(flow, biller, patient):
    flow.draft()
    deposit = services.deposit_set(plan=flow.plan, amount="500.00", actor=biller)
    pay_online(deposit.invoice, patient)
    flow.start()
    consents.case_complete(case=flow.case, actor=flow.surgeon_user)
    for charge in flow.case.charges.all():
        services.charge_approve(charge=charge, actor=biller)
    return deposit


def test_a_paid_deposit_is_credited_once_on_the_surgerys_invoice(flow, biller, patient):
    deposit = _completed_with_paid_deposit(flow, biller, patient)

    invoice = services.invoice_create(patient=patient, actor=biller)

    credit = invoice.lines.get(kind=InvoiceLine.Kind.CREDIT)
    paid = Invoice.objects.get(pk=deposit.invoice_id)
    assert (credit.amount, credit.description) == (Decimal("-500.00"), f"Deposit paid ({paid.display_number})")
    assert (invoice.subtotal, invoice.amount_due) == (Decimal("3150.50"), Decimal("3150.50"))
    deposit.refresh_from_db()
    assert deposit.applied_to_id == invoice.pk

    services.invoice_void(invoice=services.invoice_issue(invoice=invoice, actor=biller), actor=biller, reason="Wrong code")
    deposit.refresh_from_db()
    assert deposit.applied_to_id is None
    corrected = services.invoice_create(patient=patient, actor=biller)
    assert corrected.amount_due == Decimal("3150.50") and corrected.lines.filter(kind="CREDIT").count() == 1


def test_a_deposit_payment_is_not_refunded_once_credited_or_while_it_holds_the_surgery(flow, biller, patient, required):
    flow.draft()
    deposit = services.deposit_set(plan=flow.plan, amount="500.00", actor=biller)
    payment = pay_online(deposit.invoice, patient)
    flow.approve()

    with pytest.raises(Conflict) as refused:
        services.payment_refund(payment=payment, amount=None, reason="Asked", actor=biller)
    assert refused.value.code == "deposit_required_for_surgery"

    flow.start()
    consents.case_complete(case=flow.case, actor=flow.surgeon_user)
    for charge in flow.case.charges.all():
        services.charge_approve(charge=charge, actor=biller)
    services.invoice_create(patient=patient, actor=biller)
    with pytest.raises(Conflict) as refused:
        services.payment_refund(payment=payment, amount=None, reason="Asked", actor=biller)
    assert refused.value.code == "deposit_applied"
    payment.refresh_from_db()
    assert payment.amount_refunded == 0


def test_a_cancelled_plans_deposit_is_refunded(flow, biller, patient, required):
    flow.draft()
    deposit = services.deposit_set(plan=flow.plan, amount="500.00", actor=biller)
    payment = pay_online(deposit.invoice, patient)
    flow.approve()
    consents.procedure_plan_cancel(plan=flow.plan, actor=flow.surgeon_user, reason="Changed their mind")

    refund = services.payment_refund(payment=payment, amount=None, reason="Plan cancelled", actor=biller)

    assert refund.amount == Decimal("500.00")
    assert Invoice.objects.get(pk=deposit.invoice_id).status == "ISSUED"
