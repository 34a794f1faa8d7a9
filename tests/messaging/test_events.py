"""Notifications and thread events go out after commit (apps/messaging/events.py and
apps/messaging/threads/events.py over apps/core/events.py): never for a rolled-back write, one
channel-layer message per group and transaction, and the same frames for the browser."""
import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from apps.messaging.models import Notification
from apps.messaging.services import notify
from apps.messaging.threads import services
from apps.messaging.threads.models import Message
from tests.messaging import test_consumers, test_consumers_threads
from tests.messaging.thread_helpers import patient_thread, private_attachment_root  # noqa: F401
from tests.ws import QUIET, own_channel_layer, run, session_cookie  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]

adb = database_sync_to_async


class RolledBack(Exception):
    pass


def in_a_rolled_back_transaction(write):
    """Run `write` in a transaction that then rolls back."""
    def call(**kwargs):
        with pytest.raises(RolledBack), transaction.atomic():
            write(**kwargs)
            raise RolledBack()

    return call


def test_a_notification_of_a_rolled_back_transaction_is_never_pushed_and_a_committed_one_is(patient):
    cookie = session_cookie(patient.user)

    async def scenario():
        comm, _ = await test_consumers.connected(cookie)

        await adb(in_a_rolled_back_transaction(notify))(user=patient.user, kind="test", title="Never happened")
        assert await comm.receive_nothing(timeout=QUIET)

        notification = await adb(notify)(user=patient.user, kind="test", title="Committed")
        assert await comm.receive_json_from(timeout=5) == {"type": "notification", "notification": notification.as_event()}
        assert await comm.receive_nothing(timeout=QUIET)
        await comm.disconnect()

    run(scenario)
    assert list(Notification.objects.values_list("title", flat=True)) == ["Committed"]


def test_a_transactions_notifications_arrive_as_frames_in_order_without_a_rolled_back_savepoints(patient):
    cookie = session_cookie(patient.user)

    def write():
        with transaction.atomic():
            first = notify(user=patient.user, kind="test", title="First")
            in_a_rolled_back_transaction(notify)(user=patient.user, kind="test", title="Rolled back")
            second = notify(user=patient.user, kind="test", title="Second")
        return first, second

    async def scenario():
        comm, _ = await test_consumers.connected(cookie)
        first, second = await adb(write)()
        assert await comm.receive_json_from(timeout=5) == {"type": "notification", "notification": first.as_event()}
        assert await comm.receive_json_from(timeout=5) == {"type": "notification", "notification": second.as_event()}
        assert await comm.receive_nothing(timeout=QUIET)
        await comm.disconnect()

    run(scenario)


def test_a_thread_message_of_a_rolled_back_transaction_is_never_pushed_and_a_committed_one_is(patient, front_desk):
    thread = patient_thread(patient)
    cookie = session_cookie(patient.user)

    async def scenario():
        comm, _ = await test_consumers_threads.watching(cookie, thread)

        await adb(in_a_rolled_back_transaction(services.message_post))(thread=thread, body="Never sent", author=front_desk)
        assert await comm.receive_nothing(timeout=QUIET)

        message = await adb(services.message_post)(thread=thread, body="Take it with food.", author=front_desk)
        got = await comm.receive_json_from(timeout=5)
        assert got["type"] == "message" and got["message"]["id"] == str(message.pk)
        assert await comm.receive_json_from(timeout=5) == {"type": "unread", "unread": 1, "thread_id": str(thread.pk), "thread_unread": 1}
        assert await comm.receive_nothing(timeout=QUIET)
        await comm.disconnect()

    run(scenario)
    assert not Message.objects.filter(body="Never sent").exists()


def test_a_staff_reply_sends_one_message_per_group(patient, front_desk, monkeypatch):
    """The reply's thread event goes to the patient's and the staff group, its notification to
    the patient's user group: one channel-layer message each, for the whole transaction."""
    thread = patient_thread(patient)
    sent = []

    class Layer:
        async def group_send(self, group, message):
            sent.append((group, message["type"], [event["type"] for event in message["events"]]))

    layer = Layer()
    monkeypatch.setattr("apps.messaging.events.get_channel_layer", lambda: layer)
    monkeypatch.setattr("apps.messaging.threads.events.get_channel_layer", lambda: layer)

    services.message_post(thread=thread, body="Answer", author=front_desk)

    assert sorted(sent) == sorted([
        (f"threads.patient.{patient.pk}", "thread.events", ["thread.message"]),
        ("threads.staff", "thread.events", ["thread.message"]),
        (f"user.{patient.user.pk}", "notification.events", ["notification.new"]),
    ])
