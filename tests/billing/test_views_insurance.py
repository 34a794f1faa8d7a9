"""Insurance pages: the patient's cards in the portal (their own only), the staff billing page
with cards, eligibility (copay and deductible) and the re-check button, adding and removing a
card, the section on the staff patient page; permissions per role."""
import pytest

from apps.audit.models import AccessLog
from apps.billing import services
from apps.billing.models import Coverage, EligibilityCheck, Payer
from tests.billing.factories import PayerFactory, coverage

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked(patient, biller):
    card = coverage(patient)
    services.eligibility_check(coverage=card, actor=biller)
    return card


def test_the_portal_shows_the_patients_own_card_with_copay_and_deductible(client_for, patient, checked):
    response = client_for(patient.user).get("/portal/billing/insurance/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Aetna" in html and "W123456789" in html
    assert 'data-copay>$25.00' in html and "$1500.00 ($650.00 left)" in html and "20%" in html
    assert AccessLog.objects.filter(action="read", object_id=str(checked.pk), detail__view="portal_insurance").exists()


def test_another_patient_sees_none_of_it(client_for, other_patient, checked):
    response = client_for(other_patient.user).get("/portal/billing/insurance/")

    assert response.status_code == 200
    assert b"W123456789" not in response.content and b"No insurance card on file" in response.content


def test_the_staff_billing_page_shows_eligibility_and_rechecks_on_demand(client_for, billing_user, patient, checked):
    client = client_for(billing_user)
    page = client.get(f"/staff/billing/patients/{patient.pk}/")
    assert page.status_code == 200 and b"Re-check eligibility" in page.content and b"data-copay>$25.00" in page.content

    response = client.post(f"/staff/billing/coverages/{checked.pk}/check/", follow=True)

    assert response.status_code == 200
    assert b"Eligibility checked: coverage is active." in response.content
    assert EligibilityCheck.objects.filter(coverage=checked).count() == 2


def test_a_recheck_of_a_member_the_payer_cannot_find_says_why(client_for, billing_user, patient):
    card = coverage(patient, member_id="NOTFOUND12")

    response = client_for(billing_user).post(f"/staff/billing/coverages/{card.pk}/check/", follow=True)

    assert response.status_code == 200
    assert b"The member ID is invalid or missing" in response.content


def test_billing_staff_add_a_card_and_a_bad_one_is_a_form_error(client_for, billing_user, patient):
    payer = PayerFactory()
    client = client_for(billing_user)
    form = {"payer": str(payer.pk), "member_id": "W777", "group_number": "", "priority": "PRIMARY", "relationship": "19",
            "effective_from": "2026-01-01"}

    refused = client.post(f"/staff/billing/patients/{patient.pk}/coverages/", form)
    assert refused.status_code == 400
    assert b"Give the subscriber&#x27;s name and date of birth" in refused.content
    assert not Coverage.objects.exists()

    hostile = client.post(f"/staff/billing/patients/{patient.pk}/coverages/", {**form, "member_id": "W\x00", "relationship": "18"})
    assert hostile.status_code == 400 and not Coverage.objects.exists()

    made = client.post(f"/staff/billing/patients/{patient.pk}/coverages/", {**form, "relationship": "18"}, follow=True)
    assert made.status_code == 200 and b"Insurance card added." in made.content
    assert Coverage.objects.get(patient=patient).member_id == "W777"


def test_billing_staff_remove_a_card(client_for, billing_user, patient, checked):
    response = client_for(billing_user).post(f"/staff/billing/coverages/{checked.pk}/remove/", follow=True)

    assert response.status_code == 200 and b"Insurance card removed." in response.content
    checked.refresh_from_db()
    assert checked.is_active is False


@pytest.mark.parametrize("role", ["front_desk", "nurse", "provider_user"])
def test_other_staff_cannot_check_or_change_cards(client_for, request, role, checked, patient):
    client = client_for(request.getfixturevalue(role))

    assert client.post(f"/staff/billing/coverages/{checked.pk}/check/").status_code == 403
    assert client.post(f"/staff/billing/coverages/{checked.pk}/remove/").status_code == 403
    assert client.post(f"/staff/billing/patients/{patient.pk}/coverages/", {}).status_code == 403
    assert EligibilityCheck.objects.count() == 1


def test_a_patient_cannot_reach_the_staff_buttons(client_for, patient, checked):
    response = client_for(patient.user).post(f"/staff/billing/coverages/{checked.pk}/check/")

    # Staff pages send a patient back to their portal.
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert EligibilityCheck.objects.count() == 1


def test_the_staff_patient_page_has_the_insurance_section_for_billing_staff_only(client_for, billing_user, front_desk,
                                                                                 patient, checked):
    billing = client_for(billing_user).get(f"/staff/patients/{patient.pk}/")
    desk = client_for(front_desk).get(f"/staff/patients/{patient.pk}/")

    assert billing.status_code == 200 and b"Insurance and eligibility" in billing.content and b"data-copay>$25.00" in billing.content
    assert desk.status_code == 200 and b"Insurance and eligibility" not in desk.content


def test_an_unknown_coverage_is_404(client_for, billing_user):
    response = client_for(billing_user).post("/staff/billing/coverages/00000000-0000-0000-0000-000000000000/check/")

    assert response.status_code == 404
    assert Payer.objects.count() == 0
