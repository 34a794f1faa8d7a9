"""Deposit races on PostgreSQL with real threads and a barrier: staff setting one plan's first
deposit twice at once leave one deposit and one live invoice; a deposit change racing the
patient's payment of it either voids an unpaid invoice or is refused, never both paid and
voided."""
from decimal import Decimal

import pytest

from apps.billing import services
from apps.billing.gateways.test_gateway import SUCCESS
from apps.billing.models import Deposit, Invoice
from tests.billing.test_races import crowd  # noqa: F401 (the fixture)
from tests.consents.factories import Flow, preop_catalogue

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_first_deposits_at_once_leave_one_deposit_and_one_live_invoice(requires_postgres, patient, fees, biller, crowd):
    preop_catalogue()
    flow = Flow(patient)
    flow.draft()

    results = crowd(2).run([lambda: services.deposit_set(plan=flow.plan, amount="300.00", actor=biller),
                            lambda: services.deposit_set(plan=flow.plan, amount="400.00", actor=biller)])

    assert [kind for kind, _ in results] == ["ok", "ok"]
    deposit = Deposit.objects.get()
    live = Invoice.objects.exclude(status="VOID")
    assert [invoice.pk for invoice in live] == [deposit.invoice_id]
    assert deposit.amount in (Decimal("300.00"), Decimal("400.00")) and live.get().amount_due == deposit.amount


def test_a_change_racing_the_payment_never_voids_a_paid_deposit(requires_postgres, patient, fees, biller, crowd):
    preop_catalogue()
    flow = Flow(patient)
    flow.draft()
    deposit = services.deposit_set(plan=flow.plan, amount="300.00", actor=biller)

    def pay():
        return services.payment_submit(owner=f"user:{patient.user_id}", key="race-1", invoice=deposit.invoice, amount="300.00",
                                       source=SUCCESS, actor=patient.user, render=lambda p: {"id": str(p.pk)})

    crowd(2).run([pay, lambda: services.deposit_set(plan=flow.plan, amount="350.00", actor=biller)])

    first = Invoice.objects.get(pk=deposit.invoice_id)
    assert (first.status, first.amount_paid) in {("PAID", Decimal("300.00")), ("VOID", Decimal("0.00"))}
    current = Deposit.objects.get()
    if first.status == "PAID":
        assert current.invoice_id == first.pk and current.amount == Decimal("300.00")
    else:
        assert current.amount == Decimal("350.00") and current.invoice.status == "ISSUED"
