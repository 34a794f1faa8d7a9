"""Live presence through the existing sockets, against the real ASGI application: staff on the
board and in the messages socket see a patient (on the portal or the phone app) and a
colleague come online and go offline, typing reaches the other side, presence expires when a
server stops renewing it, and a patient cannot watch it."""
import pytest
from django.core.cache import cache

from apps.messaging import presence
from apps.messaging.threads.services import thread_create
from tests import ws
from tests.portal_api.test_api_portal import sign_in
from tests.ws import own_channel_layer, run, session_cookie  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]


@pytest.fixture(autouse=True)
def _fresh_presence():
    # Sockets of earlier tests that were never closed stay "online" until they expire, and
    # user ids are reused between tests: start from an empty cache (local memory in tests).
    cache.clear()
    yield
    cache.clear()


async def connected(path, cookie=None, token=None):
    comm = ws.communicator(path, cookie)
    if token:
        comm.scope["headers"] = [*comm.scope["headers"], (b"x-session-token", token.encode())]
    accepted, _ = await comm.connect(timeout=5)
    assert accepted
    hello = await comm.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return comm


async def watching_presence(path, cookie):
    comm = await connected(path, cookie)
    await comm.send_json_to({"action": "presence"})
    snapshot = await comm.receive_json_from(timeout=5)
    assert snapshot["type"] == "presence.snapshot"
    return comm, snapshot


async def next_presence(comm):
    while True:
        frame = await comm.receive_json_from(timeout=5)
        if frame["type"] == "presence":
            return frame


def test_the_board_sees_a_patient_come_online_and_go_offline(patient, front_desk):
    staff_cookie, patient_cookie = session_cookie(front_desk), session_cookie(patient.user)

    async def scenario():
        board, snapshot = await watching_presence("/ws/staff/board/", staff_cookie)
        assert snapshot == {"type": "presence.snapshot", "patients": [], "staff": [str(front_desk.pk)]}
        portal = await connected("/ws/messages/", patient_cookie)
        assert await next_presence(board) == {"type": "presence", "kind": "patient", "id": str(patient.pk), "online": True}
        await portal.disconnect()
        assert await next_presence(board) == {"type": "presence", "kind": "patient", "id": str(patient.pk), "online": False}
        await board.disconnect()

    run(scenario)
    assert presence.online_now() == {"patients": [], "staff": []}


def test_a_patient_on_the_phone_app_is_online_until_the_last_socket_closes(patient, front_desk):
    staff_cookie = session_cookie(front_desk)
    token = sign_in(patient.user)

    async def scenario():
        inbox, _ = await watching_presence("/ws/messages/", staff_cookie)
        phone = await connected("/ws/notifications/", token=token)
        assert await next_presence(inbox) == {"type": "presence", "kind": "patient", "id": str(patient.pk), "online": True}
        second = await connected("/ws/notifications/", token=token)
        await phone.disconnect()
        assert presence.online_now()["patients"] == [str(patient.pk)]  # still one socket open
        assert await inbox.receive_nothing(timeout=ws.QUIET)
        await second.disconnect()
        assert await next_presence(inbox) == {"type": "presence", "kind": "patient", "id": str(patient.pk), "online": False}
        await inbox.disconnect()

    run(scenario)


def test_staff_in_the_messages_socket_see_a_colleague_and_the_patient_typing(patient, front_desk, nurse):
    thread = thread_create(patient=patient, subject="Knee", body="Still hurts", author=patient.user)
    desk_cookie, nurse_cookie, patient_cookie = session_cookie(front_desk), session_cookie(nurse), session_cookie(patient.user)

    async def scenario():
        desk, _ = await watching_presence("/ws/messages/", desk_cookie)
        colleague = await connected("/ws/staff/board/", nurse_cookie)
        assert await next_presence(desk) == {"type": "presence", "kind": "staff", "id": str(nurse.pk), "online": True}
        await desk.send_json_to({"action": "watch", "thread": str(thread.pk)})
        assert (await desk.receive_json_from(timeout=5))["type"] == "watching"
        portal = await connected("/ws/messages/", patient_cookie)
        assert (await next_presence(desk))["kind"] == "patient"
        await portal.send_json_to({"action": "typing", "thread": str(thread.pk)})
        assert await desk.receive_json_from(timeout=5) == {"type": "typing", "thread_id": str(thread.pk),
                                                            "text": "The patient is typing…"}
        await colleague.disconnect()
        assert await next_presence(desk) == {"type": "presence", "kind": "staff", "id": str(nurse.pk), "online": False}
        for comm in (portal, desk):
            await comm.disconnect()

    run(scenario)


def test_a_patient_cannot_watch_presence(patient):
    cookie = session_cookie(patient.user)

    async def scenario():
        comm = await connected("/ws/messages/", cookie)
        await comm.send_json_to({"action": "presence"})
        assert await comm.receive_json_from(timeout=5) == {"type": "error", "code": "unknown_action", "message": "Unknown action."}
        await comm.disconnect()

    run(scenario)


def test_presence_expires_when_a_server_stops_renewing_it(monkeypatch, patient):
    # A socket on a server process that died: opened, never renewed, never closed.
    now = [1_000_000.0]
    monkeypatch.setattr(presence.time, "time", lambda: now[0])
    assert presence.connection_open(presence.PATIENT, patient.pk, "dead-process-channel") is True
    assert presence.online_now()["patients"] == [str(patient.pk)]
    now[0] += presence.ttl_seconds() + 1
    assert presence.online_now() == {"patients": [], "staff": []}
    # The person's next socket counts as coming online again.
    assert presence.connection_open(presence.PATIENT, patient.pk, "new-channel") is True
