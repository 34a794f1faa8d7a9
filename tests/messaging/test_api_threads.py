"""/api/v1/threads/ and /api/v1/patients/{id}/notification-preferences/: staff sessions with
a verified second factor and integrator keys with messaging scopes; nobody else."""
import datetime
import uuid

import pytest

from apps.audit.models import AccessLog
from apps.messaging.threads import services
from apps.messaging.threads.models import Message, Thread
from tests.conftest import login
from tests.messaging.thread_helpers import patient_thread, private_attachment_root  # noqa: F401

pytestmark = pytest.mark.django_db

LIST = "/api/v1/threads/"


@pytest.fixture
def thread(patient):
    return patient_thread(patient)


def keyed(api_client, raw):
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return api_client


def as_user(api_client, user, verified=True):
    login(api_client, user, verified=verified)
    return api_client


def _detail(thread):
    return f"{LIST}{thread.pk}/"


def _messages(thread):
    return f"{LIST}{thread.pk}/messages/"


# --- who may ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["front_desk", "nurse", "provider_user", "clinic_admin"])
def test_messaging_staff_list_retrieve_and_read_messages(request, api_client, thread, role):
    c = as_user(api_client, request.getfixturevalue(role))
    listing = c.get(LIST)
    assert listing.status_code == 200 and listing.json()["count"] == 1
    assert listing.json()["results"][0]["subject"] == "Question about my medication"
    detail = c.get(_detail(thread))
    assert detail.status_code == 200 and detail.json()["id"] == str(thread.pk) and detail.json()["status"] == "open"
    messages = c.get(_messages(thread))
    assert messages.status_code == 200 and messages.json()["results"][0]["body"] == "Can I take it with food?"


def test_billing_gets_403(api_client, billing_user, thread):
    c = as_user(api_client, billing_user)
    for url in (LIST, _detail(thread), _messages(thread)):
        assert c.get(url).status_code == 403
    assert c.post(_messages(thread), {"body": "x"}, format="json").status_code == 403


def test_patients_use_the_portal_not_the_api(api_client, patient, thread):
    c = as_user(api_client, patient.user)
    assert c.get(LIST).status_code == 403
    assert c.get(_detail(thread)).status_code == 403
    assert c.post(_messages(thread), {"body": "x"}, format="json").status_code == 403


def test_another_patient_gets_403_and_sees_nothing(api_client, other_patient, thread):
    response = as_user(api_client, other_patient.user).get(_messages(thread))
    assert response.status_code == 403 and "Can I take" not in response.content.decode()


def test_anonymous_and_unverified_staff_are_refused(api_client, front_desk, thread):
    anonymous = api_client.get(LIST)
    assert anonymous.status_code == 401 and "results" not in anonymous.json()
    unverified = as_user(api_client, front_desk, verified=False).get(_detail(thread))
    assert unverified.status_code == 401 and "subject" not in unverified.json()


def test_integrator_needs_the_messaging_scopes(api_client, api_key_factory, thread, patient):
    _, patients_only = api_key_factory("patients:read")
    assert keyed(api_client, patients_only).get(LIST).status_code == 403

    _, read_only = api_key_factory("messaging:read")
    c = keyed(api_client, read_only)
    listing = c.get(LIST)
    assert listing.status_code == 200 and [r["id"] for r in listing.json()["results"]] == [str(thread.pk)]
    detail = c.get(_detail(thread))
    assert detail.status_code == 200 and detail.json()["subject"] == "Question about my medication"
    assert c.post(_messages(thread), {"body": "x"}, format="json").status_code == 403
    assert c.post(LIST, {"patient": str(patient.pk), "subject": "s", "body": "b"}, format="json").status_code == 403


def test_unknown_thread_is_404(api_client, front_desk):
    c = as_user(api_client, front_desk)
    assert c.get(f"{LIST}{uuid.uuid4()}/").status_code == 404
    response = c.get(f"{LIST}{uuid.uuid4()}/messages/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


# --- what it does -------------------------------------------------------------------------

def test_staff_create_a_thread_and_post(api_client, front_desk, patient):
    c = as_user(api_client, front_desk)
    created = c.post(LIST, {"patient": str(patient.pk), "subject": "Your results", "body": "All normal."}, format="json")
    assert created.status_code == 201
    thread = Thread.objects.get(pk=created.json()["id"])
    assert thread.patient == patient and thread.created_by == front_desk

    posted = c.post(_messages(thread), {"body": "Call us with questions."}, format="json")
    assert posted.status_code == 201
    assert posted.json()["author_kind"] == "staff" and posted.json()["author"] == front_desk.pk


def test_integrators_post_as_system_messages(api_client, api_key_factory, patient):
    key, raw = api_key_factory("messaging:read", "messaging:write", name="lab-system")
    c = keyed(api_client, raw)
    created = c.post(LIST, {"patient": str(patient.pk), "subject": "Lab results ready", "body": "Your results are ready."}, format="json")
    assert created.status_code == 201
    message = Message.objects.get(thread_id=created.json()["id"])
    assert message.author_kind == "system" and message.author is None and message.author_label == "lab-system"


def test_create_with_bad_input_is_400_with_field_errors(api_client, front_desk):
    c = as_user(api_client, front_desk)
    response = c.post(LIST, {"patient": str(uuid.uuid4()), "subject": "", "body": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert {"subject", "body"} <= set(response.json()["extra"]["fields"])
    response = c.post(LIST, {"patient": str(uuid.uuid4()), "subject": "s", "body": "b"}, format="json")
    assert response.status_code == 400 and "patient" in response.json()["extra"]["fields"]
    assert not Thread.objects.exists()


def test_posting_to_a_closed_thread_is_409(api_client, front_desk, thread):
    services.thread_close(thread=thread, actor=front_desk)
    response = as_user(api_client, front_desk).post(_messages(thread), {"body": "hi"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "thread_closed"


def test_list_filters(api_client, front_desk, patient, other_patient):
    a = patient_thread(patient, subject="A")
    b = patient_thread(other_patient, subject="B")
    services.thread_assign(thread=a, actor=front_desk, assignee=front_desk)
    services.thread_mark_read(thread=a, user=front_desk)
    services.thread_close(thread=b, actor=front_desk)
    c = as_user(api_client, front_desk)

    def ids(**params):
        return {r["id"] for r in c.get(LIST, params).json()["results"]}

    assert ids(status="open") == {str(a.pk)}
    assert ids(patient=str(other_patient.pk)) == {str(b.pk)}
    assert ids(assigned_to=front_desk.pk) == {str(a.pk)}
    assert ids(unassigned="true") == {str(b.pk)}
    assert ids(unread="true") == {str(b.pk)}


def test_api_reads_are_audited(api_client, front_desk, thread):
    c = as_user(api_client, front_desk)
    c.get(LIST)
    c.get(_messages(thread))
    views = set(AccessLog.objects.filter(object_id=str(thread.pk), action="read").values_list("detail__view", flat=True))
    assert {"api_thread_list", "api_thread_messages"} <= views


def test_thread_list_query_count_does_not_grow(api_client, front_desk, patient):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = as_user(api_client, front_desk)
    for i in range(3):
        patient_thread(patient, subject=f"s{i}")
    c.get(LIST)
    with CaptureQueriesContext(connection) as few:
        c.get(LIST)
    for i in range(20):
        patient_thread(patient, subject=f"t{i}")
    with CaptureQueriesContext(connection) as many:
        c.get(LIST)
    assert len(few) == len(many)


# --- notification preferences -------------------------------------------------------------

def _prefs(patient):
    return f"/api/v1/patients/{patient.pk}/notification-preferences/"


def test_staff_read_and_change_preferences(api_client, front_desk, patient):
    c = as_user(api_client, front_desk)
    got = c.get(_prefs(patient))
    assert got.status_code == 200
    assert got.json()["sms_opt_in"] is True and got.json()["sms_stopped"] is False

    changed = c.patch(_prefs(patient), {"sms_opt_in": False, "quiet_hours_start": "21:00", "quiet_hours_end": "08:00"}, format="json")
    assert changed.status_code == 200
    patient.refresh_from_db()
    assert patient.sms_opt_in is False and patient.quiet_hours_start == datetime.time(21, 0)
    assert AccessLog.objects.filter(patient_id=patient.pk, action="update").exists()


def test_half_a_quiet_hours_window_is_400(api_client, front_desk, patient):
    response = as_user(api_client, front_desk).patch(_prefs(patient), {"quiet_hours_start": "21:00"}, format="json")
    assert response.status_code == 400 and "quiet_hours_end" in response.json()["extra"]["fields"]
    patient.refresh_from_db()
    assert patient.quiet_hours_start is None


def test_preferences_permissions(api_client, api_key_factory, billing_user, patient, other_patient):
    viewed = as_user(api_client, billing_user).get(_prefs(patient))  # billing may view patients
    assert viewed.status_code == 200 and viewed.json()["sms_opt_in"] is True
    assert as_user(api_client, billing_user).patch(_prefs(patient), {"sms_opt_in": False}, format="json").status_code == 403
    from rest_framework.test import APIClient

    assert as_user(APIClient(), other_patient.user).get(_prefs(patient)).status_code == 403
    assert as_user(APIClient(), patient.user).get(_prefs(patient)).status_code == 403
    assert APIClient().get(_prefs(patient)).status_code == 401
    _, raw = api_key_factory("messaging:read")
    c = keyed(APIClient(), raw)
    got = c.get(_prefs(patient))
    assert got.status_code == 200 and got.json()["timezone"] == patient.timezone
    assert c.patch(_prefs(patient), {"sms_opt_in": False}, format="json").status_code == 403
    assert c.get(f"/api/v1/patients/{uuid.uuid4()}/notification-preferences/").status_code == 404


def test_the_schema_lists_the_endpoints(api_client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert "/api/v1/threads/" in paths and "/api/v1/threads/{id}/messages/" in paths
    assert "/api/v1/patients/{patient_id}/notification-preferences/" in paths
    assert {"get", "post"} <= set(paths["/api/v1/threads/{id}/messages/"])
