"""Staff billing pages: the work queue, charge review and adjustment, drafting and issuing,
desk payments, refunds, voids, the AR aging report (fixed query count), the front desk's
balance page; who may open each."""
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.billing.models import Charge, Invoice, Payment
from tests.billing.factories import completed_visit, issued_invoice
from tests.factories import PortalPatientFactory
from tests.scheduling.staff_pages import count_queries

pytestmark = pytest.mark.django_db


def test_billing_staff_review_adjust_approve_draft_and_issue(client_for, billing_user, patient, fees):
    completed_visit(patient, codes=("99213",))
    charge = Charge.objects.get(patient=patient)
    client = client_for(billing_user)

    assert charge.code.encode() in client.get("/staff/billing/").content
    adjust = client.post(f"/staff/billing/charges/{charge.pk}/adjust/", {"reason": "Two units", "quantity": "2",
                                                                        "unit_price": "125.00", "modifiers": "25"})
    approve = client.post(f"/staff/billing/charges/{charge.pk}/approve/")
    draft = client.post(f"/staff/billing/patients/{patient.pk}/invoice/", {"insurance_portion": "50.00"})
    invoice = Invoice.objects.get(patient=patient)
    issue = client.post(f"/staff/billing/invoices/{invoice.pk}/issue/")

    assert (adjust.status_code, approve.status_code, draft.status_code, issue.status_code) == (302, 302, 302, 302)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.subtotal, invoice.amount_due) == ("ISSUED", Decimal("250.00"), Decimal("200.00"))
    assert charge.events.filter(reason="Two units").exists()


def test_an_adjustment_without_a_reason_is_a_form_error(client_for, billing_user, patient, fees):
    completed_visit(patient)
    charge = Charge.objects.get(patient=patient)

    response = client_for(billing_user).post(f"/staff/billing/charges/{charge.pk}/adjust/", {"reason": "", "quantity": "2"})

    assert response.status_code == 400
    charge.refresh_from_db()
    assert charge.quantity == 1


def test_a_desk_payment_then_a_refund_then_a_void(client_for, billing_user, patient, fees, biller):
    invoice = issued_invoice(patient, biller)
    client = client_for(billing_user)

    paid = client.post(f"/staff/billing/invoices/{invoice.pk}/pay/", {"amount": "125.00", "method": "CASH", "reference": ""})
    payment = Payment.objects.get()
    blocked = client.post(f"/staff/billing/invoices/{invoice.pk}/void/", {"reason": "Wrong patient"})
    refunded = client.post(f"/staff/billing/payments/{payment.pk}/refund/", {"amount": "", "reason": "Wrong patient"})
    voided = client.post(f"/staff/billing/invoices/{invoice.pk}/void/", {"reason": "Wrong patient"})

    assert (paid.status_code, blocked.status_code, refunded.status_code, voided.status_code) == (302, 409, 302, 302)
    assert b"invoice_has_payments" in blocked.content
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("VOID", Decimal("0.00"))
    receipt = client.get(f"/staff/billing/payments/{payment.pk}/receipt.pdf")
    assert receipt.content.startswith(b"%PDF")


def test_the_ar_report_buckets_what_is_due_by_age(client_for, billing_user, patient, other_patient, fees, biller):
    recent = issued_invoice(patient, biller)
    old = issued_invoice(other_patient, biller, codes=("99214",))
    Invoice.objects.filter(pk=old.pk).update(issued_at=timezone.now() - datetime.timedelta(days=75))

    response = client_for(billing_user).get("/staff/billing/ar/")

    assert response.status_code == 200
    report = response.context["report"]
    assert report["buckets"] == {"0-30": Decimal("125.00"), "31-60": Decimal("0.00"), "61-90": Decimal("185.50"),
                                 "90+": Decimal("0.00")}
    assert report["total"] == Decimal("310.50")
    assert recent.patient.legal_name.encode() in response.content


def test_the_ar_report_costs_the_same_queries_for_2_and_12_open_invoices(client_for, billing_user, fees, biller):
    client = client_for(billing_user)

    def count():
        return count_queries(client, "/staff/billing/ar/")

    count()
    for _ in range(2):
        issued_invoice(PortalPatientFactory(), biller)
    few = count()
    for _ in range(10):
        issued_invoice(PortalPatientFactory(), biller)
    assert count() == few


def test_the_front_desk_sees_balances_only(client_for, front_desk, patient, fees, biller):
    invoice = issued_invoice(patient, biller)
    client = client_for(front_desk)

    balance = client.get(f"/staff/billing/patients/{patient.pk}/balance/")

    assert balance.status_code == 200 and b"$125.00" in balance.content
    for url in ["/staff/billing/", f"/staff/billing/invoices/{invoice.pk}/", "/staff/billing/ar/",
                f"/staff/billing/patients/{patient.pk}/"]:
        assert client.get(url).status_code == 403, url


def test_other_roles_and_unverified_staff_are_refused(client_for, nurse, provider_user, billing_user, patient, fees, biller):
    invoice = issued_invoice(patient, biller)

    for user in (nurse, provider_user):
        assert client_for(user).get(f"/staff/billing/invoices/{invoice.pk}/").status_code == 403
        assert client_for(user).get(f"/staff/billing/patients/{patient.pk}/balance/").status_code == 403
    unverified = client_for(billing_user, verified=False).get("/staff/billing/")
    assert unverified.status_code == 302
    assert client_for(patient.user).get("/staff/billing/").status_code == 302


def test_an_unknown_invoice_is_the_404_page(client_for, billing_user):
    import uuid

    assert client_for(billing_user).get(f"/staff/billing/invoices/{uuid.uuid4()}/").status_code == 404
