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
