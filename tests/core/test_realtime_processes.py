"""Real-time events across processes: two daphne servers and this test process, joined only by
the Redis pub/sub channel layer, as in production (several web processes, Celery workers).

Real WebSocket clients (the `websockets` package) connect to real daphne processes that read
the test database, so the tests commit (transaction=True). They need Redis and a database a
child process can open (PostgreSQL in CI).
"""
import copy
import json
import time
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from websockets.sync.client import connect

from apps.messaging.events import user_group
from apps.messaging.models import Notification
from apps.messaging.services import notify
from tests.conftest import login
from tests.processes import child_env, require_redis_url, shared_database_url, start_daphne, unique

pytestmark = pytest.mark.slow
committed = pytest.mark.django_db(transaction=True)

ORIGIN = "http://127.0.0.1"


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker):
    """Two daphne processes, A and B, on the test database and one Redis channel prefix."""
    redis_url = require_redis_url()
    with django_db_blocker.unblock():
        database_url = shared_database_url()
        uses_postgres = connection.vendor == "postgresql"
    prefix = unique("test-rt")
    env = child_env(
        REDIS_URL=redis_url,
        DATABASE_URL=database_url,
        CHANNELS_PREFIX=prefix,
        CACHE_PREFIX=prefix,
        # As clinic/serve.py runs daphne in production: a psycopg pool on PostgreSQL.
        DB_POOL="1" if uses_postgres else "0",
    )
    started = []
    try:
        a, port_a = start_daphne(env, "daphne-a")
        started.append(a)
        b, port_b = start_daphne(env, "daphne-b")
        started.append(b)
        a.wait_for_port(port_a, timeout=90)
        b.wait_for_port(port_b, timeout=90)
        yield SimpleNamespace(prefix=prefix, redis_url=redis_url, a=f"ws://127.0.0.1:{port_a}", b=f"ws://127.0.0.1:{port_b}")
    finally:
        for process in started:
            process.stop()


@pytest.fixture
def same_layer_as_servers(servers, settings):
    """This test process publishes on the servers' Redis prefix."""
    layers = copy.deepcopy(django_settings.CHANNEL_LAYERS)
    assert layers["default"]["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    layers["default"]["CONFIG"]["prefix"] = servers.prefix
    settings.CHANNEL_LAYERS = layers
    return servers


def session_cookie(user):
    client = login(Client(), user)
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


def open_socket(server_url, cookie):
    return connect(
        f"{server_url}/ws/notifications/",
        origin=ORIGIN,
        additional_headers={"Cookie": cookie},
        proxy=None,
        open_timeout=15,
        close_timeout=5,
    )


def receive(ws, timeout=10):
    return json.loads(ws.recv(timeout=timeout))


def receive_until(ws, message_type, timeout=10):
    """The next message of `message_type`, skipping others (each wait bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        message = receive(ws, timeout=max(0.01, deadline - time.monotonic()))
        if message["type"] == message_type:
            return message


def assert_nothing_arrives(ws, within=1.0):
    with pytest.raises(TimeoutError):
        ws.recv(timeout=within)


@committed
def test_mark_all_read_on_server_a_updates_the_same_users_socket_on_server_b(servers, patient):
    notify(user=patient.user, kind="test", title="One")
    notify(user=patient.user, kind="test", title="Two")
    cookie = session_cookie(patient.user)

    with open_socket(servers.a, cookie) as on_a, open_socket(servers.b, cookie) as on_b:
        assert receive(on_a)["unread"] == 2
        assert receive(on_b)["unread"] == 2

        on_a.send(json.dumps({"action": "mark_all_read"}))

        assert receive(on_b) == {"type": "unread", "unread": 0}
        assert receive(on_a) == {"type": "unread", "unread": 0}

    assert not Notification.objects.filter(recipient=patient.user, read_at__isnull=True).exists()


@committed
def test_a_notification_created_in_a_third_process_reaches_sockets_on_both_servers(
    same_layer_as_servers, patient, other_patient
):
    servers = same_layer_as_servers
    cookie = session_cookie(patient.user)
    other_cookie = session_cookie(other_patient.user)

    with (
        open_socket(servers.a, cookie) as on_a,
        open_socket(servers.b, cookie) as on_b,
        open_socket(servers.b, other_cookie) as other_on_b,
    ):
        for ws in (on_a, on_b, other_on_b):
            assert receive(ws)["type"] == "hello"

        notification = notify(user=patient.user, kind="offer_made", title="A slot opened")  # this process

        expected = {"type": "notification", "notification": notification.as_event()}
        assert receive(on_b) == expected
        assert receive(on_a) == expected
        assert_nothing_arrives(other_on_b)


@committed
def test_a_burst_of_300_events_from_another_process_all_reach_the_socket(same_layer_as_servers, patient):
    """NOTES.md: the default channels-redis layer dropped 61% of such a burst."""
    servers = same_layer_as_servers
    cookie = session_cookie(patient.user)
    count = 300

    async def burst():
        layer = get_channel_layer()
        for i in range(count):
            await layer.group_send(user_group(patient.user.pk), {"type": "notification.new", "notification": {"id": f"burst-{i}"}})

    with open_socket(servers.b, cookie) as ws:
        assert receive(ws)["type"] == "hello"
        async_to_sync(burst)()
        received = [receive(ws)["notification"]["id"] for _ in range(count)]
        assert received == [f"burst-{i}" for i in range(count)]
        assert_nothing_arrives(ws, within=0.5)


def test_a_refused_socket_sees_the_close_code_through_a_real_server(servers):
    """The page (static/js/notifications.js) stops reconnecting on 4401/4403; through daphne
    a close before accept would be an HTTP 403 instead, seen by browsers as 1006."""
    from websockets.exceptions import ConnectionClosed

    with open_socket(servers.a, "sessionid=nobody") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4401
