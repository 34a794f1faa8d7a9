"""Staff patient pages: list and search, registration with a duplicate check, detail and edit."""
import datetime
import uuid

import pytest

from apps.accounts.roles import ROLE_PERMISSIONS
from apps.audit.models import AccessLog
from apps.patients.forms import StaffPatientForm
from apps.patients.models import DuplicateReview, Patient
from tests.factories import PatientFactory
from tests.patients.conftest import form_data

pytestmark = pytest.mark.django_db

STAFF = ["front_desk", "nurse", "provider_user", "billing_user", "clinic_admin"]
ROLE_OF = {"front_desk": "front_desk", "nurse": "nurse", "provider_user": "provider", "billing_user": "billing", "clinic_admin": "clinic_admin"}


def can(fixture, perm):
    return perm in ROLE_PERMISSIONS[ROLE_OF[fixture]]


def new_patient_data(**overrides):
    data = {"first_name": "Nora", "last_name": "Newcomer", "date_of_birth": "1977-07-07", "phone": "(212) 555-0161", "email": "nora@example.test"}
    return form_data(StaffPatientForm, None, **{**data, **overrides})


@pytest.fixture
def record_patient(db):
    return PatientFactory(first_name="Gina", last_name="Gardner", date_of_birth=datetime.date(1961, 2, 3), phone="+12125550131", city="Oldtown")


def pages(record_patient):
    return [
        "/staff/patients/",
        "/staff/patients/new/",
        f"/staff/patients/{record_patient.pk}/",
    ]


# --- permission matrix --------------------------------------------------------------------

def test_the_table_gives_what_the_pages_expect():
    """The matrix below is derived from ROLE_PERMISSIONS; pin the facts it relies on."""
    assert not can("billing_user", "patients.change_patient") and not can("billing_user", "patients.add_patient")
    assert can("nurse", "patients.change_patient") and not can("nurse", "patients.add_patient")
    assert can("provider_user", "patients.change_patient") and not can("provider_user", "patients.add_patient")
    assert can("front_desk", "patients.add_patient")


@pytest.mark.parametrize("page", [0, 1, 2])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_login(client, record_patient, page, method):
    url = pages(record_patient)[page]

    response = getattr(client, method)(url, new_patient_data())

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert Patient.objects.count() == 1


@pytest.mark.parametrize("page", [0, 1, 2])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_patient_is_sent_to_the_portal_and_sees_no_data(client_for, patient, record_patient, page, method):
    url = pages(record_patient)[page]

    response = getattr(client_for(patient.user), method)(url, new_patient_data())

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert record_patient.last_name.encode() not in response.content
    assert Patient.objects.count() == 2
    assert not AccessLog.objects.filter(patient_id=record_patient.pk).exists()


@pytest.mark.parametrize("page", [0, 1, 2])
def test_unverified_staff_are_sent_to_mfa(client_for, front_desk, record_patient, page):
    response = client_for(front_desk, verified=False).get(pages(record_patient)[page])

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/mfa/")


@pytest.mark.parametrize("role", STAFF)
def test_every_staff_role_can_search(request, client_for, role, record_patient):
    response = client_for(request.getfixturevalue(role)).get("/staff/patients/")

    assert response.status_code == 200
    assert record_patient.mrn.encode() in response.content


@pytest.mark.parametrize("role", STAFF)
def test_every_staff_role_can_view_a_record(request, client_for, role, record_patient):
    response = client_for(request.getfixturevalue(role)).get(f"/staff/patients/{record_patient.pk}/")

    assert response.status_code == 200
    assert record_patient.mrn.encode() in response.content
    assert (response.context["form"] is not None) == can(role, "patients.change_patient")
    assert (b'name="city"' in response.content) == can(role, "patients.change_patient")


@pytest.mark.parametrize("role", STAFF)
def test_only_roles_that_may_create_open_the_registration_page(request, client_for, role):
    response = client_for(request.getfixturevalue(role)).get("/staff/patients/new/")

    if can(role, "patients.add_patient"):
        assert response.status_code == 200
        assert b"<h1>Register a patient</h1>" in response.content
        assert b'name="first_name"' in response.content and b'name="date_of_birth"' in response.content
    else:
        assert response.status_code == 403
        assert b"You can't open this page" in response.content
        assert b'name="first_name"' not in response.content


@pytest.mark.parametrize("role", STAFF)
def test_only_roles_that_may_create_register_a_patient(request, client_for, role):
    response = client_for(request.getfixturevalue(role)).post("/staff/patients/new/", new_patient_data())

    created = Patient.objects.filter(last_name="Newcomer").first()
    if can(role, "patients.add_patient"):
        assert response.status_code == 302
        assert response["Location"] == f"/staff/patients/{created.pk}/"
    else:
        assert response.status_code == 403
        assert b"You can't open this page" in response.content
        assert created is None


@pytest.mark.parametrize("role", STAFF)
def test_only_roles_that_may_change_edit_a_record(request, client_for, role, record_patient):
    url = f"/staff/patients/{record_patient.pk}/"

    response = client_for(request.getfixturevalue(role)).post(url, form_data(StaffPatientForm, record_patient, city="Newtown"))

    record_patient.refresh_from_db()
    if can(role, "patients.change_patient"):
        assert response.status_code == 302
        assert response["Location"] == url
        assert record_patient.city == "Newtown"
    else:
        assert response.status_code == 403
        assert b"You can't open this page" in response.content
        assert record_patient.city == "Oldtown"
        assert not AccessLog.objects.filter(action="update").exists()


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unknown_id_is_404(request, client_for, role, method):
    response = getattr(client_for(request.getfixturevalue(role)), method)(f"/staff/patients/{uuid.uuid4()}/", {})

    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_a_malformed_id_is_404(client_for, front_desk):
    response = client_for(front_desk).get("/staff/patients/12345/")

    assert response.status_code == 404
    assert b"Page not found" in response.content


# --- list and search ----------------------------------------------------------------------

@pytest.fixture
def people(db):
    return {
        "gina": PatientFactory(first_name="Gina", last_name="Gardner", preferred_name="Gigi", date_of_birth=datetime.date(1961, 2, 3), phone="+12125550131"),
        "george": PatientFactory(first_name="George", last_name="Garrison", date_of_birth=datetime.date(1975, 8, 9), phone="+12125550132"),
        "hal": PatientFactory(first_name="Hal", last_name="Hughes", date_of_birth=datetime.date(1961, 2, 3), phone="+13105550133"),
    }


def found(client, **params):
    """The patients the list shows (checked against the page itself)."""
    response = client.get("/staff/patients/", params)
    assert response.status_code == 200
    shown = response.context["patients"]
    assert all(p.mrn.encode() in response.content for p in shown)
    return {p.pk for p in shown}


def test_search_by_name_prefix_of_any_word(client_for, front_desk, people):
    client = client_for(front_desk)

    assert found(client, q="gar") == {people["gina"].pk, people["george"].pk}
    assert found(client, q="Garrison, Geo") == {people["george"].pk}
    assert found(client, q="gigi") == {people["gina"].pk}
    assert found(client, q="nobody") == set()


def test_a_search_with_a_nul_is_400_naming_the_parameter(client_for, front_desk, people):
    response = client_for(front_desk).get("/staff/patients/", {"q": "Gar\x00"})

    assert response.status_code == 400
    assert "“q”" in response.content.decode()  # core's query middleware refuses it before the view


@pytest.mark.parametrize("params, label", [
    ({"q": "g" * 201}, "Name, MRN or phone"),
    ({"date_of_birth": "9999-12-31"}, "Date of birth"),
    ({"date_of_birth": "0001-01-01"}, "Date of birth"),
])
def test_an_unreadable_search_is_not_run_and_the_page_says_which_field(client_for, front_desk, people, params, label):
    response = client_for(front_desk).get("/staff/patients/", params)

    assert response.status_code == 400
    text = response.content.decode()
    assert "The search was not run." in text
    assert f"{label}:" in text
    assert {p.pk for p in response.context["patients"]} == {p.pk for p in people.values()}


def test_search_by_mrn(client_for, front_desk, people):
    assert found(client_for(front_desk), q=people["hal"].mrn) == {people["hal"].pk}


@pytest.mark.parametrize("typed", ["(310) 555-0133", "3105550133", "+1 310 555 0133"])
def test_search_by_phone(client_for, front_desk, people, typed):
    assert found(client_for(front_desk), q=typed) == {people["hal"].pk}


def test_search_by_date_of_birth(client_for, front_desk, people):
    client = client_for(front_desk)

    assert found(client, date_of_birth="1961-02-03") == {people["gina"].pk, people["hal"].pk}
    assert found(client, date_of_birth="1961-02-03", q="hug") == {people["hal"].pk}


def test_the_list_hides_merged_records(client_for, front_desk, people):
    people["george"].merged_into = people["gina"]
    people["george"].save()

    assert people["george"].pk not in found(client_for(front_desk))


def test_the_list_logs_one_read_per_patient_shown(client_for, billing_user, people):
    client_for(billing_user).get("/staff/patients/", {"q": "gar"})

    rows = AccessLog.objects.filter(action="read")
    assert {r.patient_id for r in rows} == {people["gina"].pk, people["george"].pk}
    assert all(r.actor_user == billing_user and r.detail == {"view": "staff_patient_list"} for r in rows)


def test_the_list_is_paginated(client_for, front_desk):
    PatientFactory.create_batch(30)
    client = client_for(front_desk)

    first = client.get("/staff/patients/")
    second = client.get("/staff/patients/", {"page": 2})

    assert len(first.context["patients"]) == 25
    assert len(second.context["patients"]) == 5
    assert not {p.pk for p in first.context["patients"]} & {p.pk for p in second.context["patients"]}


# --- registration by staff ----------------------------------------------------------------

def test_front_desk_registers_a_patient(client_for, front_desk):
    response = client_for(front_desk).post("/staff/patients/new/", new_patient_data(), follow=True)

    patient = Patient.objects.get(last_name="Newcomer")
    assert patient.phone == "+12125550161"
    assert patient.user is None
    assert len(patient.mrn) == 8
    assert f"MRN {patient.mrn}".encode() in response.content
    assert AccessLog.objects.filter(action="create", patient_id=patient.pk, actor_user=front_desk).exists()


def test_registration_form_errors_are_400(client_for, front_desk):
    response = client_for(front_desk).post("/staff/patients/new/", new_patient_data(phone="12345", first_name=None))

    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"phone", "first_name"}
    assert not Patient.objects.exists()


def test_a_service_rule_is_a_form_error_too(client_for, front_desk):
    response = client_for(front_desk).post("/staff/patients/new/", new_patient_data(date_of_birth="2999-01-01"))

    assert response.status_code == 400
    assert response.context["form"].errors["date_of_birth"] == ["Date of birth cannot be in the future."]
    assert not Patient.objects.exists()


def test_a_possible_duplicate_is_shown_before_anything_is_created(client_for, front_desk):
    existing = PatientFactory(first_name="Nora", last_name="Newcomer", date_of_birth=datetime.date(1977, 7, 7))

    response = client_for(front_desk).post("/staff/patients/new/", new_patient_data())

    assert response.status_code == 400
    assert Patient.objects.count() == 1
    assert b"may already be registered" in response.content
    assert existing.mrn.encode() in response.content
    assert b'name="confirm_new"' in response.content
    assert AccessLog.objects.filter(action="read", patient_id=existing.pk, detail={"view": "duplicate_check"}).exists()


def test_confirming_a_new_patient_creates_it_and_flags_the_pair(client_for, front_desk):
    existing = PatientFactory(first_name="Nora", last_name="Newcomer", date_of_birth=datetime.date(1977, 7, 7))

    response = client_for(front_desk).post("/staff/patients/new/", new_patient_data(confirm_new="1"))

    assert response.status_code == 302
    new = Patient.objects.exclude(pk=existing.pk).get()
    review = DuplicateReview.objects.get()
    assert (review.existing, review.other, review.registration) == (existing, new, None)
    assert review.status == DuplicateReview.Status.OPEN


# --- detail and edit ----------------------------------------------------------------------

def test_viewing_a_record_logs_a_read(client_for, nurse, record_patient):
    client_for(nurse).get(f"/staff/patients/{record_patient.pk}/")

    row = AccessLog.objects.get(action="read")
    assert (row.patient_id, row.actor_user, row.role) == (record_patient.pk, nurse, "nurse")


def test_staff_can_correct_the_legal_name_and_dob(client_for, front_desk, record_patient):
    url = f"/staff/patients/{record_patient.pk}/"

    client_for(front_desk).post(url, form_data(StaffPatientForm, record_patient, last_name="Gardener", date_of_birth="1961-02-04"))

    record_patient.refresh_from_db()
    assert record_patient.last_name == "Gardener"
    assert record_patient.date_of_birth == datetime.date(1961, 2, 4)
    row = AccessLog.objects.get(action="update")
    assert row.detail == {"fields": ["date_of_birth", "last_name"]}


def test_an_invalid_edit_is_400_and_saves_nothing(client_for, provider_user, record_patient):
    url = f"/staff/patients/{record_patient.pk}/"

    response = client_for(provider_user).post(url, form_data(StaffPatientForm, record_patient, city="Newtown", phone="999"))

    assert response.status_code == 400
    assert "phone" in response.context["form"].errors
    record_patient.refresh_from_db()
    assert record_patient.city == "Oldtown"
    assert AccessLog.objects.filter(action="read", patient_id=record_patient.pk).count() == 1


def test_billing_sees_a_read_only_page(client_for, billing_user, record_patient):
    response = client_for(billing_user).get(f"/staff/patients/{record_patient.pk}/")

    assert b"<form method=\"post\" class=\"card form-grid\"" not in response.content
    assert record_patient.phone.encode() in response.content
