"""Board events: one channel-layer message per transaction and group (apps/scheduling/events.py
over apps/core/events.py, whose guard tests are tests/core/test_events.py), and the board
consumer forwarding such a message one frame per event after one access check."""
import datetime
from unittest import mock

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

from apps.scheduling import consumers
from apps.scheduling.events import BATCH_TYPE, BOARD_GROUP, location_queue_group, publish_board
from tests.scheduling.api_support import book  # noqa: F401
from tests.scheduling.test_consumers_board import connected
from tests.ws import own_channel_layer, run, session_cookie  # noqa: F401


@pytest.fixture(autouse=True)
def _own_layer(own_channel_layer):
    """Every test here on a fresh channel layer (tests.ws.own_channel_layer)."""


class _Layer:
    """Records what is sent."""

    def __init__(self):
        self.sent = []

    async def group_send(self, group, message):
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
        ("slot.changed", "BOOKED"), ("visit.created", "PLANNED")]
    assert [e["type"] for e in queue[0]["events"]] == ["visit.created"]


@pytest.mark.django_db(transaction=True)
def test_an_event_of_a_rolled_back_savepoint_is_dropped_and_autocommit_sends_at_once(layer):
    with transaction.atomic():
        publish_board("slot.changed", _event(1), location_id="loc")
        with pytest.raises(RuntimeError), transaction.atomic():
            publish_board("slot.changed", _event(2), location_id="loc")
            raise RuntimeError("rolled back")
    publish_board("slot.changed", _event(3))  # no transaction: committed already

    assert [(g, [e["slot"]["id"] for e in m["events"]]) for g, m in layer.sent] == [
        (BOARD_GROUP, ["s1"]), (location_queue_group("loc"), ["s1"]), (BOARD_GROUP, ["s3"])]


# --- the consumer ---------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_board_forwards_a_batch_as_frames_with_no_access_check_per_frame(front_desk):
    """Access was decided at connect and is kept (apps/core/consumers.py): the batch costs no
    re-check at all within WEBSOCKET_RECHECK_SECONDS."""
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
        with mock.patch.object(consumers.StaffBoardConsumer, "_recheck") as recheck:
            await get_channel_layer().group_send(BOARD_GROUP, batch)
            first = await comm.receive_json_from(timeout=5)
            second = await comm.receive_json_from(timeout=5)
            assert await comm.receive_nothing(timeout=0.3)
        assert recheck.call_count == 0
        assert first == {"type": "slot.changed", "slot": {"id": "s1", "provider_id": "p", "status": "HELD", "start": start}}
        assert second == {"type": "visit.created", "visit": {"id": "v1", "status": "PLANNED", "provider_id": "p",
                                                             "location_id": "l", "start": start}}
        await comm.disconnect()

    run(scenario)

