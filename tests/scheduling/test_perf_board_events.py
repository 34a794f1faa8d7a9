"""Board events: one channel-layer message per transaction and group (apps/scheduling/events.py),
sent from one event loop per process, and forwarded by the board consumer one frame per event
after one access check per message."""
import asyncio
import datetime
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from apps.scheduling import events
from apps.scheduling.events import BATCH_TYPE, BOARD_GROUP, location_queue_group, publish_board
from tests.scheduling.api_support import book  # noqa: F401
from tests.scheduling.test_consumers_board import connected
from tests.ws import own_channel_layer, run, session_cookie  # noqa: F401


@pytest.fixture(autouse=True)
def _own_layer(own_channel_layer):
    """Every test here on a fresh channel layer (tests.ws.own_channel_layer)."""


class _Layer:
    """Records what is sent, and on which event loop."""

    def __init__(self):
        self.sent = []
        self.loops = []

    async def group_send(self, group, message):
        self.loops.append(asyncio.get_running_loop())
        self.sent.append((group, message))


@pytest.fixture
def layer():
    fake = _Layer()
    with mock.patch("apps.scheduling.events.get_channel_layer", return_value=fake):
        yield fake


def _event(n, location_id=None):
    return {"slot": {"id": f"s{n}", "provider_id": "p", "status": "FREE", "start": "2030-01-01T10:00:00+00:00"},
            **({"location": location_id} if location_id else {})}


@pytest.mark.django_db
def test_a_booking_sends_one_message_to_the_board_and_one_to_its_location(layer, book, make_slot,
                                                                          django_capture_on_commit_callbacks):
    slot = make_slot()

    with django_capture_on_commit_callbacks(execute=True):
        visit = book(slot)

    board = [message for group, message in layer.sent if group == BOARD_GROUP]
    queue = [message for group, message in layer.sent if group == location_queue_group(visit.location_id)]
    assert len(layer.sent) == 2
    assert [m["type"] for m in board] == [BATCH_TYPE]
    assert [(e["type"], (e.get("slot") or e.get("visit"))["status"]) for e in board[0]["events"]] == [
        ("slot.changed", "HELD"), ("slot.changed", "BOOKED"), ("visit.created", "PLANNED")]
    assert [e["type"] for e in queue[0]["events"]] == ["visit.created"]


@pytest.mark.django_db
def test_nothing_is_sent_before_commit(layer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish_board("slot.changed", _event(1))
        publish_board("slot.changed", _event(2))

    assert layer.sent == []
    for callback in callbacks:
        callback()
    assert [[e["slot"]["id"] for e in m["events"]] for _, m in layer.sent] == [["s1", "s2"]]


@pytest.mark.django_db
def test_an_event_of_a_savepoint_rolled_back_is_not_sent(layer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish_board("slot.changed", _event(1))
        try:
            with transaction.atomic():
                publish_board("slot.changed", _event(2))
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        publish_board("slot.changed", _event(3))
        with transaction.atomic():  # a savepoint released: its event counts
            publish_board("slot.changed", _event(4))

    assert [[e["slot"]["id"] for e in m["events"]] for _, m in layer.sent] == [["s1", "s3", "s4"]]


@pytest.mark.django_db(transaction=True)
def test_a_transaction_rolled_back_sends_nothing_and_autocommit_sends_at_once(layer):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish_board("slot.changed", _event(1))
        raise RuntimeError("rolled back")
    assert layer.sent == []

    publish_board("slot.changed", _event(2), location_id="loc")  # no transaction: committed already

    assert [(g, [e["slot"]["id"] for e in m["events"]]) for g, m in layer.sent] == [
        (BOARD_GROUP, ["s2"]), (location_queue_group("loc"), ["s2"])]


@pytest.mark.django_db(transaction=True)
def test_two_transactions_send_two_messages(layer):
    for n in (1, 2):
        with transaction.atomic():
            publish_board("slot.changed", _event(n))
            publish_board("slot.changed", _event(n + 10))

    assert [[e["slot"]["id"] for e in m["events"]] for _, m in layer.sent] == [["s1", "s11"], ["s2", "s12"]]


def test_a_redis_layer_is_used_from_one_event_loop_per_process():
    fake = _Layer()
    fake.__class__ = type("RedisPubSubChannelLayer", (_Layer,), {"__module__": "channels_redis.pubsub"})
    with mock.patch("apps.scheduling.events.get_channel_layer", return_value=fake):
        events._deliver([({"type": "slot.changed", **_event(1)}, None)])
        events._deliver([({"type": "slot.changed", **_event(2)}, None)])

    assert len(fake.sent) == 2
    assert fake.loops[0] is fake.loops[1] is events._process_loop().loop


def test_a_failed_send_is_logged_not_raised(caplog):
    class Broken:
        async def group_send(self, group, message):
            raise ConnectionError("redis is down")

    with mock.patch("apps.scheduling.events.get_channel_layer", return_value=Broken()):
        events._deliver([({"type": "slot.changed", **_event(1)}, None)])

    assert "board events not sent" in caplog.text


# --- the consumer ---------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_board_forwards_a_batch_as_frames_after_one_access_check(front_desk):
    from apps.scheduling import consumers

    cookie = session_cookie(front_desk)
    start = datetime.datetime(2030, 1, 1, 10, tzinfo=datetime.timezone.utc).isoformat()
    batch = {"type": BATCH_TYPE, "events": [
        {"type": "slot.changed", "slot": {"id": "s1", "provider_id": "p", "status": "HELD", "start": start, "extra": "x"}},
        {"type": "not.a.board.event", "slot": {"id": "s2"}},
        {"type": "visit.created", "visit": {"id": "v1", "status": "PLANNED", "provider_id": "p", "location_id": "l",
                                            "start": start, "patient_name": "must not leave"}},
    ]}

    async def scenario():
        comm = await connected(cookie)
        with mock.patch.object(consumers, "_access", wraps=consumers._access) as access:
            await get_channel_layer().group_send(BOARD_GROUP, batch)
            first = await comm.receive_json_from(timeout=5)
            second = await comm.receive_json_from(timeout=5)
            assert await comm.receive_nothing(timeout=0.3)
        assert access.call_count == 1
        assert first == {"type": "slot.changed", "slot": {"id": "s1", "provider_id": "p", "status": "HELD", "start": start}}
        assert second == {"type": "visit.created", "visit": {"id": "v1", "status": "PLANNED", "provider_id": "p",
                                                             "location_id": "l", "start": start}}
        await comm.disconnect()

    run(scenario)


def test_events_from_sync_code_under_an_event_loop_go_through_that_loop():
    fake = _Layer()
    fake.__class__ = type("RedisPubSubChannelLayer", (_Layer,), {"__module__": "channels_redis.pubsub"})

    async def outer():
        from asgiref.sync import sync_to_async

        await sync_to_async(events._deliver)([({"type": "slot.changed", **_event(1)}, None)])
        return asyncio.get_running_loop()

    with mock.patch("apps.scheduling.events.get_channel_layer", return_value=fake):
        loop = async_to_sync(outer)()

    assert fake.loops == [loop]
