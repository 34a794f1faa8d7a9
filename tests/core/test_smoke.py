import pytest
from django.urls import reverse


def test_healthz_reports_database_ok(client, db):
    response = client.get("/healthz/")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["status"] == "ok"


def test_anonymous_home_goes_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")


def test_staff_home_shows_the_dashboard_with_the_patients_apps_figures(client_for, front_desk, patient, other_patient):
    response = client_for(front_desk).get("/staff/")
    assert response.status_code == 200
    assert b"Dashboard" in response.content
    assert response.context["patient_count"] == 2  # contributed by apps/patients through core's hook
    assert response.context["jobs_ok"] is False  # no worker heartbeat in tests


def test_portal_renders_for_patient(client_for, patient):
    response = client_for(patient.user).get("/portal/")
    assert response.status_code == 200
    assert patient.mrn.encode() in response.content


def test_staff_factory_gives_the_requested_role(db):
    from tests.factories import StaffFactory

    assert StaffFactory(role="provider").role == "provider"
    assert StaffFactory().role == "front_desk"


@pytest.mark.parametrize("full_name, greeted", [
    ("Dr. Priya Shah", "Dr. Shah"), ("Camila Ortiz", "Camila"), ("dr Lee", "dr Lee"), ("", None),
])
def test_the_dashboard_greets_staff_by_name_and_title(client_for, front_desk, full_name, greeted):
    front_desk.full_name = full_name
    front_desk.save(update_fields=["full_name"])

    body = client_for(front_desk).get("/staff/").content.decode()

    assert f", {greeted or front_desk.email}</h1>" in body
    assert any(f"<h1>Good {part}," in body for part in ("morning", "afternoon", "evening"))
