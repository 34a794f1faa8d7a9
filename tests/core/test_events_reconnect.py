"""After a Redis restart the first live event was dropped ("Connection closed by server"): the
publisher's send path reconnects and sends once more on a connection error, and only once."""
import logging
import time
import uuid

import pytest
import redis
from channels_redis.pubsub import RedisPubSubChannelLayer

from apps.core.events import Publisher

CLOSED = redis.exceptions.ConnectionError("Connection closed by server.")


class FlakyLayer:
    """Fails the first `failures` sends with a connection error, then records them."""

    def __init__(self, failures=1, error=CLOSED):
        self.failures, self.error = failures, error
        self.attempts, self.sent = 0, []

    async def group_send(self, group, message):
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise self.error
        self.sent.append((group, message))


@pytest.mark.django_db
def test_a_send_that_finds_the_connection_closed_is_sent_once_more(caplog, django_capture_on_commit_callbacks):
    layer = FlakyLayer(failures=1)
    board = Publisher("scheduling board", batch_type="board.events", channel_layer=lambda: layer)

    with caplog.at_level(logging.INFO, logger="apps.core.events"), django_capture_on_commit_callbacks(execute=True):
        board.publish(["board", "queue.1"], "slot.changed", {"id": 1})

    assert layer.sent == [
        ("board", {"type": "board.events", "events": [{"type": "slot.changed", "id": 1}]}),
        ("queue.1", {"type": "board.events", "events": [{"type": "slot.changed", "id": 1}]}),
    ]
    assert layer.attempts == 3  # the failed one, its retry, the next group
    assert "scheduling board event to board: ConnectionError; reconnecting and sending once more" in caplog.text
    assert "not sent" not in caplog.text


@pytest.mark.django_db
def test_a_refused_connection_is_retried_too(django_capture_on_commit_callbacks):
    layer = FlakyLayer(failures=1, error=ConnectionRefusedError(111, "Connection refused"))

    with django_capture_on_commit_callbacks(execute=True):
        Publisher("notifications", channel_layer=lambda: layer).publish("user.1", "notification.new", {"id": 7})

    assert layer.sent == [("user.1", {"type": "notification.new", "id": 7})]


@pytest.mark.django_db
def test_only_one_retry_then_the_failure_is_logged_not_raised(caplog, django_capture_on_commit_callbacks):
    layer = FlakyLayer(failures=2)

    with caplog.at_level(logging.INFO, logger="apps.core.events"), django_capture_on_commit_callbacks(execute=True):
        Publisher("scheduling board", batch_type="board.events", channel_layer=lambda: layer).publish("board", "a", {"id": 1})

    assert layer.attempts == 2
    assert layer.sent == []
    assert "scheduling board events not sent (1 messages)" in caplog.text


@pytest.mark.django_db
def test_other_errors_are_not_retried(caplog, django_capture_on_commit_callbacks):
    layer = FlakyLayer(failures=1, error=TypeError("can not serialize 'object' object"))

    with caplog.at_level(logging.ERROR, logger="apps.core.events"), django_capture_on_commit_callbacks(execute=True):
        Publisher("scheduling board", channel_layer=lambda: layer).publish("board", "a", {"id": 1})

    assert layer.attempts == 1
    assert "scheduling board events not sent (1 messages)" in caplog.text


# --- a real Redis that closes the publisher's connection -----------------------------------

def _kill_clients(client, name):
    killed = 0
    for entry in client.client_list():
        if entry.get("name") == name:
            client.client_kill_filter(_id=entry["id"])
            killed += 1
    return killed


def _receive(pubsub, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            return message
    return None


@pytest.mark.django_db
def test_the_first_event_after_redis_closed_the_connection_is_delivered(redis_url, caplog, django_capture_on_commit_callbacks):
    name = f"clinic-test-publisher-{uuid.uuid4().hex[:8]}"
    prefix = f"test-reconnect-{uuid.uuid4().hex[:8]}"
    layer = RedisPubSubChannelLayer(hosts=[{"address": redis_url, "socket_timeout": None, "client_name": name}], prefix=prefix)
    board = Publisher("scheduling board", batch_type="board.events", channel_layer=lambda: layer)
    admin = redis.Redis.from_url(redis_url)
    listener = admin.pubsub()
    listener.subscribe(f"{prefix}__group__board")
    _receive(listener, timeout=0.5)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            board.publish("board", "slot.changed", {"id": 1})
        assert _receive(listener) is not None
        assert _kill_clients(admin, name) == 1  # as a Redis restart does

        with caplog.at_level(logging.INFO, logger="apps.core.events"), django_capture_on_commit_callbacks(execute=True):
            board.publish("board", "slot.changed", {"id": 2})

        message = _receive(listener)
        assert message is not None
        assert layer.deserialize(message["data"]) == {"type": "board.events", "events": [{"type": "slot.changed", "id": 2}]}
        assert "reconnecting and sending once more" in caplog.text
        assert "not sent" not in caplog.text
    finally:
        listener.close()
        admin.close()
