"""Deposits through the pages and the API: billing staff set a plan's deposit on the patient's
billing page (form errors are 400, nothing written); the patient pays it in the portal like any
bill; with BILLING_DEPOSIT_REQUIRED on the case start answers 409 preop_incomplete through the
consents API until then, and staff cannot tick the deposit through the API or the staff page;
who may set a deposit."""
from decimal import Decimal

import pytest

from apps.billing import services
from apps.billing.models import Deposit, Invoice
from apps.consents import services as consents
from tests.conftest import api_keyed_client
from tests.consents.factories import Flow, preop_catalogue
from tests.scheduling.staff_pages import assert_login_redirect, assert_portal_redirect

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def flow(patient, fees):
    preop_catalogue()
    flow = Flow(patient)
    flow.draft()
    return flow


def deposit_url(flow):
    return f"/staff/billing/plans/{flow.plan.pk}/deposit/"


def test_billing_staff_set_a_deposit_on_the_patients_billing_page(client_for, billing_user, flow):
    client = client_for(billing_user)
    page = client.get(f"/staff/billing/patients/{flow.patient.pk}/")
    assert page.status_code == 200 and b"Procedure plan deposits" in page.content and b"no deposit" in page.content

    response = client.post(deposit_url(flow), {"amount": "750.00"})

    assert response.status_code == 302 and response["Location"] == f"/staff/billing/patients/{flow.patient.pk}/"
    deposit = Deposit.objects.get(plan=flow.plan)
    assert (deposit.amount, deposit.invoice.status, deposit.created_by_id) == (Decimal("750.00"), "ISSUED", billing_user.pk)
    page = client.get(f"/staff/billing/patients/{flow.patient.pk}/")
    assert b"deposit $750.00" in page.content and deposit.invoice.display_number.encode() in page.content


@pytest.mark.parametrize("amount", ["", "abc", "0", "-1", "10000000000000", "5\x00", "1" * 10000])
def test_a_bad_deposit_amount_is_a_form_error_and_writes_nothing(client_for, billing_user, flow, amount):
    response = client_for(billing_user).post(deposit_url(flow), {"amount": amount})

    assert response.status_code == 400
    assert response.context["deposit_form"].errors["amount"]
    assert not Deposit.objects.exists() and not Invoice.objects.exists()


def test_a_paid_deposit_cannot_be_changed_from_the_page(client_for, billing_user, flow, biller):
    deposit = services.deposit_set(plan=flow.plan, amount="500.00", actor=biller)
    services.payment_record_desk(invoice=deposit.invoice, amount="500.00", method="CASH", actor=biller)

    response = client_for(billing_user).post(deposit_url(flow), {"amount": "600.00"})

    assert response.status_code == 409 and b"deposit_already_paid" in response.content
    assert Deposit.objects.get().amount == Decimal("500.00")


def test_who_may_set_a_deposit(client, client_for, flow, front_desk, nurse, provider_user, clinic_admin, patient):
    answers = {
        "anonymous": client.post(deposit_url(flow), {"amount": "10.00"}),
        "patient": client_for(patient.user).post(deposit_url(flow), {"amount": "10.00"}),
        "front_desk": client_for(front_desk).post(deposit_url(flow), {"amount": "10.00"}),
        "nurse": client_for(nurse).post(deposit_url(flow), {"amount": "10.00"}),
        "provider": client_for(provider_user).post(deposit_url(flow), {"amount": "10.00"}),
    }
    assert_login_redirect(answers["anonymous"])
    assert_portal_redirect(answers["patient"])
    assert {who: answers[who].status_code for who in ("front_desk", "nurse", "provider")} == {
        "front_desk": 403, "nurse": 403, "provider": 403}
    assert not Deposit.objects.exists()

    allowed = client_for(clinic_admin).post(deposit_url(flow), {"amount": "10.00"})
    assert allowed.status_code == 302 and Deposit.objects.get().amount == Decimal("10.00")


def test_an_unknown_plan_is_404(client_for, billing_user, fees):
    response = client_for(billing_user).post("/staff/billing/plans/00000000-0000-4000-8000-000000000000/deposit/",
                                             {"amount": "10.00"})
    assert response.status_code == 404


def test_the_patient_pays_the_deposit_in_the_portal_and_the_case_may_then_start(client_for, flow, biller, settings,
                                                                                 api_key_factory):
    settings.BILLING_DEPOSIT_REQUIRED = True
    deposit = services.deposit_set(plan=flow.plan, amount="500.00", actor=biller)
    flow.book()
    for item in flow.plan.preop_items.filter(source="clinic"):
        consents.preop_item_complete(item=item, actor=flow.surgeon_user)
    key = api_keyed_client(api_key_factory("consents:read", "consents:write")[1])

    refused = key.post(f"{API}/surgical-cases/{flow.case.pk}/start/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "preop_incomplete" and refused.json()["extra"]["missing"] == ["deposit"]
    item = flow.plan.preop_items.get(code="deposit")
    ticked = key.post(f"{API}/procedure-plans/{flow.plan.pk}/preop/{item.pk}/complete/", {"note": "paid"}, format="json")
    assert ticked.status_code == 409 and ticked.json()["code"] == "preop_item_managed"

    portal = client_for(flow.patient.user)
    home = portal.get("/portal/billing/")
    assert deposit.invoice.display_number.encode() in home.content and b"$500.00" in home.content
    paid = portal.post(f"/portal/billing/invoices/{deposit.invoice_id}/pay/",
                       {"amount": "500.00", "card_number": "4242 4242 4242 4242", "idempotency_key": "deposit-key-1"})
    assert paid.status_code == 302

    item.refresh_from_db()
    assert item.done_at is not None
    started = key.post(f"{API}/surgical-cases/{flow.case.pk}/start/")
    assert started.status_code == 200 and started.json()["status"] == "IN_PROGRESS"


def test_with_the_setting_off_the_api_starts_the_case_with_the_deposit_unpaid(flow, biller, settings, api_key_factory):
    settings.BILLING_DEPOSIT_REQUIRED = False
    services.deposit_set(plan=flow.plan, amount="500.00", actor=biller)
    flow.book()
    for item in flow.plan.preop_items.all():
        consents.preop_item_complete(item=item, actor=flow.surgeon_user)
    key = api_keyed_client(api_key_factory("consents:read", "consents:write")[1])

    started = key.post(f"{API}/surgical-cases/{flow.case.pk}/start/")

    assert started.status_code == 200 and not flow.plan.preop_items.filter(code="deposit").exists()


def test_the_staff_plan_page_offers_no_tick_for_the_deposit(client_for, clinic_admin, flow, biller, settings):
    settings.BILLING_DEPOSIT_REQUIRED = True
    services.deposit_set(plan=flow.plan, amount="500.00", actor=biller)
    flow.approve()
    item = flow.plan.preop_items.get(code="deposit")
    client = client_for(clinic_admin)

    html = client.get(f"/staff/surgery/plans/{flow.plan.pk}/").content.decode()
    ticked = client.post(f"/staff/surgery/plans/{flow.plan.pk}/preop/{item.pk}/done/", {"note": "cash"})

    assert "Deposit paid" in html and "Marked done by billing" in html
    assert f"/preop/{item.pk}/done/" not in html
    assert ticked.status_code == 409
    item.refresh_from_db()
    assert item.done_at is None
