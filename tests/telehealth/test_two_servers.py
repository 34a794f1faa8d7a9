"""The waiting room, the staff queue and the call's signalling across two daphne processes
joined only by the Redis pub/sub channel layer, as in production (several web processes).

The patient's sockets and HTTP requests go to server A, the provider's to server B: the
patient's arrival, device check and answers show on the staff queue socket on B; the
admission made on B reaches the patient's page on A; offer, answer and ICE candidates are
relayed between the two servers, only to the other participant; the end reaches both.

Real WebSocket clients (the `websockets` package) and real HTTP requests (`requests`) against
real daphne processes that read the test database, so the tests commit (transaction=True).
They need Redis and a database a child process can open (PostgreSQL in CI, where they run).
"""
import contextlib
import json
import secrets

import pytest
import requests

from apps.scheduling.models import Visit
from apps.telehealth.models import TelehealthSession, WaitingRoomEntry
from tests.core.test_realtime_processes import ORIGIN, assert_nothing_arrives, receive, receive_until, servers  # noqa: F401
from tests.telehealth.factories import GOOD_DEVICES, session_for, sign_consent
from tests.ws import session_cookie

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Django's CSRF check compares the cookie's secret with the header; a fixed pair will do.
CSRF = secrets.token_hex(16)


class Browser:
    """One person's cookie, talking to one server over HTTP and WebSockets."""

    def __init__(self, server_ws_url, user):
        self.ws_url = server_ws_url
        self.http_url = "http" + server_ws_url[len("ws"):]
        self.cookie = session_cookie(user)
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy from the environment: 127.0.0.1 only

    def post(self, path, body=None):
        response = self.http.post(self.http_url + path, data=json.dumps(body or {}), timeout=20, headers={
            "Cookie": f"{self.cookie}; csrftoken={CSRF}", "X-CSRFToken": CSRF,
            "Content-Type": "application/json", "Accept": "application/json",
        })
        if response.headers.get("Content-Type", "").startswith("application/json"):
            return response.status_code, response.json()
        return response.status_code, {"body": response.text[:2000]}

    def get(self, path):
        response = self.http.get(self.http_url + path, timeout=20, headers={"Cookie": self.cookie})
        return response.status_code, response.text

    @contextlib.contextmanager
    def socket(self, path):
        """A WebSocket on this server, open once it said hello."""
        from websockets.sync.client import connect

        with connect(f"{self.ws_url}{path}", additional_headers={"Cookie": self.cookie}, proxy=None,
                     origin=ORIGIN, open_timeout=15, close_timeout=5) as ws:
            assert receive(ws) == {"type": "hello"}
            yield ws


def api(session, action=""):
    return f"/api/v1/telehealth/sessions/{session.pk}/{action}"


@pytest.fixture
def visit_session(patient):
    """A video visit starting in 10 minutes (its waiting room is open), the telehealth consent
    signed, its provider licensed in NY."""
    session = session_for(patient, minutes_ahead=10, licensed=("NY",))
    sign_consent(patient)
    return session


def test_arrival_on_server_a_shows_on_the_queue_on_b_and_admission_from_b_reaches_the_patient_on_a(servers, visit_session):
    session = visit_session
    patient = Browser(servers.a, session.patient.user)
    provider = Browser(servers.b, session.provider.user)

    with patient.socket(f"/ws/telehealth/{session.pk}/room/") as room, provider.socket("/ws/staff/telehealth/queue/") as queue:
        status, entry = patient.post(api(session, "waiting-room/"))
        assert (status, entry["status"]) == (200, "WAITING")
        arrived = receive_until(queue, "queue")
        assert arrived == {"type": "queue", "event": "waiting", "session": str(session.pk), "status": "WAITING",
                           "provider_id": str(session.provider_id)}
        assert receive_until(room, "room")["event"] == "waiting"

        status, entry = patient.post(api(session, "waiting-room/device-check/"), GOOD_DEVICES)
        assert (status, entry["device_ok"]) == (200, True)
        assert receive_until(queue, "queue")["event"] == "device_check"
        status, _ = patient.post(api(session, "waiting-room/answers/"), {"current_state": "NY", "at_home": True})
        assert status == 200
        assert receive_until(queue, "queue")["event"] == "answers"

        # What the queue page fetches when its socket says something changed (server B).
        status, rows = provider.get("/staff/telehealth/queue/?rows=1")
        assert status == 200
        assert session.patient.display_name in rows and "passed" in rows and "NY (at home)" in rows and "data-admit" in rows

        status, answer = provider.post(api(session, "admit/"))
        assert (status, answer.get("status")) == (200, "WAITING"), answer
        admitted = receive_until(room, "room")
        assert (admitted["event"], admitted["session"]) == ("admitted", str(session.pk))
        assert receive_until(queue, "queue")["event"] == "admitted"

    entry = WaitingRoomEntry.objects.get(session=session)
    assert (entry.status, entry.device_ok, entry.current_state) == ("ADMITTED", True, "NY")
    assert Visit.objects.get(pk=session.visit_id).status == Visit.Status.CHECKED_IN


def test_closing_the_waiting_room_on_server_a_shows_as_left_on_the_queue_on_b(servers, visit_session):
    session = visit_session
    patient = Browser(servers.a, session.patient.user)
    provider = Browser(servers.b, session.provider.user)

    with provider.socket("/ws/staff/telehealth/queue/") as queue:
        with patient.socket(f"/ws/telehealth/{session.pk}/room/"):
            assert patient.post(api(session, "waiting-room/"))[0] == 200
            assert receive_until(queue, "queue")["event"] == "waiting"
        # Server A's consumer marks the entry LEFT when the patient's socket closes.
        left = receive_until(queue, "queue", timeout=15)
        assert (left["event"], left["status"]) == ("left", "SCHEDULED")

    assert WaitingRoomEntry.objects.get(session=session).status == "LEFT"
    assert TelehealthSession.objects.get(pk=session.pk).status == "SCHEDULED"


def test_signalling_is_relayed_between_the_two_servers_only_to_the_other_participant(servers, visit_session, other_patient):
    session = visit_session
    patient = Browser(servers.a, session.patient.user)
    provider = Browser(servers.b, session.provider.user)
    # Another patient's waiting room, on server B beside the provider: hears none of this.
    other = session_for(other_patient, minutes_ahead=10, licensed=("NY",))
    stranger = Browser(servers.b, other_patient.user)

    assert patient.post(api(session, "waiting-room/"))[0] == 200
    assert patient.post(api(session, "waiting-room/answers/"), {"current_state": "NY", "at_home": False})[0] == 200
    assert provider.post(api(session, "admit/"))[0] == 200
    status, guest_token = patient.post(api(session, "join-token/"))
    assert (status, guest_token["role"]) == (200, "guest")
    status, host_token = provider.post(api(session, "join-token/"))
    assert (status, host_token["role"]) == (200, "host")
    signal = f"/ws/telehealth/{session.pk}/signal/?token="

    with (
        patient.socket(f"/ws/telehealth/{session.pk}/room/") as room,
        stranger.socket(f"/ws/telehealth/{other.pk}/room/") as strangers_room,
        patient.socket(signal + guest_token["token"]) as guest,
        provider.socket(signal + host_token["token"]) as host,
    ):
        guest.send(json.dumps({"type": "ready", "data": {}}))
        assert receive(host) == {"type": "ready", "data": {}, "from": "guest"}

        offer = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
        host.send(json.dumps({"type": "offer", "data": offer}))
        assert receive(guest) == {"type": "offer", "data": offer, "from": "host"}

        answer = {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}
        guest.send(json.dumps({"type": "answer", "data": answer}))
        assert receive(host) == {"type": "answer", "data": answer, "from": "guest"}

        for sender, receiver, name in ((host, guest, "host"), (guest, host, "guest")):
            candidate = {"candidate": f"candidate:1 1 udp 2122260223 127.0.0.1 {50000 + len(name)} typ host",
                         "sdpMid": "0", "sdpMLineIndex": 0}
            sender.send(json.dumps({"type": "ice", "data": candidate}))
            assert receive(receiver) == {"type": "ice", "data": candidate, "from": name}

        status, started = provider.post(api(session, "start/"), {"provider_state": "NY"})
        assert (status, started["status"]) == (200, "IN_PROGRESS")
        assert receive_until(room, "room")["event"] == "started"

        host.send(json.dumps({"type": "hangup", "data": {}}))
        assert receive(guest) == {"type": "hangup", "data": {}, "from": "host"}
        status, ended = provider.post(api(session, "end/"))
        assert (status, ended["status"]) == (200, "COMPLETED")
        assert receive_until(room, "room")["event"] == "ended"

        # Nothing came back to its sender, and nothing reached the other patient's room.
        assert_nothing_arrives(host, within=0.5)
        assert_nothing_arrives(strangers_room, within=0.5)

    assert TelehealthSession.objects.get(pk=session.pk).status == "COMPLETED"
    assert Visit.objects.get(pk=session.visit_id).status == Visit.Status.COMPLETED
