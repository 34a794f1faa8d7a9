"""/api/v1/portal/readings/ and its permissions, through a phone app's session token: the
owner's readings stored and listed, another patient's never shown, anonymous and staff refused,
bad input a 400 naming the field with nothing written, a retried upload not doubled."""
import datetime

import pytest
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.records.models import PatientReading
from tests.conftest import api_keyed_client, api_session
from tests.portal_api.test_api_portal import App, sign_in

pytestmark = pytest.mark.django_db


def when(minutes_ago=30):
    return (timezone.now() - datetime.timedelta(minutes=minutes_ago)).replace(microsecond=0).isoformat()


def bp(systolic=132, diastolic=84, minutes_ago=30):
    return {"kind": "blood_pressure", "value": systolic, "diastolic": diastolic, "unit": "mmHg",
            "measured_at": when(minutes_ago), "source": "Omron BP7000"}


@pytest.fixture
def app(patient):
    return App(sign_in(patient.user))


def allow(app, **kinds):
    response = app.patch("readings/permissions/", kinds)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_patient_turns_syncing_on_and_posts_a_blood_pressure_reading(app, patient):
    assert app.get("readings/permissions/").json()["blood_pressure"] is False
    assert allow(app, blood_pressure=True)["blood_pressure"] is True

    response = app.post("readings/", {"readings": [bp()]})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["accepted"] == 1 and body["duplicates"] == 0
    assert body["readings"][0]["value"] == 132 and body["readings"][0]["diastolic"] == 84
    assert body["readings"][0]["unit"] == "mm[Hg]" and body["readings"][0]["patient_reported"] is True
    assert PatientReading.objects.get(patient=patient).source == "Omron BP7000"


def test_a_retry_is_answered_200_and_stores_nothing_new(app, patient):
    allow(app, blood_pressure=True)
    reading = bp()  # once: two calls a second apart would be two times, so two readings
    app.post("readings/", {"readings": [reading]})

    again = app.post("readings/", {"readings": [reading]})

    assert again.status_code == 200
    assert again.json()["accepted"] == 0 and again.json()["duplicates"] == 1
    assert PatientReading.objects.filter(patient=patient).count() == 1


def test_a_type_turned_off_and_bad_fields_are_a_400_naming_each_and_nothing_is_written(app, patient):
    allow(app, blood_pressure=True)
    response = app.post("readings/", {"readings": [
        bp(), bp(systolic=900), {"kind": "steps", "value": 10, "unit": "steps", "measured_at": when(), "source": "x"}]})

    assert response.status_code == 400
    fields = response.json()["extra"]["fields"]
    assert "between 50 and 260" in fields["readings.1.value"][0]
    assert "turned off" in fields["readings.2.kind"][0]
    assert not PatientReading.objects.exists()


@pytest.mark.parametrize("body", [{}, {"readings": "many"}, {"readings": [None]}, [1, 2], {"readings": [{"kind": {"a": 1}}]}])
def test_a_body_of_the_wrong_shape_is_a_400(app, body):
    allow(app, blood_pressure=True)
    response = app.post("readings/", body)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_hostile_bodies_are_a_400_not_a_500(app):
    allow(app, blood_pressure=True)
    deep = '{"readings": ' + "[" * 5000 + "]" * 5000 + "}"
    nul = app.client.post("/api/v1/portal/readings/", '{"readings": [{"source": "a\\u0000"}]}',
                          content_type="application/json", **app.headers)
    nested = app.client.post("/api/v1/portal/readings/", deep, content_type="application/json", **app.headers)
    huge = app.post("readings/", {"readings": [bp(systolic=2**70)]})

    assert nul.status_code == 400 and nested.status_code == 400 and huge.status_code == 400
    assert not PatientReading.objects.exists()


def test_the_list_shows_only_my_readings_newest_first_and_is_audited(app, patient, other_patient):
    allow(app, blood_pressure=True, heart_rate=True)
    app.post("readings/", {"readings": [bp(minutes_ago=90), bp(120, 80, 10),
                                        {"kind": "heart_rate", "value": 61, "unit": "/min", "measured_at": when(),
                                         "source": "Watch"}]})
    other = App(sign_in(other_patient.user))
    allow(other, blood_pressure=True)
    other.post("readings/", {"readings": [bp(170, 100)]})

    mine = app.get("readings/", kind="blood_pressure")
    everything = app.get("readings/")

    assert mine.status_code == 200
    assert [r["value"] for r in mine.json()["results"]] == [120, 132]
    assert everything.json()["count"] == 3 and 170 not in [r["value"] for r in everything.json()["results"]]
    assert AccessLog.objects.filter(actor_user=patient.user, object_type="records.patientreading", action="read").exists()


@pytest.mark.parametrize("query", [{"kind": "mood"}, {"kind": ""}, {"page_size": "99999999999999999999999"}])
def test_bad_list_filters_are_a_400(app, query):
    assert app.get("readings/", **query).status_code == 400


def test_the_portal_session_works_too(patient):
    client = api_session(patient.user)

    assert client.patch("/api/v1/portal/readings/permissions/", {"weight": True}, format="json").status_code == 200
    response = client.post("/api/v1/portal/readings/", {"readings": [
        {"kind": "weight", "value": 81.5, "unit": "kg", "measured_at": when(), "source": "Withings"}]}, format="json")
    assert response.status_code == 201 and response.json()["readings"][0]["value"] == 81.5


def test_anonymous_revoked_staff_and_api_keys_are_refused(app, provider_user, integrator_key):
    anonymous = App(None)
    revoked = App("not-a-token")
    staff = api_session(provider_user)
    key = api_keyed_client(integrator_key[1])

    assert anonymous.get("readings/").status_code == 401
    assert anonymous.post("readings/", {"readings": [bp()]}).status_code == 401
    assert revoked.get("readings/permissions/").status_code == 401
    assert staff.get("/api/v1/portal/readings/").status_code == 403
    assert key.post("/api/v1/portal/readings/", {"readings": [bp()]}, format="json").status_code in (401, 403)
    assert not PatientReading.objects.exists()


@pytest.mark.parametrize("body", [{"mood": True}, {"steps": "yes"}, {}])
def test_bad_permission_changes_are_a_400(app, body):
    response = app.patch("readings/permissions/", body)

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
