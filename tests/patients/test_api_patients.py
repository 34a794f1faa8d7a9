"""/api/v1/patients/: integrators (API keys with scopes) and MFA-verified staff sessions."""
import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AccessLog
from apps.patients.models import DuplicateReview, Patient
from tests.conftest import api_keyed_client as keyed, api_session as session
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/patients/"


def one(patient):
    return f"/api/v1/patients/{patient.pk}/"


@pytest.fixture
def integrator(integrator_key):
    return keyed(integrator_key[1])


@pytest.fixture
def reader(api_key_factory):
    return keyed(api_key_factory("patients:read")[1])


NEW = {"first_name": "Ivan", "last_name": "Integrated", "date_of_birth": "1988-08-08", "phone": "(212) 555-0171", "email": "ivan@example.test"}


# --- who may call -------------------------------------------------------------------------

def test_anonymous_is_401_with_the_error_format(api_client, db):
    response = api_client.get(LIST)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert set(response.json()) == {"code", "message", "extra"}


@pytest.mark.parametrize("raw", ["ck_nope.nope", "garbage"])
def test_an_invalid_key_is_401(db, raw):
    assert keyed(raw).get(LIST).status_code == 401


def test_a_revoked_key_is_401(integrator_key):
    from apps.accounts.services import api_key_revoke

    key, raw = integrator_key
    api_key_revoke(api_key=key)

    assert keyed(raw).get(LIST).status_code == 401


def test_a_key_without_patient_scopes_is_403(api_key_factory, patient):
    client = keyed(api_key_factory("audit:read")[1])

    assert client.get(LIST).status_code == 403
    assert client.get(one(patient)).status_code == 403
    assert client.post(LIST, NEW, format="json").status_code == 403


def test_a_read_only_key_reads_but_cannot_write(reader, patient):
    listing = reader.get(LIST)
    shown = reader.get(one(patient))

    assert listing.status_code == 200
    assert [r["id"] for r in listing.json()["results"]] == [str(patient.pk)]
    assert shown.status_code == 200
    assert (shown.json()["id"], shown.json()["mrn"]) == (str(patient.pk), patient.mrn)

    create = reader.post(LIST, NEW, format="json")
    patch = reader.patch(one(patient), {"city": "X"}, format="json")
    put = reader.put(one(patient), {**NEW}, format="json")

    assert (create.status_code, patch.status_code, put.status_code) == (403, 403, 403)
    assert create.json()["code"] == "permission_denied"
    assert not Patient.objects.filter(last_name="Integrated").exists()
    patient.refresh_from_db()
    assert patient.city != "X"


def test_a_patient_session_is_403_even_for_their_own_record(patient, other_patient):
    client = session(patient.user)

    assert client.get(LIST).status_code == 403
    assert client.get(one(patient)).status_code == 403
    assert client.get(one(other_patient)).status_code == 403
    assert client.patch(one(patient), {"city": "X"}, format="json").status_code == 403
    assert not AccessLog.objects.filter(action="read").exists()


def test_unverified_staff_are_not_signed_in(front_desk, patient):
    client = session(front_desk, verified=False)

    # The session counts as anonymous until the second factor is verified.
    assert client.get(LIST).status_code == 401
    assert client.get(one(patient)).status_code == 401
    assert client.post(LIST, NEW, format="json").status_code == 401
    assert not Patient.objects.filter(last_name="Integrated").exists()


@pytest.mark.parametrize(
    "role, can_create, can_change",
    [
        ("front_desk", True, True),
        ("nurse", False, True),
        ("provider_user", False, True),
        ("billing_user", False, False),
        ("clinic_admin", True, True),
    ],
)
def test_staff_sessions_follow_their_role(request, patient, role, can_create, can_change):
    client = session(request.getfixturevalue(role))

    listing = client.get(LIST)
    shown = client.get(one(patient))
    created = client.post(LIST, NEW, format="json")
    patched = client.patch(one(patient), {"city": "Staffton"}, format="json")

    assert listing.status_code == 200
    assert [r["id"] for r in listing.json()["results"]] == [str(patient.pk)]
    assert shown.status_code == 200
    assert (shown.json()["id"], shown.json()["mrn"]) == (str(patient.pk), patient.mrn)
    if can_create:
        assert created.status_code == 201
        assert (created.json()["last_name"], created.json()["phone"]) == ("Integrated", "+12125550171")
        assert Patient.objects.filter(pk=created.json()["id"], last_name="Integrated").exists()
    else:
        assert created.status_code == 403
        assert created.json()["code"] == "permission_denied"
        assert not Patient.objects.filter(last_name="Integrated").exists()
    patient.refresh_from_db()
    if can_change:
        assert patched.status_code == 200
        assert (patched.json()["id"], patched.json()["city"]) == (str(patient.pk), "Staffton")
        assert patient.city == "Staffton"
    else:
        assert patched.status_code == 403
        assert patched.json()["code"] == "permission_denied"
        assert patient.city != "Staffton"


def test_an_unknown_id_is_404(integrator):
    response = integrator.get(f"/api/v1/patients/{uuid.uuid4()}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_merged_record_is_not_served(integrator):
    target = PatientFactory()
    merged = PatientFactory(merged_into=target)

    response = integrator.get(one(merged))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert merged.mrn not in response.content.decode()


# --- list and filters ---------------------------------------------------------------------

@pytest.fixture
def people(db):
    return {
        "gina": PatientFactory(first_name="Gina", last_name="Gardner", date_of_birth=datetime.date(1961, 2, 3), phone="+12125550131"),
        "george": PatientFactory(first_name="George", last_name="Garrison", date_of_birth=datetime.date(1975, 8, 9), phone="+12125550132"),
        "hal": PatientFactory(first_name="Hal", last_name="Hughes", date_of_birth=datetime.date(1961, 2, 3), phone="+13105550133"),
    }


def ids(response):
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


def test_list_shape(integrator, people):
    body = integrator.get(LIST).json()

    assert body["count"] == 3
    assert set(body) >= {"count", "next", "previous", "results"}
    first = body["results"][0]
    assert {"id", "mrn", "first_name", "last_name", "date_of_birth", "phone", "has_portal_login"} <= set(first)
    assert [r["last_name"] for r in body["results"]] == ["Gardner", "Garrison", "Hughes"]


def test_filter_q_by_name_mrn_and_phone(integrator, people):
    assert ids(integrator.get(LIST, {"q": "gar"})) == {str(people["gina"].pk), str(people["george"].pk)}
    assert ids(integrator.get(LIST, {"q": people["hal"].mrn})) == {str(people["hal"].pk)}
    assert ids(integrator.get(LIST, {"q": "(310) 555-0133"})) == {str(people["hal"].pk)}


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1961-02-30", "1961-02-03\x00"])
def test_a_date_of_birth_filter_outside_the_supported_years_is_400_naming_it(integrator, people, value):
    response = integrator.get(LIST, {"date_of_birth": value})

    assert response.status_code == 400, response.content
    assert set(response.json()["extra"]["fields"]) == {"date_of_birth"}


def test_filter_date_of_birth_mrn_and_phone(integrator, people):
    assert ids(integrator.get(LIST, {"date_of_birth": "1961-02-03"})) == {str(people["gina"].pk), str(people["hal"].pk)}
    assert ids(integrator.get(LIST, {"mrn": people["george"].mrn})) == {str(people["george"].pk)}
    assert ids(integrator.get(LIST, {"phone": "212-555-0132"})) == {str(people["george"].pk)}
    assert ids(integrator.get(LIST, {"phone": "+1 (212) 555 0131", "date_of_birth": "1961-02-03"})) == {str(people["gina"].pk)}
    assert ids(integrator.get(LIST, {"phone": "abc"})) == set()


def test_a_bad_filter_value_is_400(integrator, people):
    response = integrator.get(LIST, {"date_of_birth": "yesterday"})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_pagination_with_page_size(integrator):
    PatientFactory.create_batch(7)

    first = integrator.get(LIST, {"page_size": 3}).json()
    third = integrator.get(LIST, {"page_size": 3, "page": 3}).json()

    assert first["count"] == 7
    assert len(first["results"]) == 3
    assert first["next"] and first["previous"] is None
    assert len(third["results"]) == 1
    assert third["next"] is None


def test_page_size_is_capped(integrator):
    PatientFactory.create_batch(3)

    assert len(integrator.get(LIST, {"page_size": 1000}).json()["results"]) == 3  # max 100, no error


def test_list_writes_one_read_entry_naming_the_patients_shown(integrator_key, people):
    key, raw = integrator_key
    client = keyed(raw)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"page_size": 2})

    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT") and "audit_accesslog" in q["sql"]]
    assert len(inserts) == 1
    entry = AccessLog.objects.get(action="read")
    assert [str(pid) for pid in entry.patient_ids] == [r["id"] for r in response.json()["results"]]
    assert (entry.actor_api_key, entry.actor_label, entry.patient_id) == (key, f"api-key:{key.name}", None)


def test_an_empty_list_writes_no_rows(integrator, db):
    assert integrator.get(LIST).json()["count"] == 0
    assert not AccessLog.objects.exists()


# --- retrieve -----------------------------------------------------------------------------

def test_retrieve_returns_the_record_and_logs_a_read(integrator_key, patient):
    key, raw = integrator_key

    response = keyed(raw).get(one(patient))

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["mrn"], body["has_portal_login"]) == (str(patient.pk), patient.mrn, True)
    row = AccessLog.objects.get(action="read")
    assert (row.patient_id, row.actor_api_key) == (patient.pk, key)


# --- create -------------------------------------------------------------------------------

def test_create_returns_201_with_an_mrn_and_e164_phone(integrator):
    response = integrator.post(LIST, NEW, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["mrn"]) == 8
    assert body["phone"] == "+12125550171"
    assert body["has_portal_login"] is False
    patient = Patient.objects.get(pk=body["id"])
    assert AccessLog.objects.filter(action="create", patient_id=patient.pk).exists()


@pytest.mark.parametrize(
    "overrides, fields",
    [
        ({"first_name": ""}, {"first_name"}),
        ({"date_of_birth": "not-a-date"}, {"date_of_birth"}),
        ({"sex_at_birth": "Q"}, {"sex_at_birth"}),
        ({"phone": "12345"}, {"phone"}),
        ({"date_of_birth": "2999-01-01"}, {"date_of_birth"}),
        ({"quiet_hours_start": "22:00"}, {"quiet_hours_end"}),
    ],
)
def test_create_with_bad_input_is_400_with_field_errors(integrator, overrides, fields):
    response = integrator.post(LIST, {**NEW, **overrides}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert isinstance(body["message"], str) and body["message"]
    assert set(body["extra"]["fields"]) == fields
    assert all(isinstance(m, str) for messages in body["extra"]["fields"].values() for m in messages)
    assert not Patient.objects.exists()


def test_create_ignores_read_only_fields(integrator):
    response = integrator.post(LIST, {**NEW, "mrn": "11111111", "id": str(uuid.uuid4())}, format="json")

    assert response.status_code == 201
    assert response.json()["mrn"] != "11111111"


def test_create_flags_a_possible_duplicate(integrator):
    existing = PatientFactory(first_name="Ivan", last_name="Integrated", date_of_birth=datetime.date(1988, 8, 8))

    response = integrator.post(LIST, NEW, format="json")

    assert response.status_code == 201
    assert DuplicateReview.objects.get().existing == existing


# --- update -------------------------------------------------------------------------------

def test_patch_changes_only_given_fields_and_logs_names(integrator, patient):
    before = Patient.objects.get(pk=patient.pk)

    response = integrator.patch(one(patient), {"city": "Patchville", "phone": "212 555 0199"}, format="json")

    assert response.status_code == 200
    assert response.json()["phone"] == "+12125550199"
    after = Patient.objects.get(pk=patient.pk)
    assert (after.city, after.phone) == ("Patchville", "+12125550199")
    assert (after.first_name, after.date_of_birth, after.email) == (before.first_name, before.date_of_birth, before.email)
    row = AccessLog.objects.get(action="update")
    assert row.detail == {"fields": ["city", "phone"]}


def test_patch_with_bad_input_is_400_and_saves_nothing(integrator, patient):
    response = integrator.patch(one(patient), {"city": "Nope", "phone": "999"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"phone"}
    assert Patient.objects.get(pk=patient.pk).city != "Nope"


def test_put_replaces_the_details(integrator, patient):
    response = integrator.put(
        one(patient), {"first_name": "Put", "last_name": "Person", "date_of_birth": "1999-09-09", "city": "Putney"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["first_name"], response.json()["city"]) == ("Put", "Putney")
    patient.refresh_from_db()
    assert (patient.first_name, patient.last_name, patient.date_of_birth, patient.city) == ("Put", "Person", datetime.date(1999, 9, 9), "Putney")


def test_put_requires_the_legal_fields(integrator, patient):
    response = integrator.put(one(patient), {"city": "Putney"}, format="json")

    assert response.status_code == 400
    assert {"first_name", "last_name", "date_of_birth"} <= set(response.json()["extra"]["fields"])


def test_write_on_an_unknown_id_is_404(integrator):
    response = integrator.patch(f"/api/v1/patients/{uuid.uuid4()}/", {"city": "X"}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Patient.objects.filter(city="X").exists()


def test_delete_is_not_offered(integrator, patient):
    assert integrator.delete(one(patient)).status_code == 405
    assert Patient.objects.filter(pk=patient.pk).exists()
