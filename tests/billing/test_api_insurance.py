"""The insurance API: payers, coverages (add, change, remove), eligibility checks (create with
the cache, retrieve, list) and estimates; who may call each (staff roles by permission, keys
by scope, patients 403), errors in the one format, hostile input as a 400 naming the field."""
import datetime

import pytest

from apps.audit.models import AccessLog
from apps.billing.models import Coverage, EligibilityCheck, VisitTypeCode
from tests.billing.factories import PayerFactory, coverage
from tests.conftest import api_keyed_client, api_session, login
from tests.scheduling.factories import VisitTypeFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def card(patient):
    return coverage(patient)


@pytest.fixture
def staff(front_desk, nurse, provider_user, billing_user, clinic_admin):
    return {"front_desk": front_desk, "nurse": nurse, "provider": provider_user, "billing": billing_user, "admin": clinic_admin}


@pytest.mark.parametrize("role, allowed", [("billing", True), ("admin", True), ("front_desk", False), ("nurse", False),
                                           ("provider", False)])
def test_coverages_are_for_billing_staff(role, allowed, staff, card):
    response = api_session(staff[role]).get(f"{API}/coverages/{card.pk}/")

    if allowed:
        assert response.status_code == 200
        assert response.json()["member_id"] == "W123456789" and response.json()["payer"]["payer_id"] == "60054"
        assert AccessLog.objects.filter(action="read", object_id=str(card.pk)).exists()
    else:
        assert response.status_code == 403


def test_patients_and_anonymous_are_refused_by_the_api(client, patient, card):
    from rest_framework.test import APIClient

    assert APIClient().get(f"{API}/coverages/").status_code in (401, 403)
    patient_client = login(APIClient(), patient.user)
    assert patient_client.get(f"{API}/coverages/{card.pk}/").status_code == 403


def test_a_billing_key_adds_a_card_and_a_read_key_cannot(api_key_factory, patient):
    PayerFactory()
    _, write = api_key_factory("billing:read", "billing:write")
    _, read = api_key_factory("billing:read")
    body = {"patient": str(patient.pk), "payer": "60054", "member_id": "W555", "group_number": "G1",
            "effective_from": "2026-01-01"}

    refused = api_keyed_client(read).post(f"{API}/coverages/", body, format="json")
    made = api_keyed_client(write).post(f"{API}/coverages/", body, format="json")

    assert refused.status_code == 403
    assert made.status_code == 201 and made.json()["member_id"] == "W555" and made.json()["priority"] == "PRIMARY"
    again = api_keyed_client(write).post(f"{API}/coverages/", body, format="json")
    assert again.status_code == 400 and "priority" in again.json()["extra"]["fields"]
    assert Coverage.objects.filter(patient=patient).count() == 1


@pytest.mark.parametrize("field, value", [
    ("member_id", "W1\x00"), ("member_id", "x" * 10_000), ("group_number", "G\x00"), ("payer", "NOPE"),
    ("effective_from", "0001-01-01"), ("effective_from", "9999-12-31"), ("subscriber_date_of_birth", "9999-12-31"),
    ("subscriber_first_name", "a" * 10_000), ("relationship", "99"),
])
def test_hostile_coverage_input_is_a_400_naming_the_field(api_session_biller, patient, field, value):
    PayerFactory()
    body = {"patient": str(patient.pk), "payer": "60054", "member_id": "W555", field: value}

    response = api_session_biller.post(f"{API}/coverages/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["extra"]["fields"]
    assert not Coverage.objects.exists()


@pytest.fixture
def api_session_biller(billing_user):
    return api_session(billing_user)


def test_a_card_is_changed_and_removed(api_session_biller, card):
    changed = api_session_biller.patch(f"{API}/coverages/{card.pk}/", {"group_number": "G200"}, format="json")
    removed = api_session_biller.delete(f"{API}/coverages/{card.pk}/")

    assert changed.status_code == 200 and changed.json()["group_number"] == "G200"
    assert removed.status_code == 204
    listed = api_session_biller.get(f"{API}/coverages/", {"patient": str(card.patient_id)})
    assert listed.status_code == 200 and listed.json()["results"] == []


def test_an_eligibility_check_is_made_then_answered_from_the_cache_then_forced(api_session_biller, card):
    first = api_session_biller.post(f"{API}/eligibility-checks/", {"coverage": str(card.pk)}, format="json")
    cached = api_session_biller.post(f"{API}/eligibility-checks/", {"coverage": str(card.pk)}, format="json")
    forced = api_session_biller.post(f"{API}/eligibility-checks/", {"coverage": str(card.pk), "force": True}, format="json")

    assert first.status_code == 201 and first.json()["outcome"] == "ACTIVE"
    copay = next(b for b in first.json()["result"]["benefits"] if b["info"] == "B")
    assert copay["amount"] == "25"
    assert cached.status_code == 200 and cached.json()["id"] == first.json()["id"]
    assert forced.status_code == 201 and forced.json()["id"] != first.json()["id"]
    got = api_session_biller.get(f"{API}/eligibility-checks/{first.json()['id']}/")
    assert got.status_code == 200 and got.json()["status"] == "COMPLETE"
    assert EligibilityCheck.objects.count() == 2


def test_a_rejected_member_answers_the_reason_in_words(api_session_biller, patient):
    card = coverage(patient, member_id="NOTFOUND77")

    response = api_session_biller.post(f"{API}/eligibility-checks/", {"coverage": str(card.pk)}, format="json")

    assert response.status_code == 201
    assert response.json()["outcome"] == "REJECTED"
    assert "member ID is invalid" in response.json()["message"]


@pytest.mark.parametrize("body, field", [
    ({"coverage": "not-a-uuid"}, "coverage"), ({"coverage": "00000000-0000-0000-0000-000000000000", "service_type": "\x00"},
                                              "service_type"),
    ({"coverage": "00000000-0000-0000-0000-000000000000", "service_date": "9999-12-31"}, "service_date"),
])
def test_hostile_eligibility_input_is_a_400(api_session_biller, body, field):
    response = api_session_biller.post(f"{API}/eligibility-checks/", body, format="json")

    assert response.status_code == 400 and field in response.json()["extra"]["fields"]
    assert not EligibilityCheck.objects.exists()


def test_an_unknown_coverage_is_a_404_in_the_one_format(api_session_biller):
    response = api_session_biller.post(f"{API}/eligibility-checks/", {"coverage": "00000000-0000-0000-0000-000000000000"},
                                       format="json")

    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_an_estimate_over_the_api(api_session_biller, patient, card, fees):
    visit_type = VisitTypeFactory(default_billing_codes=[])
    VisitTypeCode.objects.create(visit_type=visit_type, code="99213", position=1)

    response = api_session_biller.post(f"{API}/estimates/", {"patient": str(patient.pk), "visit_type": str(visit_type.pk),
                                                             "date": str(datetime.date.today())}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["patient_amount"] == "25.00" and response.json()["basis"] == "copay"
    assert response.json()["insurance_amount"] == "100.00"


def test_payers_are_listed(api_session_biller):
    PayerFactory()

    response = api_session_biller.get(f"{API}/payers/")

    assert response.status_code == 200 and response.json()["results"][0]["payer_id"] == "60054"
