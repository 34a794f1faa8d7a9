"""Stages 13 (invoice generated) and 14 (payment received) of the consents workflow, filled by
billing through consents' workflow_billing hook: a completed surgical case's charges, their
invoice and its payments show on the one selector (so on the portal timeline, the staff
timeline and GET /api/v1/patients/{id}/workflow/) with dates and states, and the selector's
query count does not grow with the number of charges, invoices or payments."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.billing import services
from apps.billing.models import Charge, Invoice
from apps.billing.workflow import workflow_stages
from apps.consents import hooks
from apps.consents import services as consents
from apps.consents.workflow import workflow_for_patient
from tests.conftest import api_keyed_client
from tests.consents.factories import Flow, preop_catalogue

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def flow(patient, fees):
    preop_catalogue()
    return Flow(patient)


def completed(flow):
    flow.start()
    consents.case_complete(case=flow.case, actor=flow.surgeon_user)
    flow.refresh()
    return flow


def stages(patient):
    return {s.stage: s for s in workflow_for_patient(patient).current.stages}


def approve_all(patient, biller):
    for charge in Charge.objects.filter(patient=patient, status=Charge.Status.PENDING_REVIEW):
        services.charge_approve(charge=charge, actor=biller)


def test_billing_is_connected_to_the_workflow_hook():
    assert workflow_stages in hooks.workflow_billing.receivers


def test_a_completed_case_moves_through_invoice_generated_and_payment_received(flow, biller):
    completed(flow)
    s = stages(flow.patient)
    assert (s["INVOICE_GENERATED"].status, s["INVOICE_GENERATED"].detail) == ("IN_PROGRESS", "2 charges to review")
    assert s["INVOICE_GENERATED"].completed_at is None and s["PAYMENT_RECEIVED"].status == "PENDING"

    approve_all(flow.patient, biller)
    invoice = services.invoice_create(patient=flow.patient, actor=biller)
    assert stages(flow.patient)["INVOICE_GENERATED"].detail == "1 invoice drafted"

    invoice = services.invoice_issue(invoice=invoice, actor=biller)
    s = stages(flow.patient)
    assert s["INVOICE_GENERATED"].status == "COMPLETED" and s["INVOICE_GENERATED"].completed_at == invoice.issued_at
    assert s["INVOICE_GENERATED"].detail == f"{invoice.display_number} issued"
    assert (s["PAYMENT_RECEIVED"].status, s["PAYMENT_RECEIVED"].detail) == ("IN_PROGRESS", "$0.00 of $3650.50 paid")

    services.payment_record_desk(invoice=invoice, amount="650.50", method="CASH", actor=biller)
    s = stages(flow.patient)
    assert s["PAYMENT_RECEIVED"].detail == "$650.50 of $3650.50 paid" and s["PAYMENT_RECEIVED"].completed_at is None
    assert s["INVOICE_GENERATED"].detail == f"{invoice.display_number} partially paid"

    services.payment_record_desk(invoice=invoice, amount="3000.00", method="CHECK", reference="1042", actor=biller)
    invoice.refresh_from_db()
    workflow = workflow_for_patient(flow.patient).current
    s = {stage.stage: stage for stage in workflow.stages}
    assert s["PAYMENT_RECEIVED"].status == "COMPLETED" and s["PAYMENT_RECEIVED"].completed_at == invoice.paid_at
    assert s["PAYMENT_RECEIVED"].detail == "$3650.50 paid"
    assert workflow.current_stage == "PAYMENT_RECEIVED" and workflow.next_step == "Done" and workflow.next_stage is None


def test_a_voided_invoice_takes_stage_13_back_until_the_corrected_one_is_issued(flow, biller):
    completed(flow)
    approve_all(flow.patient, biller)
    invoice = services.invoice_issue(invoice=services.invoice_create(patient=flow.patient, actor=biller), actor=biller)
    services.invoice_void(invoice=invoice, actor=biller, reason="Wrong side")

    s = stages(flow.patient)
    assert s["INVOICE_GENERATED"].status == "IN_PROGRESS" and s["INVOICE_GENERATED"].detail == "2 charges to invoice"
    corrected = services.invoice_issue(invoice=services.invoice_create(patient=flow.patient, actor=biller), actor=biller)
    assert stages(flow.patient)["INVOICE_GENERATED"].detail == f"{corrected.display_number} issued"


def test_an_overdue_bill_says_so_on_stage_14(flow, biller):
    completed(flow)
    approve_all(flow.patient, biller)
    invoice = services.invoice_issue(invoice=services.invoice_create(patient=flow.patient, actor=biller), actor=biller)
    Invoice.objects.filter(pk=invoice.pk).update(due_date=invoice.due_date.replace(year=invoice.due_date.year - 1))
    assert services.invoices_mark_overdue() == 1

    assert stages(flow.patient)["PAYMENT_RECEIVED"].detail == "$0.00 of $3650.50 paid (overdue)"


def test_a_plan_before_its_surgery_costs_billing_no_query(flow):
    flow.sign()
    plan = flow.plan
    with CaptureQueriesContext(connection) as ctx:
        assert workflow_stages(plan=plan) is None
    assert len(ctx.captured_queries) == 0


def _selector_queries(patient):
    with CaptureQueriesContext(connection) as ctx:
        workflow_for_patient(patient)
    return len(ctx.captured_queries)


def test_the_workflow_selector_costs_the_same_whatever_the_invoices_and_payments(flow, other_patient, biller):
    """One completed case, one invoice, no payment; against one with its charges split over two
    invoices and five payments: the same number of queries."""
    completed(flow)
    approve_all(flow.patient, biller)
    services.invoice_issue(invoice=services.invoice_create(patient=flow.patient, actor=biller), actor=biller)
    small = _selector_queries(flow.patient)

    preop_catalogue()
    other = completed(Flow(other_patient))
    approve_all(other.patient, biller)
    first, second = Charge.objects.filter(case=other.case).order_by("line")
    one = services.invoice_issue(invoice=services.invoice_create(patient=other.patient, actor=biller, charges=[first]), actor=biller)
    two = services.invoice_issue(invoice=services.invoice_create(patient=other.patient, actor=biller, charges=[second]), actor=biller)
    for amount in ("100.00", "200.00", "300.00"):
        services.payment_record_desk(invoice=one, amount=amount, method="CASH", actor=biller)
    for amount in ("10.00", "20.50"):
        services.payment_record_desk(invoice=two, amount=amount, method="CASH", actor=biller)
    large = _selector_queries(other.patient)

    assert large == small
    assert stages(other.patient)["INVOICE_GENERATED"].detail == f"{one.display_number} partially paid, {two.display_number} partially paid"


# --- the three places that render the selector -------------------------------------------------

@pytest.fixture
def paid_case(flow, biller):
    completed(flow)
    approve_all(flow.patient, biller)
    invoice = services.invoice_issue(invoice=services.invoice_create(patient=flow.patient, actor=biller), actor=biller)
    services.payment_record_desk(invoice=invoice, amount="1000.00", method="CASH", actor=biller)
    invoice.refresh_from_db()
    return invoice


def test_the_api_workflow_shows_stages_13_and_14_with_dates_and_states(flow, paid_case, api_key_factory):
    client = api_keyed_client(api_key_factory("consents:read")[1])

    body = client.get(f"{API}/patients/{flow.patient.pk}/workflow/").json()

    timeline = {s["stage"]: s for s in body["timeline"]}
    assert timeline["INVOICE_GENERATED"]["status"] == "COMPLETED"
    assert timeline["INVOICE_GENERATED"]["completedAt"] == paid_case.issued_at.isoformat().replace("+00:00", "Z")
    assert timeline["INVOICE_GENERATED"]["detail"] == f"{paid_case.display_number} partially paid"
    assert timeline["PAYMENT_RECEIVED"] == {"stage": "PAYMENT_RECEIVED", "label": "Payment received", "number": 14,
                                            "status": "IN_PROGRESS", "completedAt": None, "detail": "$1000.00 of $3650.50 paid"}
    assert body["currentStage"] == "INVOICE_GENERATED" and body["nextStep"] == "Receive the payment"


def test_the_portal_timeline_shows_the_bill_and_what_is_paid(flow, paid_case, client_for):
    response = client_for(flow.patient.user).get("/portal/timeline/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f"{paid_case.display_number} partially paid" in html and "$1000.00 of $3650.50 paid" in html
    assert "Receive the payment" in html


def test_the_staff_timeline_shows_the_bill_and_what_is_paid(flow, paid_case, client_for, clinic_admin):
    response = client_for(clinic_admin).get(f"/staff/surgery/plans/{flow.plan.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f"{paid_case.display_number} partially paid" in html and "$1000.00 of $3650.50 paid" in html
