"""Who may call each telehealth endpoint: the session's patient for their own (another
patient's is a 404), staff by role after their second factor, API keys by scope (never a join
token, a waiting-room step or an admission), anonymous nobody. Allowed calls answer their real
success status and content; refusals change nothing; every read is audited."""
import uuid

import pytest

from apps.audit.models import AccessLog
from apps.telehealth.models import WaitingRoomEntry
from tests.conftest import api_keyed_client, api_session
from tests.telehealth.factories import GOOD_DEVICES, admitted, session_for, sign_consent, waiting

pytestmark = pytest.mark.django_db
API = "/api/v1/telehealth"


@pytest.fixture
def session(patient):
    return session_for(patient)


def url(session, tail=""):
    return f"{API}/sessions/{session.pk}/{tail}"


def codes(response):
    return response.status_code, (response.json().get("code") if response.status_code >= 400 else None)


# --- reading -------------------------------------------------------------------------------------

def test_the_patient_lists_and_reads_only_their_own_sessions(session, patient, other_patient):
    mine = api_session(patient.user)
    listed = mine.get(f"{API}/sessions/")
    assert listed.status_code == 200 and [row["id"] for row in listed.json()["results"]] == [str(session.pk)]
    got = mine.get(url(session))
    assert got.status_code == 200 and got.json()["status"] == "SCHEDULED" and got.json()["modifier"] == "95"
    assert AccessLog.objects.filter(object_id=str(session.pk), action="read").count() == 2

    theirs = api_session(other_patient.user)
    assert theirs.get(f"{API}/sessions/").json()["results"] == []
    assert codes(theirs.get(url(session))) == (404, "not_found")
    assert codes(theirs.get(f"{API}/sessions/{uuid.uuid4()}/")) == (404, "not_found")


@pytest.mark.parametrize("role", ["front_desk", "nurse", "provider_user", "billing_user"])
def test_verified_staff_of_each_role_read_sessions(role, request, session):
    client = api_session(request.getfixturevalue(role))
    listed = client.get(f"{API}/sessions/")
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert client.get(url(session)).json()["id"] == str(session.pk)


def test_staff_without_their_second_factor_and_anonymous_are_refused(session, front_desk, api_client):
    assert api_session(front_desk, verified=False).get(url(session)).status_code in (401, 403)
    assert api_client.get(url(session)).status_code in (401, 403)
    assert api_client.get(f"{API}/queue/").status_code in (401, 403)


def test_api_keys_read_by_scope(session, api_key_factory):
    _, read_raw = api_key_factory("telehealth:read")
    _, other_raw = api_key_factory("scheduling:read")
    assert api_keyed_client(read_raw).get(url(session)).status_code == 200
    assert api_keyed_client(read_raw).get(f"{API}/queue/").status_code == 200
    assert codes(api_keyed_client(other_raw).get(url(session)))[0] == 403


# --- the waiting room -----------------------------------------------------------------------------

def test_only_the_patient_enters_checks_devices_and_answers(session, patient, other_patient, front_desk, api_key_factory):
    mine = api_session(patient.user)
    entered = mine.post(url(session, "waiting-room/"), {}, format="json")
    assert entered.status_code == 200 and entered.json()["status"] == "WAITING"
    checked = mine.post(url(session, "waiting-room/device-check/"), GOOD_DEVICES, format="json")
    assert checked.status_code == 200 and checked.json()["device_ok"] is True
    answered = mine.post(url(session, "waiting-room/answers/"), {"current_state": "NY", "at_home": True}, format="json")
    assert answered.status_code == 200 and answered.json()["current_state"] == "NY"

    assert codes(api_session(other_patient.user).post(url(session, "waiting-room/"), {}, format="json")) == (404, "not_found")
    assert codes(api_session(front_desk).post(url(session, "waiting-room/answers/"), {"current_state": "CA", "at_home": False},
                                              format="json")) == (403, "not_the_patient")
    _, raw = api_key_factory("telehealth:write")
    assert codes(api_keyed_client(raw).post(url(session, "waiting-room/"), {}, format="json")) == (403, "user_required")
    assert WaitingRoomEntry.objects.get(session=session).current_state == "NY"


def test_bad_answers_are_400_naming_the_field(session, patient):
    mine = api_session(patient.user)
    mine.post(url(session, "waiting-room/"), {}, format="json")
    for body in ({"current_state": "ZZ", "at_home": True}, {"current_state": "N\x00Y", "at_home": True}, {"at_home": True}):
        response = mine.post(url(session, "waiting-room/answers/"), body, format="json")
        assert response.status_code == 400 and "current_state" in response.json()["extra"]["fields"]
    response = mine.post(url(session, "waiting-room/device-check/"), {"camera": True, "microphone": True, "rtt_ms": 2**70},
                         format="json")
    assert response.status_code == 400 and "rtt_ms" in response.json()["extra"]["fields"]


def test_the_waiting_room_refuses_before_it_opens_with_409(patient):
    early = session_for(patient, minutes_ahead=120)
    response = api_session(patient.user).post(url(early, "waiting-room/"), {}, format="json")
    assert codes(response) == (409, "waiting_room_not_open") and "opens_at" in response.json()["extra"]


# --- admission, the call ----------------------------------------------------------------------------

def test_admission_by_role(session, patient, front_desk, nurse, billing_user):
    sign_consent(patient)
    waiting(session)
    assert codes(api_session(front_desk).post(url(session, "admit/"), {}, format="json"))[0] == 403
    assert codes(api_session(billing_user).post(url(session, "admit/"), {}, format="json"))[0] == 403
    assert codes(api_session(patient.user).post(url(session, "admit/"), {}, format="json"))[0] == 403
    assert WaitingRoomEntry.objects.get(session=session).status == "WAITING"
    admitted_ = api_session(nurse).post(url(session, "admit/"), {}, format="json")
    assert admitted_.status_code == 200 and admitted_.json()["waiting_room"]["status"] == "ADMITTED"


def test_admission_refused_by_a_gate_is_409_with_its_code(session, nurse):
    waiting(session)
    assert codes(api_session(nurse).post(url(session, "admit/"), {}, format="json")) == (409, "telehealth_consent_required")


def test_join_tokens_only_for_the_two_participants(session, patient, other_patient, provider_user, api_key_factory):
    waiting(session)
    assert codes(api_session(patient.user).post(url(session, "join-token/"), {}, format="json")) == (409, "not_admitted")
    sign_consent(patient)
    api_session(session.provider.user).post(url(session, "admit/"), {}, format="json")
    guest = api_session(patient.user).post(url(session, "join-token/"), {}, format="json")
    assert guest.status_code == 200 and guest.json()["role"] == "guest" and guest.json()["provider"] == "BUILTIN"
    host = api_session(session.provider.user).post(url(session, "join-token/"), {}, format="json")
    assert host.status_code == 200 and host.json()["role"] == "host" and host.json()["token"] != guest.json()["token"]
    assert codes(api_session(provider_user).post(url(session, "join-token/"), {}, format="json")) == (403, "not_a_participant")
    assert codes(api_session(other_patient.user).post(url(session, "join-token/"), {}, format="json")) == (404, "not_found")
    _, raw = api_key_factory("telehealth:write", "telehealth:read")
    assert codes(api_keyed_client(raw).post(url(session, "join-token/"), {}, format="json")) == (403, "user_required")


def test_only_the_sessions_provider_starts_and_the_call_ends(session, patient, provider_user):
    admitted(session)
    assert codes(api_session(provider_user).post(url(session, "start/"), {}, format="json")) == (403, "not_the_provider")
    assert codes(api_session(patient.user).post(url(session, "start/"), {}, format="json")) == (403, "not_the_provider")
    started = api_session(session.provider.user).post(url(session, "start/"), {"provider_state": "NY"}, format="json")
    assert started.status_code == 200 and started.json()["status"] == "IN_PROGRESS" and started.json()["provider_state"] == "NY"
    quality = api_session(patient.user).post(url(session, "quality/"), {"rtt_ms": 20, "bitrate_kbps": 800}, format="json")
    assert quality.status_code == 200 and quality.json()["quality"]["patient"]["rtt_ms"] == 20
    ended = api_session(session.provider.user).post(url(session, "end/"), {}, format="json")
    assert ended.status_code == 200 and ended.json()["status"] == "COMPLETED"


def test_running_late_by_staff_only(session, patient, front_desk):
    waiting(session)
    assert codes(api_session(patient.user).post(url(session, "running-late/"), {"minutes": 5}, format="json"))[0] == 403
    told = api_session(front_desk).post(url(session, "running-late/"), {"minutes": 5}, format="json")
    assert told.status_code == 200 and "5 minutes" in told.json()["waiting_room"]["late_message"]


def test_the_queue_shows_who_waits_with_device_state_and_consent(session, patient, front_desk):
    waiting(session, state="NY")
    rows = api_session(front_desk).get(f"{API}/queue/")
    assert rows.status_code == 200
    [row] = rows.json()
    assert row["session"]["id"] == str(session.pk) and row["patient_name"] == patient.display_name
    assert row["session"]["waiting_room"]["device_ok"] is True and row["licensed"] is True
    assert row["consents"][0]["code"] == "consent_missing"
    assert codes(api_session(patient.user).get(f"{API}/queue/"))[0] == 403


def test_the_list_costs_the_same_queries_for_3_rows_as_for_6(patient, front_desk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api_session(front_desk)

    def measured():
        client.get(f"{API}/sessions/")  # warm: session, permissions
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{API}/sessions/")
        return len(ctx.captured_queries), response.json()["count"]

    for _ in range(3):
        waiting(session_for(patient))
    three = measured()
    for _ in range(3):
        waiting(session_for(patient))
    six = measured()
    assert (three[1], six[1]) == (3, 6)
    assert six[0] == three[0], (three, six)
