"""The portal's billing pages: balance and bills, a bill and its pay form (pressing pay twice
charges once), payment history, the PDF receipt; another patient's ids are 404."""
import re

import pytest

from apps.audit.models import AccessLog
from apps.billing.gateways import active_gateway
from apps.billing.gateways.test_gateway import DECLINE, SUCCESS
from apps.billing.models import Invoice, Payment
from tests.billing.factories import issued_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(patient, fees, biller):
    return issued_invoice(patient, biller)


def _key(response):
    return re.search(rb'name="idempotency_key" value="([0-9a-f]+)"', response.content).group(1).decode()


def test_the_billing_home_shows_the_balance_and_the_open_bill(client_for, patient, invoice):
    response = client_for(patient.user).get("/portal/billing/")

    assert response.status_code == 200
    assert b"$125.00" in response.content and invoice.display_number.encode() in response.content
    assert AccessLog.objects.filter(object_type="billing.invoice", object_id=str(invoice.pk)).exists()


def test_pressing_pay_twice_charges_once(client_for, patient, invoice):
    client = client_for(patient.user)
    key = _key(client.get(f"/portal/billing/invoices/{invoice.pk}/"))
    form = {"amount": "125.00", "card_number": "4242 4242 4242 4242", "idempotency_key": key}

    first = client.post(f"/portal/billing/invoices/{invoice.pk}/pay/", form)
    second = client.post(f"/portal/billing/invoices/{invoice.pk}/pay/", form)

    payment = Payment.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/portal/billing/payments/{payment.pk}/"
    assert active_gateway().calls == 1
    assert Invoice.objects.get(pk=invoice.pk).status == "PAID"


def test_a_declined_card_shows_why_and_offers_a_new_attempt(client_for, patient, invoice):
    client = client_for(patient.user)
    key = _key(client.get(f"/portal/billing/invoices/{invoice.pk}/"))

    response = client.post(f"/portal/billing/invoices/{invoice.pk}/pay/",
                           {"amount": "125.00", "card_number": DECLINE, "idempotency_key": key})

    assert response.status_code == 402
    assert b"declined" in response.content
    assert _key(response) != key
    retry = client.post(f"/portal/billing/invoices/{invoice.pk}/pay/",
                        {"amount": "125.00", "card_number": SUCCESS, "idempotency_key": _key(response)})
    assert retry.status_code == 302


def test_paying_more_than_is_due_is_a_form_error_at_409(client_for, patient, invoice):
    client = client_for(patient.user)
    key = _key(client.get(f"/portal/billing/invoices/{invoice.pk}/"))

    response = client.post(f"/portal/billing/invoices/{invoice.pk}/pay/",
                           {"amount": "500.00", "card_number": SUCCESS, "idempotency_key": key})

    assert response.status_code == 409
    assert b"more than the invoice still owes" in response.content
    assert not Payment.objects.filter(status="SUCCEEDED").exists()


def test_the_receipt_is_a_pdf(client_for, patient, invoice):
    client = client_for(patient.user)
    key = _key(client.get(f"/portal/billing/invoices/{invoice.pk}/"))
    client.post(f"/portal/billing/invoices/{invoice.pk}/pay/", {"amount": "125.00", "card_number": SUCCESS, "idempotency_key": key})
    payment = Payment.objects.get()

    page = client.get(f"/portal/billing/payments/{payment.pk}/")
    receipt = client.get(f"/portal/billing/payments/{payment.pk}/receipt.pdf")

    assert page.status_code == 200 and b"ending 4242" in page.content
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF")


def test_another_patient_gets_404_for_every_bill_payment_and_receipt(client_for, patient, other_patient, invoice):
    owner = client_for(patient.user)
    key = _key(owner.get(f"/portal/billing/invoices/{invoice.pk}/"))
    owner.post(f"/portal/billing/invoices/{invoice.pk}/pay/", {"amount": "25.00", "card_number": SUCCESS, "idempotency_key": key})
    payment = Payment.objects.get()
    stranger = client_for(other_patient.user)

    for url in [f"/portal/billing/invoices/{invoice.pk}/", f"/portal/billing/payments/{payment.pk}/",
                f"/portal/billing/payments/{payment.pk}/receipt.pdf"]:
        assert stranger.get(url).status_code == 404, url
    response = stranger.post(f"/portal/billing/invoices/{invoice.pk}/pay/",
                             {"amount": "1.00", "card_number": SUCCESS, "idempotency_key": "x" * 10})
    assert response.status_code == 404
    assert Payment.objects.count() == 1
    assert b"$0.00" in stranger.get("/portal/billing/").content


def test_a_draft_invoice_is_not_shown_to_its_patient(client_for, patient, fees, biller):
    from apps.billing import services
    from apps.billing.models import Charge
    from tests.billing.factories import completed_visit

    completed_visit(patient)
    services.charge_approve(charge=Charge.objects.get(patient=patient), actor=biller)
    draft = services.invoice_create(patient=patient, actor=biller)

    assert client_for(patient.user).get(f"/portal/billing/invoices/{draft.pk}/").status_code == 404


def test_staff_and_anonymous_do_not_reach_portal_billing(client_for, billing_user, client):
    assert client.get("/portal/billing/").status_code == 302
    assert client_for(billing_user).get("/portal/billing/").status_code == 302
