"""The API keeps its contract (issue 16): what it answers is what its OpenAPI schema says, checked
by schemathesis's own response validator against the schema the app generates, the check the CI
run over HTTP makes (.ci/schemathesis.py) for the cases it found: a patient without an email
(`""` is not `format: email`), quiet hours (wall-clock times, not RFC 3339 times with an
offset), a thread's messages (a page, not an array), a room's day (an array, not a page), and
a page that does not exist (a documented 404)."""
import datetime

import pytest
import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response

from apps.accounts.scopes import SCOPES
from tests.conftest import api_keyed_client
from tests.consents.factories import RoomFactory
from tests.factories import PatientFactory, PortalPatientFactory
from tests.messaging.thread_helpers import patient_thread

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def raw_schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def schema(raw_schema):
    return schemathesis.openapi.from_dict(raw_schema)


@pytest.fixture
def client(api_key_factory):
    _, raw = api_key_factory(*SCOPES)
    return api_keyed_client(raw)


def violations(schema, template, method, response):
    """The schema violations of a Django test response to `method` on the path `template`."""
    wrapped = Response(
        status_code=response.status_code,
        headers={name.lower(): [value] for name, value in response.headers.items()},
        content=response.content,
        request=requests.Request(method, "http://testserver" + response.wsgi_request.get_full_path()).prepare(),
        elapsed=0.0,
        verify=False,
    )
    try:
        schema[template][method].validate_response(wrapped)
    except FailureGroup as group:
        return [str(failure) for failure in group.exceptions]
    return []


def test_a_patient_without_an_email_and_with_quiet_hours_matches_the_patient_schema(schema, client):
    patient = PatientFactory(email="", quiet_hours_start=datetime.time(21, 0), quiet_hours_end=datetime.time(7, 30))

    one = client.get(f"/api/v1/patients/{patient.pk}/")
    page = client.get("/api/v1/patients/")

    assert one.status_code == 200
    assert (one.json()["email"], one.json()["quiet_hours_start"], one.json()["quiet_hours_end"]) == ("", "21:00:00", "07:30:00")
    assert violations(schema, "/api/v1/patients/{id}/", "GET", one) == []
    assert page.status_code == 200 and page.json()["results"][0]["id"] == str(patient.pk)
    assert violations(schema, "/api/v1/patients/", "GET", page) == []


def test_quiet_hours_set_without_an_offset_come_back_as_wall_clock_times_that_match_the_schema(schema, client):
    patient = PatientFactory()

    response = client.patch(f"/api/v1/patients/{patient.pk}/notification-preferences/",
                            {"quiet_hours_start": "22:00", "quiet_hours_end": "06:45"}, format="json")

    assert response.status_code == 200
    assert (response.json()["quiet_hours_start"], response.json()["quiet_hours_end"]) == ("22:00:00", "06:45:00")
    assert violations(schema, "/api/v1/patients/{patient_id}/notification-preferences/", "PATCH", response) == []


def test_the_schema_declares_times_of_day_without_an_offset_for_input_and_output(raw_schema):
    components = raw_schema["components"]["schemas"]

    for name in ("PatientOutput", "PatientInputRequest", "NotificationPreferences", "PatchedNotificationPreferencesRequest"):
        field = components[name]["properties"]["quiet_hours_start"]
        assert "format" not in field, name
        assert field["pattern"].startswith("^([01][0-9]|2[0-3]):[0-5][0-9]"), name


def test_a_threads_messages_answer_a_page_that_matches_the_schema(schema, client):
    thread = patient_thread(PortalPatientFactory())

    response = client.get(f"/api/v1/threads/{thread.pk}/messages/")

    assert response.status_code == 200
    assert response.json()["count"] == 1 and response.json()["results"][0]["body"] == "Can I take it with food?"
    assert violations(schema, "/api/v1/threads/{id}/messages/", "GET", response) == []


def test_a_rooms_day_answers_a_list_that_matches_the_schema(schema, client):
    room = RoomFactory()

    response = client.get(f"/api/v1/operating-rooms/{room.pk}/availability/", {"date": datetime.date.today().isoformat()})

    assert response.status_code == 200
    assert response.json() == []
    assert violations(schema, "/api/v1/operating-rooms/{id}/availability/", "GET", response) == []


def _paginated_lists(raw_schema):
    for path, item in raw_schema["paths"].items():
        operation = item.get("get")
        if operation and "{" not in path and any(p["name"] == "page" for p in operation.get("parameters", [])):
            yield path, operation


def test_every_paginated_list_answers_a_missing_page_with_a_documented_404(raw_schema, schema, client):
    lists = list(_paginated_lists(raw_schema))
    assert len(lists) >= 10  # patients, slots, visits, visit requests, threads, consents...

    for path, operation in lists:
        response = client.get(path, {"page": "0"})
        if response.status_code == 403:  # a list for patients (the portal API): not the key's to read
            continue
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found", path
        assert "404" in operation["responses"], path
        assert violations(schema, path, "GET", response) == [], path
