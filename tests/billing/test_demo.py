"""The demo: a fee schedule, and the demo patient has an issued invoice to pay."""
import pytest
from django.core.management import call_command

from apps.billing.models import Invoice, ServiceCode

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_the_demo_patient_an_issued_invoice_once():
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)

    invoices = Invoice.objects.filter(patient__user__email="patient@clinic.test")
    assert ServiceCode.objects.filter(code="99213").exists()
    assert [(i.status, str(i.amount_due)) for i in invoices] == [("ISSUED", "65.00")]


def test_seed_demo_gives_payers_and_the_demo_patient_a_checked_insurance_card_once(client_for):
    from apps.accounts.models import User
    from apps.billing.models import Coverage, EligibilityCheck, Payer

    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)

    assert {"60054", "87726", "62308"} <= set(Payer.objects.values_list("payer_id", flat=True))
    cards = Coverage.objects.filter(patient__user__email="patient@clinic.test", is_active=True)
    assert [(c.payer.name, c.member_id, c.priority) for c in cards] == [("Aetna", "W123456789", "PRIMARY")]
    checks = EligibilityCheck.objects.filter(coverage=cards[0])
    assert [(c.status, c.outcome) for c in checks] == [("COMPLETE", "ACTIVE")]
    page = client_for(User.objects.get(email="patient@clinic.test")).get("/portal/billing/insurance/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Aetna" in html and "$25" in html and "$1500" in html.replace(",", "")
