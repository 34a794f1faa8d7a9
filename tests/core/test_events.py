"""Channel-layer events after commit (apps/core/events.py): one message per group for the
events a transaction published at one savepoint depth, nothing from a rolled-back savepoint or transaction, at once in autocommit, one
event loop per process for sync callers, and a failed send logged, not raised."""
import asyncio
import logging

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection, transaction

from apps.core import events
from apps.core.events import Publisher


class _Layer:
    """Records what is sent, and on which event loop."""

    def __init__(self):
        self.sent = []
        self.loops = []

    async def group_send(self, group, message):
        self.loops.append(asyncio.get_running_loop())
        self.sent.append((group, message))


class _RedisLayer(_Layer):
    """Looks like a channels_redis layer: sent from the process loop."""


_RedisLayer.__module__ = "channels_redis.pubsub"


@pytest.fixture
def layer():
    return _Layer()


@pytest.fixture
def publisher(layer):
    return Publisher("test", batch_type="test.events", channel_layer=lambda: layer)


def ids(sent):
    """[(group, [event ids])] of batch messages."""
    return [(group, [event["id"] for event in message["events"]]) for group, message in sent]


# --- one message per group and transaction ----------------------------------------------------

@pytest.mark.django_db
def test_a_transactions_events_go_as_one_message_per_group(layer, publisher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publisher.publish(["board", "queue.1"], "slot.changed", {"id": 1})
        publisher.publish("board", "slot.changed", {"id": 2})
        publisher.publish(["board", "queue.1"], "visit.created", {"id": 3})

    assert layer.sent == [
        ("board", {"type": "test.events", "events": [
            {"type": "slot.changed", "id": 1}, {"type": "slot.changed", "id": 2}, {"type": "visit.created", "id": 3}]}),
        ("queue.1", {"type": "test.events", "events": [{"type": "slot.changed", "id": 1}, {"type": "visit.created", "id": 3}]}),
    ]


@pytest.mark.django_db
def test_without_a_batch_type_each_event_is_its_own_message_still_after_commit(layer, django_capture_on_commit_callbacks):
    single = Publisher("single", channel_layer=lambda: layer)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        single.publish("user.1", "notification.new", {"id": 1})
        single.publish("user.1", "notification.unread", {"unread": 1})
    assert layer.sent == []
    for callback in callbacks:
        callback()

    assert layer.sent == [("user.1", {"type": "notification.new", "id": 1}), ("user.1", {"type": "notification.unread", "unread": 1})]


@pytest.mark.django_db
def test_two_publishers_in_one_transaction_each_send_their_own_batch(layer, publisher, django_capture_on_commit_callbacks):
    other = Publisher("other", batch_type="other.events", channel_layer=lambda: layer)

    with django_capture_on_commit_callbacks(execute=True):
        publisher.publish("board", "a", {"id": 1})
        other.publish("user.1", "b", {"id": 2})
        publisher.publish("board", "a", {"id": 3})

    assert [(group, message["type"]) for group, message in layer.sent] == [("board", "test.events"), ("user.1", "other.events")]
    assert ids(layer.sent) == [("board", [1, 3]), ("user.1", [2])]


@pytest.mark.django_db
def test_nothing_is_sent_before_commit(layer, publisher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publisher.publish("board", "a", {"id": 1})
        publisher.publish("board", "a", {"id": 2})

    assert layer.sent == []
    for callback in callbacks:
        callback()
    assert ids(layer.sent) == [("board", [1, 2])]


@pytest.mark.django_db
def test_an_event_of_a_savepoint_rolled_back_is_not_sent(layer, publisher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publisher.publish("board", "a", {"id": 1})
        with pytest.raises(RuntimeError), transaction.atomic():
            publisher.publish("board", "a", {"id": 2})
            raise RuntimeError("rolled back")
        publisher.publish("board", "a", {"id": 3})
        with transaction.atomic():  # a savepoint released: its event counts
            publisher.publish("board", "a", {"id": 4})
        publisher.publish("board", "a", {"id": 5})  # after it: order kept

    assert ids(layer.sent) == [("board", [1, 3, 4, 5])]


@pytest.mark.django_db(transaction=True)
def test_on_a_real_commit_savepoints_rolled_back_first_or_last_lose_only_their_events(layer, publisher):
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            publisher.publish("board", "a", {"id": 1})  # the transaction's first event
            raise RuntimeError("rolled back")
        publisher.publish("board", "a", {"id": 2})
        with transaction.atomic():
            publisher.publish("board", "a", {"id": 3})
            with pytest.raises(RuntimeError), transaction.atomic():
                publisher.publish("board", "a", {"id": 4})  # the transaction's last event
                raise RuntimeError("rolled back")
        assert layer.sent == []

    # 3 was published deeper than 2 and nothing came after its savepoint: two messages, in order.
    assert ids(layer.sent) == [("board", [2]), ("board", [3])]


@pytest.mark.django_db(transaction=True)
def test_a_transaction_rolled_back_sends_nothing_and_autocommit_sends_at_once(layer, publisher):
    with pytest.raises(RuntimeError), transaction.atomic():
        publisher.publish("board", "a", {"id": 1})
        raise RuntimeError("rolled back")
    assert layer.sent == []

    publisher.publish(["board", "queue.1"], "a", {"id": 2})  # no transaction: committed already

    assert ids(layer.sent) == [("board", [2]), ("queue.1", [2])]


@pytest.mark.django_db(transaction=True)
def test_two_transactions_send_two_messages(layer, publisher):
    for n in (1, 2):
        with transaction.atomic():
            publisher.publish("board", "a", {"id": n})
            publisher.publish("board", "a", {"id": n + 10})

    assert ids(layer.sent) == [("board", [1, 11]), ("board", [2, 12])]


@pytest.mark.django_db(transaction=True)
def test_no_channel_layer_sends_nothing_and_raises_nothing():
    quiet = Publisher("quiet", batch_type="quiet.events", channel_layer=lambda: None)

    with transaction.atomic():
        quiet.publish("board", "a", {"id": 1})
    quiet.publish("board", "a", {"id": 2})


@pytest.mark.django_db
def test_events_all_inside_a_rolled_back_savepoint_leave_no_callback_behind(layer, publisher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            publisher.publish("board", "a", {"id": 1})
            with transaction.atomic():
                publisher.publish("board", "a", {"id": 2})
            raise RuntimeError("rolled back")

    assert callbacks == []
    assert layer.sent == []


@pytest.mark.django_db(transaction=True)
def test_a_savepoint_rolled_back_after_a_deeper_one_was_released_drops_only_its_own_events(layer, publisher):
    with transaction.atomic():
        publisher.publish("board", "a", {"id": 1})
        with pytest.raises(RuntimeError), transaction.atomic():
            publisher.publish("board", "a", {"id": 2})
            with transaction.atomic():
                publisher.publish("board", "a", {"id": 3})
            publisher.publish("board", "a", {"id": 4})  # joins 3 (a prefix), not 1
            raise RuntimeError("rolled back")
        publisher.publish("board", "a", {"id": 5})

    assert ids(layer.sent) == [("board", [1, 5])]


@pytest.mark.django_db(transaction=True)
def test_a_transaction_after_a_rolled_back_one_never_joins_its_batch(layer, publisher):
    with pytest.raises(RuntimeError), transaction.atomic():
        publisher.publish("board", "a", {"id": 1})
        raise RuntimeError("rolled back")
    with transaction.atomic():  # the same (empty) savepoint stack as the rolled-back one
        publisher.publish("board", "a", {"id": 2})

    assert ids(layer.sent) == [("board", [2])]


@pytest.mark.django_db
def test_events_are_registered_with_the_public_on_commit_as_robust_callbacks(layer, publisher):
    """No entry is written into Django's on-commit list by hand: publish goes through
    transaction.on_commit(robust=True), one callback per publish (the earlier ones of the same
    batch stand down)."""
    from unittest import mock

    with mock.patch.object(transaction, "on_commit", wraps=transaction.on_commit) as on_commit, transaction.atomic():
        publisher.publish("board", "a", {"id": 1})
        publisher.publish("board", "a", {"id": 2})
    assert [call.kwargs["robust"] for call in on_commit.call_args_list] == [True, True]


# --- delivering -------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_redis_layer_is_used_from_one_event_loop_per_process():
    redis = _RedisLayer()
    publisher = Publisher("test", batch_type="test.events", channel_layer=lambda: redis)

    publisher.publish("board", "a", {"id": 1})
    with transaction.atomic():
        publisher.publish("board", "a", {"id": 2})

    assert ids(redis.sent) == [("board", [1]), ("board", [2])]
    assert redis.loops[0] is redis.loops[1] is events._process_loop().loop


@pytest.mark.django_db(transaction=True)
def test_events_from_sync_code_under_an_event_loop_go_through_that_loop():
    redis = _RedisLayer()
    publisher = Publisher("test", batch_type="test.events", channel_layer=lambda: redis)

    async def outer():
        await sync_to_async(publisher.publish)("board", "a", {"id": 1})
        return asyncio.get_running_loop()

    loop = async_to_sync(outer)()

    assert redis.loops == [loop]


@pytest.mark.django_db
def test_a_failed_send_is_logged_not_raised_and_later_callbacks_still_run(caplog, django_capture_on_commit_callbacks):
    class Broken:
        async def group_send(self, group, message):
            raise ConnectionError("redis is down")

    broken = Publisher("scheduling board", batch_type="board.events", channel_layer=lambda: Broken())
    ran = []

    with caplog.at_level(logging.ERROR, logger="apps.core.events"), django_capture_on_commit_callbacks(execute=True):
        broken.publish("board", "a", {"id": 1})
        transaction.on_commit(lambda: ran.append("task enqueued"))

    assert "scheduling board events not sent (1 messages)" in caplog.text
    assert ran == ["task enqueued"]
