"""/ws/messages/ against the real ASGI application: who may connect, what each side hears,
and that a patient never hears about another patient's thread."""
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from apps.audit.models import AccessLog
from apps.core.consumers import CLOSE_ACCESS_CHANGED, CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from apps.messaging.threads import services
from apps.messaging.threads.events import STAFF_GROUP, patient_group
from tests import ws
from tests.ws import QUIET, accepted_then_closed_with, own_channel_layer, run, session_cookie  # noqa: F401
from tests.messaging.thread_helpers import patient_thread, private_attachment_root  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]

PATH = "/ws/messages/"
adb = database_sync_to_async


def communicator(cookie=None):
    return ws.communicator(PATH, cookie)


def run_refused(cookie, code):
    async def scenario():
        await refused_with(communicator(cookie), code)

    run(scenario)


async def connected(cookie):
    comm = communicator(cookie)
    accepted, _ = await comm.connect(timeout=5)
    assert accepted
    hello = await comm.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return comm, hello


async def watching(cookie, thread):
    comm, hello = await connected(cookie)
    await comm.send_json_to({"action": "watch", "thread": str(thread.pk)})
    assert await comm.receive_json_from(timeout=5) == {"type": "watching", "thread_id": str(thread.pk)}
    return comm, hello


async def refused_with(comm, code):
    await accepted_then_closed_with(comm, code)
    await comm.disconnect()


# --- connecting ---------------------------------------------------------------------------

def test_anonymous_is_refused_with_4401():
    run_refused(None, CLOSE_UNAUTHENTICATED)


def test_staff_without_the_second_factor_are_refused_with_4403(front_desk):
    cookie = session_cookie(front_desk, verified=False)
    run_refused(cookie, CLOSE_FORBIDDEN)


def test_staff_without_the_messaging_permission_are_refused_with_4403(billing_user):
    cookie = session_cookie(billing_user)
    run_refused(cookie, CLOSE_FORBIDDEN)


def test_each_side_gets_hello_with_its_unread_count(patient, front_desk):
    thread = patient_thread(patient)
    services.message_post(thread=thread, body="Answer", author=front_desk)
    patient_cookie, staff_cookie = session_cookie(patient.user), session_cookie(front_desk)
    other = patient_thread(patient, subject="Second")  # unread for staff

    async def scenario():
        comm, hello = await connected(patient_cookie)
        assert hello == {"type": "hello", "side": "patient", "unread": 1}
        await comm.disconnect()
        comm, hello = await connected(staff_cookie)
        assert hello == {"type": "hello", "side": "staff", "unread": 1}
        await comm.disconnect()

    assert other
    run(scenario)


# --- live messages ------------------------------------------------------------------------

def test_a_staff_reply_appears_on_the_patients_open_thread_and_never_on_another_patients(patient, other_patient, front_desk):
    thread = patient_thread(patient)
    other_thread = patient_thread(other_patient)
    mine, theirs = session_cookie(patient.user), session_cookie(other_patient.user)

    async def scenario():
        comm, _ = await watching(mine, thread)
        spy, _ = await watching(theirs, other_thread)
        message = await adb(services.message_post)(thread=thread, body="Take it with food.", author=front_desk)

        got = await comm.receive_json_from(timeout=5)
        assert got["type"] == "message" and got["thread_id"] == str(thread.pk)
        assert got["message"]["id"] == str(message.pk)
        assert got["message"]["body"] == "Take it with food."
        assert got["message"]["from_patient_side"] is False
        unread = await comm.receive_json_from(timeout=5)
        assert unread == {"type": "unread", "unread": 1, "thread_id": str(thread.pk), "thread_unread": 1}
        # The other patient hears nothing at all about it.
        assert await spy.receive_nothing(timeout=QUIET)
        await comm.disconnect()
        await spy.disconnect()

    run(scenario)
    assert AccessLog.objects.filter(object_id=str(thread.pk), detail__view="ws_message", actor_user=patient.user).exists()


def test_a_forged_event_in_a_patients_group_for_another_patients_thread_is_dropped(patient, other_patient, front_desk):
    """Even if an event for thread A reached patient B's group, B's socket re-checks and drops it."""
    thread = patient_thread(patient)
    spy_cookie = session_cookie(other_patient.user)
    message = services.message_post(thread=thread, body="Private", author=front_desk)

    async def scenario():
        spy, _ = await connected(spy_cookie)
        layer = get_channel_layer()
        for patient_id in (str(patient.pk), str(other_patient.pk)):  # the true id, then B's own
            await layer.group_send(patient_group(other_patient.pk), {
                "type": "thread.message", "thread_id": str(thread.pk), "patient_id": patient_id,
                "message_id": str(message.pk), "author_kind": "staff",
            })
        await layer.group_send(patient_group(other_patient.pk), {"type": "thread.updated", "thread_id": str(thread.pk), "patient_id": str(other_patient.pk), "status": "closed"})
        assert await spy.receive_nothing(timeout=QUIET)
        await spy.disconnect()

    run(scenario)


def test_a_patient_cannot_watch_another_patients_thread(patient, other_patient):
    thread = patient_thread(patient)
    cookie = session_cookie(other_patient.user)

    async def scenario():
        comm, _ = await connected(cookie)
        for action in ("watch", "read", "typing"):
            await comm.send_json_to({"action": action, "thread": str(thread.pk)})
            assert (await comm.receive_json_from(timeout=5))["code"] == "not_found"
        await comm.send_json_to({"action": "watch", "thread": "not-a-uuid"})
        assert (await comm.receive_json_from(timeout=5))["code"] == "not_found"
        await comm.disconnect()

    run(scenario)


def test_a_patient_message_reaches_staff_watching_and_the_inbox_counts(patient, front_desk, nurse):
    thread = patient_thread(patient)
    services.thread_mark_read(thread=thread, user=front_desk)
    watcher, inbox = session_cookie(front_desk), session_cookie(nurse)

    async def scenario():
        comm, _ = await watching(watcher, thread)
        listing, hello = await connected(inbox)
        assert hello["unread"] == 0
        await adb(services.message_post)(thread=thread, body="I have a fever now.", author=patient.user)

        got = await comm.receive_json_from(timeout=5)
        assert got["type"] == "message" and got["message"]["body"] == "I have a fever now."
        assert got["message"]["from_patient_side"] is True
        # Not watching: an activity ping without the message, then the new counts.
        assert await listing.receive_json_from(timeout=5) == {"type": "activity", "thread_id": str(thread.pk)}
        unread = await listing.receive_json_from(timeout=5)
        assert unread["unread"] == 1 and unread["thread_unread"] == 1
        await comm.disconnect()
        await listing.disconnect()

    run(scenario)


def test_reading_over_the_socket_clears_the_count_for_other_tabs(patient, front_desk):
    thread = patient_thread(patient)
    services.message_post(thread=thread, body="Reply", author=front_desk)
    cookie = session_cookie(patient.user)

    async def scenario():
        tab1, _ = await watching(cookie, thread)
        tab2, hello = await connected(cookie)
        assert hello["unread"] == 1
        await tab1.send_json_to({"action": "read", "thread": str(thread.pk)})
        assert (await tab1.receive_json_from(timeout=5))["unread"] == 0
        got = await tab2.receive_json_from(timeout=5)
        assert got["type"] == "unread" and got["unread"] == 0
        await tab1.disconnect()
        await tab2.disconnect()

    run(scenario)


def test_typing_reaches_the_other_side_only(patient, other_patient, front_desk):
    thread = patient_thread(patient)
    patient_cookie, staff_cookie = session_cookie(patient.user), session_cookie(front_desk)

    async def scenario():
        p, _ = await watching(patient_cookie, thread)
        s, _ = await watching(staff_cookie, thread)
        await p.send_json_to({"action": "typing", "thread": str(thread.pk)})
        assert await s.receive_json_from(timeout=5) == {"type": "typing", "thread_id": str(thread.pk), "text": "The patient is typing…"}
        assert await p.receive_nothing(timeout=QUIET)
        await s.send_json_to({"action": "typing", "thread": str(thread.pk)})
        assert (await p.receive_json_from(timeout=5))["text"] == "The care team is typing…"
        await p.disconnect()
        await s.disconnect()

    run(scenario)


def test_status_changes_reach_the_patient(patient, front_desk):
    thread = patient_thread(patient)
    cookie = session_cookie(patient.user)

    async def scenario():
        comm, _ = await watching(cookie, thread)
        await adb(services.thread_close)(thread=thread, actor=front_desk)
        assert await comm.receive_json_from(timeout=5) == {"type": "thread", "thread_id": str(thread.pk), "status": "closed"}
        await comm.disconnect()

    run(scenario)


def test_staff_who_lose_the_permission_are_closed_at_once(patient, front_desk):
    """The role change revokes the socket through the user's own group before any event."""
    from django.contrib.auth.models import Group

    cookie = session_cookie(front_desk)

    async def scenario():
        comm, _ = await connected(cookie)

        def demote():
            front_desk.groups.set([Group.objects.get(name="billing")])

        await adb(demote)()
        assert await comm.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_ACCESS_CHANGED}
        await comm.disconnect()
        await accepted_then_closed_with(communicator(cookie), CLOSE_FORBIDDEN)

    run(scenario)


def test_binary_or_unknown_frames_get_an_error_not_a_crash(patient):
    cookie = session_cookie(patient.user)

    async def scenario():
        comm, _ = await connected(cookie)
        await comm.send_to(bytes_data=b"\x00")
        assert (await comm.receive_json_from(timeout=5))["code"] == "invalid_json"
        await comm.send_json_to({"action": "shout"})
        assert (await comm.receive_json_from(timeout=5))["code"] == "unknown_action"
        await comm.disconnect()

    run(scenario)
