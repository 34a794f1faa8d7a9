"""The WebSocket Origin check against the real ASGI application (clinic.asgi.application):
phone apps send no Origin header and sign in with X-Session-Token, so /ws/notifications/ takes
them without one; a browser (a session cookie) still needs an allowed Origin, and no other
socket opens without one."""
import json

import pytest
from channels.testing import WebsocketCommunicator

from clinic.asgi import application
from tests.portal_api.test_api_portal import sign_in
from tests.ws import ORIGIN, own_channel_layer, run, session_cookie  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]


def socket(path="/ws/notifications/", *, origin=None, cookie=None, token=None):
    headers = []
    if origin:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if token:
        headers.append((b"x-session-token", token.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


def outcome(comm):
    """(accepted, first frame type or the close code)."""
    async def scenario():
        accepted, _ = await comm.connect(timeout=5)
        first = None
        if accepted:
            frame = await comm.receive_output(timeout=5)
            first = frame.get("code") if frame["type"] == "websocket.close" else frame
            await comm.disconnect()
        result.append((accepted, first))

    result = []
    run(scenario)
    return result[0]


def hello(first):
    return first is not None and not isinstance(first, int) and json.loads(first["text"])["type"] == "hello"


def test_a_phone_app_without_an_origin_connects_with_its_token(patient):
    accepted, first = outcome(socket(token=sign_in(patient.user)))
    assert accepted and hello(first)


def test_a_phone_app_with_an_allowed_origin_connects_too(patient):
    accepted, first = outcome(socket(origin=ORIGIN, token=sign_in(patient.user)))
    assert accepted and hello(first)


def test_a_browser_session_without_an_origin_is_refused(patient):
    accepted, _ = outcome(socket(cookie=session_cookie(patient.user)))
    assert not accepted


def test_a_browser_session_from_a_foreign_origin_is_refused_even_with_a_token(patient):
    accepted, _ = outcome(socket(origin="http://evil.example", cookie=session_cookie(patient.user),
                                 token=sign_in(patient.user)))
    assert not accepted


def test_a_browser_session_with_an_allowed_origin_still_connects(patient):
    accepted, first = outcome(socket(origin=ORIGIN, cookie=session_cookie(patient.user)))
    assert accepted and hello(first)


def test_without_an_origin_only_the_token_signs_in_never_the_cookie(patient):
    # A bad token beside a good session cookie: the cookie is dropped, so the token decides (4401).
    accepted, first = outcome(socket(cookie=session_cookie(patient.user), token="not-a-real-session-token"))
    assert accepted and first == 4401


def test_no_origin_and_no_token_is_refused():
    accepted, _ = outcome(socket())
    assert not accepted


def test_other_sockets_still_need_an_origin_whatever_the_token(patient):
    token = sign_in(patient.user)
    for path in ("/ws/messages/", "/ws/staff/board/"):
        accepted, _ = outcome(socket(path, token=token, cookie=session_cookie(patient.user)))
        assert not accepted, path
