"""Races on PostgreSQL with real threads and a barrier: invoice numbers under 20 concurrent
issues (distinct, no gaps), one Idempotency-Key sent ten times at once (charged once), two
keys at once on one invoice (never more than is due)."""
from decimal import Decimal

import pytest

from apps.billing import services
from apps.billing.exceptions import PaymentInProgress
from apps.billing.gateways import active_gateway
from apps.billing.gateways.test_gateway import SUCCESS
from apps.billing.models import Charge, Invoice, Payment
from tests.billing.factories import completed_visit, issued_invoice
from tests.factories import PortalPatientFactory
from tests.scheduling.test_races import Crowd

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def crowd():
    crowds = []

    def make(size):
        crowds.append(Crowd(size))
        return crowds[-1]

    yield make
    for c in crowds:
        c.close()


def _render(payment):
    return {"id": str(payment.pk), "status": payment.status}


def test_twenty_invoices_issued_at_once_get_distinct_numbers_without_gaps(requires_postgres, fees, biller, crowd):
    drafts = []
    for _ in range(20):
        patient = PortalPatientFactory()
        completed_visit(patient)
        services.charge_approve(charge=Charge.objects.get(patient=patient), actor=biller)
        drafts.append(services.invoice_create(patient=patient, actor=biller))

    results = crowd(20).run([lambda d=d: services.invoice_issue(invoice=d, actor=biller) for d in drafts])

    assert [kind for kind, _ in results] == ["ok"] * 20
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 20))


def test_the_same_key_ten_times_at_once_charges_once(requires_postgres, patient, fees, biller, crowd):
    invoice = issued_invoice(patient, biller)

    def pay():
        return services.payment_submit(owner="user:1", key="same-key", invoice=invoice, amount="125.00", source=SUCCESS,
                                       actor=None, render=_render)

    results = crowd(10).run([pay] * 10)

    answers = [value for kind, value in results if kind == "ok"]
    refusals = [value for kind, value in results if kind == "error"]
    assert all(isinstance(exc, PaymentInProgress) for exc in refusals)
    assert {a.status for a in answers} <= {201}
    assert sum(1 for a in answers if not a.replayed) == 1
    assert Payment.objects.count() == 1
    assert active_gateway().calls == 1
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("PAID", Decimal("125.00"))


def test_two_keys_at_once_on_one_invoice_never_pay_more_than_is_due(requires_postgres, patient, fees, biller, crowd):
    invoice = issued_invoice(patient, biller)
    pool = crowd(2)

    for trial in range(5):
        Invoice.objects.filter(pk=invoice.pk).update(status="ISSUED", amount_paid=0, amount_due=invoice.patient_responsibility,
                                                     paid_at=None)
        results = pool.run([
            lambda k=f"{trial}-a": services.payment_submit(owner="user:1", key=k, invoice=invoice, amount="100.00",
                                                           source=SUCCESS, actor=None, render=_render),
            lambda k=f"{trial}-b": services.payment_submit(owner="user:1", key=k, invoice=invoice, amount="100.00",
                                                           source=SUCCESS, actor=None, render=_render),
        ])
        statuses = sorted(value.status for kind, value in results)
        assert statuses == [201, 409], f"trial {trial}: {statuses}"
        invoice.refresh_from_db()
        assert (invoice.amount_paid, invoice.amount_due) == (Decimal("100.00"), Decimal("25.00"))
