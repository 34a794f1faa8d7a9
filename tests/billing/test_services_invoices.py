"""Invoices: drafted from approved charges, issued with gap-free numbers, insurance and credits,
voided (charges released), OVERDUE by the daily job; the database keeps amounts honest."""
import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.billing import services
from apps.billing.models import Charge, Invoice, InvoiceEvent, InvoiceLine
from apps.billing.tasks import mark_overdue
from apps.core.exceptions import Conflict, InvalidTransition, ValidationFailed
from apps.messaging.models import Notification
from tests.billing.factories import completed_visit, issued_invoice

pytestmark = pytest.mark.django_db


def _approved(patient, biller, codes=("99213",)):
    completed_visit(patient, codes=codes)
    for charge in Charge.objects.filter(patient=patient, status="PENDING_REVIEW"):
        services.charge_approve(charge=charge, actor=biller)


def test_an_invoice_is_drafted_from_the_approved_charges(patient, fees, biller):
    _approved(patient, biller, codes=("99214", "36415"))

    invoice = services.invoice_create(patient=patient, actor=biller, insurance_portion="100.00")

    assert invoice.status == "DRAFT" and invoice.number is None
    assert [(l.code, l.amount) for l in invoice.lines.all()] == [("99214", Decimal("185.50")), ("36415", Decimal("12.33"))]
    assert (invoice.subtotal, invoice.insurance_portion, invoice.patient_responsibility, invoice.amount_due) == (
        Decimal("197.83"), Decimal("100.00"), Decimal("97.83"), Decimal("97.83"))
    assert set(Charge.objects.filter(patient=patient).values_list("status", "invoice")) == {("INVOICED", invoice.pk)}


def test_nothing_approved_means_nothing_to_invoice(patient, fees, biller):
    completed_visit(patient)  # pending review, not approved

    with pytest.raises(Conflict) as refused:
        services.invoice_create(patient=patient, actor=biller)

    assert refused.value.code == "nothing_to_invoice"
    assert not Invoice.objects.exists()


def test_issuing_numbers_invoices_in_sequence_and_tells_the_patient(patient, other_patient, fees, biller):
    first = issued_invoice(patient, biller)
    second = issued_invoice(other_patient, biller)

    assert (first.number + 1, first.status, first.due_date) == (
        second.number, "ISSUED", timezone.localdate() + datetime.timedelta(days=30))
    assert first.display_number == f"INV-{first.number:06d}"
    assert InvoiceEvent.objects.filter(invoice=first, from_status="DRAFT", to_status="ISSUED", actor=biller).exists()
    assert Notification.objects.filter(recipient=patient.user, kind="billing_invoice_issued").exists()


def test_issuing_twice_is_refused_and_takes_no_number(patient, other_patient, fees, biller):
    first = issued_invoice(patient, biller)

    with pytest.raises(InvalidTransition):
        services.invoice_issue(invoice=first, actor=biller)

    assert issued_invoice(other_patient, biller).number == first.number + 1


def test_an_invoice_fully_covered_by_insurance_is_paid_on_issue(patient, fees, biller):
    invoice = issued_invoice(patient, biller, insurance="125.00")

    assert (invoice.status, invoice.amount_due) == ("PAID", Decimal("0.00"))


def test_insurance_above_the_total_is_refused(patient, fees, biller):
    _approved(patient, biller)

    with pytest.raises(ValidationFailed) as refused:
        services.invoice_create(patient=patient, actor=biller, insurance_portion="125.01")

    assert "insurance_portion" in refused.value.extra["fields"]


def test_a_credit_line_takes_off_a_draft_and_issued_lines_never_change(patient, fees, biller):
    _approved(patient, biller)
    invoice = services.invoice_create(patient=patient, actor=biller)
    invoice = services.invoice_add_credit(invoice=invoice, actor=biller, description="Courtesy discount", amount="25.005")

    assert (invoice.subtotal, invoice.amount_due) == (Decimal("99.99"), Decimal("99.99"))  # 25.005 rounds half-up to 25.01
    services.invoice_issue(invoice=invoice, actor=biller)
    with pytest.raises(Conflict) as refused:
        services.invoice_add_credit(invoice=invoice, actor=biller, description="late", amount="1")
    assert refused.value.code == "invoice_not_draft"


def test_the_database_refuses_changing_or_adding_lines_of_an_issued_invoice(patient, fees, biller):
    invoice = issued_invoice(patient, biller)
    line = invoice.lines.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.filter(pk=line.pk).update(description="changed")
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(invoice=invoice, position=9, description="added", unit_price=1, amount=1)

    line.refresh_from_db()
    assert line.description != "changed"


@pytest.mark.parametrize("values", [
    {"amount_paid": Decimal("-1.00"), "amount_due": Decimal("126.00")},           # negative paid
    {"amount_due": Decimal("100.00")},                                            # due not part less paid
    {"insurance_portion": Decimal("200.00")},                                     # part not subtotal less insurance
    {"status": "PAID"},                                                           # paid while owing
    {"amount_paid": Decimal("130.00"), "amount_due": Decimal("-5.00")},           # overpaid
])
def test_the_database_keeps_invoice_amounts_consistent_bypassing_the_services(patient, fees, biller, values):
    invoice = issued_invoice(patient, biller)

    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(**values)


def test_voiding_releases_the_charges_for_a_corrected_invoice(patient, fees, biller):
    invoice = issued_invoice(patient, biller)

    services.invoice_void(invoice=invoice, actor=biller, reason="Wrong code")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason) == ("VOID", "Wrong code")
    assert set(Charge.objects.filter(patient=patient).values_list("status", "invoice")) == {("APPROVED", None)}
    again = services.invoice_create(patient=patient, actor=biller)
    assert again.lines.count() == 1


def test_a_draft_voided_before_issue_takes_no_number_and_the_next_issue_leaves_no_gap(patient, other_patient, fees, biller):
    first = issued_invoice(other_patient, biller)
    completed_visit(patient, codes=("99213",))
    for charge in Charge.objects.filter(patient=patient, status=Charge.Status.PENDING_REVIEW):
        services.charge_approve(charge=charge, actor=biller)
    draft = services.invoice_create(patient=patient, actor=biller)

    services.invoice_void(invoice=draft, actor=biller, reason="Started by mistake")

    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.issued_at) == ("VOID", None, None)
    again = services.invoice_issue(invoice=services.invoice_create(patient=patient, actor=biller), actor=biller)
    assert again.number == first.number + 1
    with pytest.raises(IntegrityError), transaction.atomic():  # an issued invoice still cannot lose its number
        Invoice.objects.filter(pk=first.pk).update(status="VOID", number=None)


def test_an_invoice_holding_payments_cannot_be_voided(patient, fees, biller):
    invoice = issued_invoice(patient, biller)
    services.payment_record_desk(invoice=invoice, amount="10.00", method="CASH", actor=biller)

    with pytest.raises(Conflict) as refused:
        services.invoice_void(invoice=invoice, actor=biller, reason="x")

    assert refused.value.code == "invoice_has_payments"


def test_the_daily_job_marks_unpaid_invoices_past_due_as_overdue_once(patient, other_patient, fees, biller):
    late = issued_invoice(patient, biller)
    on_time = issued_invoice(other_patient, biller)
    Invoice.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - datetime.timedelta(days=1))

    assert mark_overdue() == 1
    assert mark_overdue() == 0

    late.refresh_from_db(), on_time.refresh_from_db()
    assert (late.status, on_time.status) == ("OVERDUE", "ISSUED")
    assert late.events.filter(to_status="OVERDUE", reason="Past its due date").count() == 1
