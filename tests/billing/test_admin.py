"""The billing admin: payers are edited there (their id validated); coverages, eligibility checks
and deposits are shown read-only (only the services change them) and every one shown is audited."""
import pytest

from apps.audit.models import AccessLog
from apps.billing import services
from apps.billing.models import Payer
from tests.billing.factories import PayerFactory, coverage
from tests.consents.factories import Flow, preop_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def insured(patient, biller, fees):
    card = coverage(patient)
    check = services.eligibility_check(coverage=card, actor=biller)
    preop_catalogue()
    flow = Flow(patient)
    flow.draft()
    deposit = services.deposit_set(plan=flow.plan, amount="200.00", actor=biller)
    return card, check, deposit


def test_the_clinic_admin_opens_every_new_billing_admin_page(client_for, clinic_admin, insured):
    card, check, deposit = insured
    client = client_for(clinic_admin)
    pages = ["/admin/billing/payer/", f"/admin/billing/payer/{card.payer_id}/change/", "/admin/billing/coverage/",
             f"/admin/billing/coverage/{card.pk}/change/", "/admin/billing/eligibilitycheck/",
             f"/admin/billing/eligibilitycheck/{check.pk}/change/", "/admin/billing/deposit/",
             f"/admin/billing/deposit/{deposit.pk}/change/"]

    answers = {url: client.get(url) for url in pages}

    assert {url: r.status_code for url, r in answers.items()} == {url: 200 for url in pages}
    assert card.member_id in answers["/admin/billing/coverage/"].content.decode()
    assert "Aetna" in answers["/admin/billing/payer/"].content.decode()
    for obj in (card, check, deposit):
        assert AccessLog.objects.filter(action="read", object_id=str(obj.pk)).exists()


def test_coverages_checks_and_deposits_are_read_only_in_the_admin(client_for, clinic_admin, insured):
    card, check, deposit = insured
    client = client_for(clinic_admin)

    assert client.get("/admin/billing/coverage/add/").status_code == 403
    assert client.get("/admin/billing/eligibilitycheck/add/").status_code == 403
    assert client.get("/admin/billing/deposit/add/").status_code == 403
    change = client.post(f"/admin/billing/coverage/{card.pk}/change/", {"member_id": "CHANGED1"})
    assert change.status_code == 403
    card.refresh_from_db()
    assert card.member_id != "CHANGED1"


def test_a_payer_is_added_in_the_admin_and_a_bad_payer_id_is_a_form_error(client_for, clinic_admin, billing_user):
    client = client_for(billing_user)

    bad = client.post("/admin/billing/payer/add/", {"name": "Bad", "payer_id": "no spaces!", "is_active": "on"})
    good = client.post("/admin/billing/payer/add/", {"name": "Cigna", "payer_id": "62308", "is_active": "on"})

    assert bad.status_code == 200 and "payer id is 2 to 80 letters or digits" in bad.content.decode()
    assert good.status_code == 302
    assert list(Payer.objects.values_list("name", "payer_id")) == [("Cigna", "62308")]
    PayerFactory()
    assert client.get("/admin/billing/payer/").status_code == 200
