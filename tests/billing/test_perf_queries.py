"""Issue 12, "Speed": the invoice lists and the AR report cost a fixed number of queries
whatever the number of rows. Each test counts one page's queries with a few rows, adds rows of
every shape the page shows (several patients, several lines, partly paid, paid, overdue, aged
into each bucket), counts again and checks that the page does show the new rows.

tests/billing/test_api.py and test_views_staff.py count the plain case (one-line ISSUED
invoices through a staff session); these add the API-key caller, the portal's bills, the
staff work queue and the mixed shapes."""
import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.billing import services
from apps.billing.models import Invoice
from tests.billing.factories import completed_visit, issued_invoice
from tests.conftest import api_keyed_client
from tests.factories import PortalPatientFactory

pytestmark = pytest.mark.django_db


def _count(client, url):
    """(queries, response) of one GET of `url`, which must answer 200."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries), response


def _sql(queries):
    return "\n".join(q["sql"][:160] for q in queries)


def _mixed_invoices(biller, *, patient=None, n=1):
    """`n` rounds of four invoices, each of another shape: one line ISSUED, two lines partly
    paid at the desk, paid in full, and one issued 75 days ago (61-90 bucket). One new patient
    each unless `patient` is given. Returns the invoices."""
    made = []
    for _ in range(n):
        plain = issued_invoice(patient or PortalPatientFactory(), biller)
        two_lines = issued_invoice(patient or PortalPatientFactory(), biller, codes=("99214", "36415"))
        services.payment_record_desk(invoice=two_lines, amount="50.00", method="CASH", actor=biller)
        paid = issued_invoice(patient or PortalPatientFactory(), biller, insurance="25.00")
        services.payment_record_desk(invoice=paid, amount="100.00", method="CHECK", actor=biller, reference="1001")
        aged = issued_invoice(patient or PortalPatientFactory(), biller, codes=("99214",))
        Invoice.objects.filter(pk=aged.pk).update(issued_at=timezone.now() - datetime.timedelta(days=75))
        made += [plain, two_lines, paid, aged]
    return made


def test_the_api_invoice_list_for_a_key_costs_the_same_queries_for_4_and_12_invoices(api_key_factory, fees, biller):
    _, raw = api_key_factory("billing:read")
    client = api_keyed_client(raw)
    url = "/api/v1/invoices/?page_size=50"
    _count(client, url)  # warm: content types and the like, read once per process
    _mixed_invoices(biller)
    few, first = _count(client, url)
    made = _mixed_invoices(biller, n=2)
    with CaptureQueriesContext(connection) as ctx:
        many, second = _count(client, url)

    assert first.json()["count"] == 4 and second.json()["count"] == 12
    assert {row["id"] for row in second.json()["results"]} >= {str(i.pk) for i in made}
    assert {row["status"] for row in second.json()["results"]} == {"ISSUED", "PARTIALLY_PAID", "PAID"}
    assert many == few, _sql(ctx.captured_queries)


def test_the_api_invoice_list_filtered_by_patient_and_status_costs_the_same_queries(api_key_factory, patient, fees,
                                                                                     biller):
    _, raw = api_key_factory("billing:read")
    client = api_keyed_client(raw)
    url = f"/api/v1/invoices/?patient={patient.pk}&status=ISSUED&page_size=50"
    _count(client, url)
    issued_invoice(patient, biller)
    few, first = _count(client, url)
    for _ in range(4):
        issued_invoice(patient, biller, codes=("99213", "36415"))
    _mixed_invoices(biller)  # other patients' invoices: not on the page
    many, second = _count(client, url)

    assert (first.json()["count"], second.json()["count"]) == (1, 5)
    assert many == few


def test_the_portal_bills_cost_the_same_queries_for_4_and_12_of_them(client_for, patient, fees, biller):
    client = client_for(patient.user)
    _count(client, "/portal/billing/")
    _mixed_invoices(biller, patient=patient)
    few, first = _count(client, "/portal/billing/")
    made = _mixed_invoices(biller, patient=patient, n=2)
    with CaptureQueriesContext(connection) as ctx:
        many, second = _count(client, "/portal/billing/")

    assert len(first.context["open_invoices"]) + len(first.context["past_invoices"]) == 4
    assert len(second.context["open_invoices"]) + len(second.context["past_invoices"]) == 12
    assert len(second.context["payments"]) == 6  # two desk payments per round
    for invoice in made:
        assert invoice.display_number.encode() in second.content
    assert many == few, _sql(ctx.captured_queries)


def test_the_staff_work_queue_costs_the_same_queries_for_few_and_many_rows(client_for, billing_user, fees, biller):
    client = client_for(billing_user)
    _count(client, "/staff/billing/")
    _mixed_invoices(biller)
    completed_visit(PortalPatientFactory())  # a charge to review
    few, first = _count(client, "/staff/billing/")
    _mixed_invoices(biller, n=2)
    for _ in range(3):
        completed_visit(PortalPatientFactory(), codes=("99213", "36415"))
    many, second = _count(client, "/staff/billing/")

    assert (len(first.context["charges"]), len(second.context["charges"])) == (1, 7)
    assert len(second.context["open_invoices"]) > len(first.context["open_invoices"])
    assert many == few


def test_the_ar_report_costs_the_same_queries_for_4_and_16_invoices_of_every_age(client_for, billing_user, fees, biller):
    client = client_for(billing_user)
    _count(client, "/staff/billing/ar/")
    _mixed_invoices(biller)
    few, first = _count(client, "/staff/billing/ar/")
    _mixed_invoices(biller, n=2)
    for days in (10, 45, 120, 400):  # one more in each bucket, on one patient
        old = issued_invoice(PortalPatientFactory(), biller)
        Invoice.objects.filter(pk=old.pk).update(issued_at=timezone.now() - datetime.timedelta(days=days))
    with CaptureQueriesContext(connection) as ctx:
        many, second = _count(client, "/staff/billing/ar/")

    # Per round: 125.00 open (0-30), 185.50 + 12.33 - 50.00 = 147.83 partly paid (0-30), paid in
    # full (nothing), 185.50 at 75 days (61-90).
    assert first.context["report"]["total"] == Decimal("458.33")
    report = second.context["report"]
    assert report["buckets"] == {"0-30": Decimal("943.49"), "31-60": Decimal("125.00"), "61-90": Decimal("556.50"),
                                 "90+": Decimal("250.00")}
    assert report["total"] == Decimal("1874.99")
    assert len(second.context["rows"]) == 3 * 3 + 4  # every patient who owes something
    assert many == few, _sql(ctx.captured_queries)
