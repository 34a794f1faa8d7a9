"""Helpers for WebSocket tests against the real ASGI application (clinic.asgi.application),
driven synchronously through asgiref's async_to_sync."""
import copy
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client

from clinic.asgi import application
from tests.conftest import login

ORIGIN = "http://127.0.0.1"
# Long enough for a Redis round trip when the suite runs with REDIS_URL.
QUIET = 0.5


@pytest.fixture
def own_channel_layer(settings):
    """A fresh channel layer for each test. With Redis, a unique prefix: pub/sub channels are
    global to the Redis server (not per database index), so without one a test could receive
    another test run's events for a user with the same id."""
    layers = copy.deepcopy(django_settings.CHANNEL_LAYERS)
    if "CONFIG" in layers["default"] and "prefix" in layers["default"]["CONFIG"]:
        layers["default"]["CONFIG"]["prefix"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CHANNEL_LAYERS = layers  # setting_changed drops the cached layer
    yield


def session_cookie(user, *, verified=True):
    """A real database session for `user` (and, for staff, the verified OTP device unless
    verified=False), as a Cookie header value."""
    client = login(Client(), user, verified=verified)
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


def communicator(path, cookie=None, *, origin=ORIGIN):
    headers = []
    if origin:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def run(coroutine_function):
    async_to_sync(coroutine_function)()


async def accepted_then_closed_with(comm, code):
    """Refusals accept and then close with the code, so a browser sees 4401/4403 (a close
    before accept would be an HTTP 403 that browsers report as 1006)."""
    accepted, _ = await comm.connect(timeout=5)
    assert accepted
    assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": code}
