import datetime

import pytest

from apps.audit.models import AccessLog
from apps.patients.forms import PatientContactForm
from apps.patients.models import Patient
from tests.patients.conftest import form_data

pytestmark = pytest.mark.django_db

URL = "/portal/"


def contact_data(patient, **overrides):
    return form_data(PatientContactForm, patient, **overrides)


# --- who gets in --------------------------------------------------------------------------

def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={URL}"


def test_anonymous_post_changes_nothing(client, patient):
    response = client.post(URL, contact_data(patient, city="Nowhere"))

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.city != "Nowhere"


@pytest.mark.parametrize("role", ["front_desk", "nurse", "provider_user", "billing_user", "clinic_admin"])
def test_staff_are_redirected_to_the_staff_pages(request, client_for, role):
    staff = request.getfixturevalue(role)

    response = client_for(staff).get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_unverified_staff_are_sent_to_mfa(client_for, front_desk):
    response = client_for(front_desk, verified=False).get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/mfa/")


def test_a_user_without_a_record_sees_the_pending_page_only(client_for, registrant, other_patient):
    user = registrant()

    response = client_for(user).get(URL)

    assert response.status_code == 200
    assert b"finishing your registration" in response.content
    assert other_patient.mrn.encode() not in response.content
    assert not AccessLog.objects.filter(action="read").exists()


# --- reading ------------------------------------------------------------------------------

def test_patient_sees_their_own_record(client_for, patient, other_patient):
    response = client_for(patient.user).get(URL)

    assert response.status_code == 200
    content = response.content.decode()
    assert patient.mrn in content
    assert patient.legal_name in content
    assert other_patient.mrn not in content
    assert other_patient.email not in content
    assert other_patient.phone not in content


def test_viewing_the_portal_writes_an_audit_read_row(client_for, patient):
    client_for(patient.user).get(URL, HTTP_USER_AGENT="pytest-browser")

    row = AccessLog.objects.get(action="read")
    assert row.patient_id == patient.pk
    assert row.object_id == str(patient.pk)
    assert row.actor_user == patient.user
    assert row.role == "patient"
    assert row.path == URL
    assert row.user_agent == "pytest-browser"


def test_every_view_writes_a_row(client_for, patient):
    client = client_for(patient.user)

    for _ in range(3):
        client.get(URL)

    assert AccessLog.objects.filter(action="read", patient_id=patient.pk).count() == 3


# --- editing ------------------------------------------------------------------------------

def test_valid_save_redirects_and_persists(client_for, patient):
    client = client_for(patient.user)

    response = client.post(
        URL,
        contact_data(
            patient, preferred_name="Bee", city="Springfield", postal_code="12345", preferred_language="es",
            quiet_hours_start="21:00", quiet_hours_end="07:30", sms_opt_in=None,
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == URL
    patient.refresh_from_db()
    assert patient.preferred_name == "Bee"
    assert patient.city == "Springfield"
    assert patient.preferred_language == "es"
    assert patient.quiet_hours_start == datetime.time(21, 0)
    assert patient.quiet_hours_end == datetime.time(7, 30)
    assert patient.sms_opt_in is False
    follow = client.get(URL)
    assert b"Your details were saved." in follow.content


def test_save_records_changed_field_names_only(client_for, patient):
    client_for(patient.user).post(URL, contact_data(patient, city="Secretville", preferred_name="Bee"))

    row = AccessLog.objects.get(action="update", patient_id=patient.pk)
    assert row.detail == {"fields": ["city", "preferred_name"]}
    assert row.actor_user == patient.user
    assert "Secretville" not in str(row.detail)


def test_a_phone_typed_naturally_is_stored_in_e164(client_for, patient):
    response = client_for(patient.user).post(URL, contact_data(patient, phone="(212) 555-0142", emergency_contact_phone="212.555.0143"))

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "+12125550142"
    assert patient.emergency_contact_phone == "+12125550143"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"phone": "12345"}, "phone"),
        ({"emergency_contact_phone": "not a phone"}, "emergency_contact_phone"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"preferred_language": "xx"}, "preferred_language"),
        ({"quiet_hours_start": "22:00", "quiet_hours_end": None}, "quiet_hours_end"),
        ({"country": "USA"}, "country"),
    ],
)
def test_invalid_save_is_400_with_errors_and_saves_nothing(client_for, patient, overrides, field):
    before = Patient.objects.get(pk=patient.pk)

    response = client_for(patient.user).post(URL, contact_data(patient, city="Changed", **overrides))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert b'class="error"' in response.content
    after = Patient.objects.get(pk=patient.pk)
    assert after.city == before.city
    assert not AccessLog.objects.filter(action="update").exists()


def test_a_rejected_save_still_logs_the_read(client_for, patient):
    response = client_for(patient.user).post(URL, contact_data(patient, phone="12345"))

    assert response.status_code == 400
    assert patient.mrn.encode() in response.content  # the page shows the record again...
    assert AccessLog.objects.filter(action="read", patient_id=patient.pk).count() == 1  # ...so it is logged


def test_legal_name_dob_email_and_mrn_cannot_be_changed_here(client_for, patient):
    before = Patient.objects.get(pk=patient.pk)

    response = client_for(patient.user).post(
        URL,
        contact_data(
            patient, first_name="Mallory", last_name="Forged", middle_name="X", date_of_birth="2001-01-01",
            email="forged@example.test", mrn="00000000", sex_at_birth="M", city="Springfield",
        ),
    )

    assert response.status_code == 302
    after = Patient.objects.get(pk=patient.pk)
    assert (after.first_name, after.last_name, after.middle_name) == (before.first_name, before.last_name, before.middle_name)
    assert after.date_of_birth == before.date_of_birth
    assert after.email == before.email
    assert after.mrn == before.mrn
    assert after.sex_at_birth == before.sex_at_birth
    assert after.city == "Springfield"


def test_a_patient_cannot_edit_another_patient(client_for, patient, other_patient):
    client_for(patient.user).post(URL, contact_data(patient, city="Mine"))

    other_patient.refresh_from_db()
    assert other_patient.city != "Mine"
    assert Patient.objects.get(pk=patient.pk).city == "Mine"


def test_put_is_not_allowed(client_for, patient):
    assert client_for(patient.user).put(URL).status_code == 405
