"""A user's open sockets follow their access as it changes (apps/accounts/sockets.py): logging
out or being deactivated closes them as signed out (4401), a changed role or a removed device
as "access changed" (4409, the page reconnects and connect() decides again); within a second,
with no event needed. Other users' sockets stay open."""
import time

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from apps.core.consumers import CLOSE_ACCESS_CHANGED, CLOSE_UNAUTHENTICATED
from tests import ws
from tests.ws import own_channel_layer, run  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]
adb = database_sync_to_async


async def _board(cookie):
    comm = ws.communicator("/ws/staff/board/", cookie)
    assert (await comm.connect(timeout=5))[0]
    assert await comm.receive_json_from(timeout=5) == {"type": "hello"}
    return comm


async def _closed_within_a_second(comm, code):
    started = time.monotonic()
    assert await comm.receive_output(timeout=1) == {"type": "websocket.close", "code": code}
    assert time.monotonic() - started < 1


def _signed_in_client(user):
    """A page client and the socket cookie of the same session."""
    client = ws.login(Client(), user)
    return client, f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def test_logging_out_closes_the_users_sockets_as_signed_out(front_desk, nurse):
    client, cookie = _signed_in_client(front_desk)
    other_cookie = ws.session_cookie(nurse)

    async def scenario():
        mine, theirs = await _board(cookie), await _board(other_cookie)
        response = await adb(client.post)("/accounts/logout/")
        assert response.status_code == 302
        await _closed_within_a_second(mine, CLOSE_UNAUTHENTICATED)
        assert await theirs.receive_nothing(timeout=ws.QUIET)
        await theirs.disconnect()

    run(scenario)


def test_deactivating_a_user_closes_their_sockets_as_signed_out(front_desk):
    cookie = ws.session_cookie(front_desk)

    def deactivate():
        front_desk.is_active = False
        front_desk.save(update_fields=["is_active"])

    async def scenario():
        comm = await _board(cookie)
        await adb(deactivate)()
        await _closed_within_a_second(comm, CLOSE_UNAUTHENTICATED)

    run(scenario)


def test_removing_a_users_authenticator_closes_their_sockets(front_desk):
    cookie = ws.session_cookie(front_desk)

    async def scenario():
        comm = await _board(cookie)
        await adb(lambda: front_desk.totpdevice_set.all().delete())()
        await _closed_within_a_second(comm, CLOSE_ACCESS_CHANGED)

    run(scenario)


def test_a_login_timestamp_does_not_close_anything(front_desk):
    cookie = ws.session_cookie(front_desk)

    def touch():
        front_desk.save(update_fields=["last_login"])

    async def scenario():
        comm = await _board(cookie)
        await adb(touch)()
        assert await comm.receive_nothing(timeout=ws.QUIET)
        await comm.disconnect()

    run(scenario)
