"""The base consumer keeps the access it decided at connect: no database read per frame, a
revocation message closes every socket of that user at once, and a periodic re-check closes
a socket that lost access without one."""
import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from apps.core import consumers
from apps.core.consumers import CLOSE_ACCESS_CHANGED, CLOSE_FORBIDDEN, ClinicJsonConsumer, revoke_sockets
from tests.ws import own_channel_layer  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]


class EchoConsumer(ClinicJsonConsumer):
    """Admits the user in scope["user"] while authorize() says so; forwards "ping" group
    events when still_allowed()."""

    allowed = True

    def authorize(self, user):
        return None if EchoConsumer.allowed else CLOSE_FORBIDDEN

    async def connect(self):
        user = self.scope["user"]
        await self.channel_layer.group_add("echo", self.channel_name)
        await self.admit(user)

    async def ping(self, event):
        if await self.still_allowed():
            await self.send_json({"type": "ping", "n": event["n"]})


def _open(user):
    comm = WebsocketCommunicator(EchoConsumer.as_asgi(), "/ws/echo/")
    comm.scope["user"] = user
    return comm


async def _ping(n):
    await get_channel_layer().group_send("echo", {"type": "ping", "n": n})


def test_frames_are_forwarded_without_reading_the_database(front_desk, monkeypatch):
    rechecks = []
    monkeypatch.setattr(EchoConsumer, "_recheck", lambda self: rechecks.append(1))

    async def scenario():
        comm = _open(front_desk)
        assert (await comm.connect())[0]
        for n in range(3):
            await _ping(n)
            assert await comm.receive_json_from(timeout=2) == {"type": "ping", "n": n}
        await comm.disconnect()

    asyncio.run(scenario())
    assert rechecks == []  # access was decided at connect and kept


def test_a_revocation_closes_every_socket_of_that_user_within_a_second_and_no_one_elses(front_desk, nurse):
    async def scenario():
        first, second, other = _open(front_desk), _open(front_desk), _open(nurse)
        for comm in (first, second, other):
            assert (await comm.connect())[0]
        started = asyncio.get_running_loop().time()

        await database_sync_to_async(revoke_sockets)(front_desk.pk)  # autocommit: sent at once

        for comm in (first, second):
            assert await comm.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_ACCESS_CHANGED}
        assert asyncio.get_running_loop().time() - started < 1
        await _ping(1)
        assert await other.receive_json_from(timeout=2) == {"type": "ping", "n": 1}
        await other.disconnect()

    asyncio.run(scenario())


def test_the_periodic_recheck_closes_a_socket_that_lost_access(front_desk, monkeypatch):
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0)
    monkeypatch.setattr(EchoConsumer, "allowed", True)

    async def scenario():
        comm = _open(front_desk)
        assert (await comm.connect())[0]
        await _ping(1)
        assert await comm.receive_json_from(timeout=2) == {"type": "ping", "n": 1}
        EchoConsumer.allowed = False
        await _ping(2)
        assert await comm.receive_output(timeout=2) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}

    asyncio.run(scenario())


def test_a_deactivated_user_is_closed_as_signed_out_at_the_recheck(front_desk, monkeypatch):
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0)

    async def scenario():
        comm = _open(front_desk)
        assert (await comm.connect())[0]
        await database_sync_to_async(type(front_desk).objects.filter(pk=front_desk.pk).update)(is_active=False)
        await _ping(1)
        assert await comm.receive_output(timeout=2) == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED}

    asyncio.run(scenario())
