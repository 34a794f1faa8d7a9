"""A video visit through the built-in WebRTC provider, in two headless Chromium contexts with
fake camera and microphone: the patient opens the waiting room and passes the device check,
the provider admits them from the live queue and joins, both sides receive the other's video
(the remote <video> plays frames; getStats' inbound-rtp bytesReceived grows on both sides),
and the provider's hang-up ends the session and the visit on both pages.

HTTP goes to Django's live server and the WebSockets (room, queue, signalling) to a daphne
process on the same test database, joined by the Redis channel layer, as in production
(gunicorn for HTTP, daphne for WebSockets). Needs PostgreSQL and Redis (CI has both).

Part of the browser tests' own invocation (tests/browser/conftest.py)."""
import copy
import time

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from apps.scheduling.models import Visit
from apps.telehealth.models import TelehealthSession
from tests.browser.conftest import CHROMIUM
from tests.conftest import login
from tests.processes import child_env, require_redis_url, shared_database_url, start_daphne, unique
from tests.telehealth.factories import session_for, sign_consent

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MEDIA_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    # Host candidates as plain addresses (NOTES.md): both peers are on this machine.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]
REMOTE_PLAYING = """() => { const v = document.querySelector('[data-remote-video]');
  return !!v && v.videoWidth > 0 && v.videoHeight > 0 && v.readyState >= 2; }"""
STATS = "() => window.telehealthStats || null"


@pytest.fixture(scope="module")
def ws_server(django_db_setup, django_db_blocker):
    """One daphne for the pages' WebSockets, on the test database and a Redis prefix of its own."""
    redis_url = require_redis_url()
    with django_db_blocker.unblock():
        database_url = shared_database_url()
        uses_postgres = connection.vendor == "postgresql"
    prefix = unique("test-th-browser")
    env = child_env(REDIS_URL=redis_url, DATABASE_URL=database_url, CHANNELS_PREFIX=prefix, CACHE_PREFIX=prefix,
                    DB_POOL="1" if uses_postgres else "0")
    process, port = start_daphne(env, "daphne-telehealth")
    try:
        process.wait_for_port(port, timeout=90)
        yield prefix, port, process
    finally:
        process.stop()


@pytest.fixture
def media_browser(chromium):
    """Chromium with fake media devices (a second browser from the same playwright)."""
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, args=MEDIA_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def pages_on(ws_server, live_server, media_browser, settings):
    """pages_on(user) -> a page signed in as `user`; the pages' sockets go to the daphne and
    this process (the live server's requests) publishes on the daphne's channel prefix."""
    prefix, port, _ = ws_server
    layers = copy.deepcopy(django_settings.CHANNEL_LAYERS)
    assert layers["default"]["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    layers["default"]["CONFIG"]["prefix"] = prefix
    settings.CHANNEL_LAYERS = layers
    settings.WS_PORT = port
    settings.WEBSOCKET_URL = ""
    # 127.0.0.1 for both servers: one cookie host, and an address daphne listens on.
    base = live_server.url.replace("localhost", "127.0.0.1")
    contexts = []

    def make(user):
        context = media_browser.new_context(viewport={"width": 1000, "height": 900}, base_url=base,
                                            permissions=["camera", "microphone"])
        client = login(Client(), user)
        name = django_settings.SESSION_COOKIE_NAME
        context.add_cookies([{"name": name, "value": client.cookies[name].value, "url": base}])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield make
    for context in contexts:
        context.close()


def stats_grow(page, seconds=6):
    """bytesReceived and framesDecoded of inbound-rtp, then again a few samples later: both grew."""
    page.wait_for_function("() => window.telehealthStats && window.telehealthStats.bytesReceived > 0"
                           " && window.telehealthStats.framesDecoded > 0")
    first = page.evaluate(STATS)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        later = page.evaluate(STATS)
        if later["bytesReceived"] > first["bytesReceived"] and later["framesDecoded"] > first["framesDecoded"]:
            return first, later
    pytest.fail(f"media stopped flowing: {first} then {later}")


def test_patient_and_provider_see_each_other_through_the_built_in_provider_and_hang_up(pages_on, patient):
    session = session_for(patient, minutes_ahead=10, licensed=("NY",))
    sign_consent(patient)
    provider_user = session.provider.user

    # The patient: waiting room, device check (fake camera and microphone), answers.
    room = pages_on(patient.user)
    room.goto(f"/portal/telehealth/{session.pk}/")
    room.wait_for_selector("text=You are in the waiting room.")
    room.click("[data-run-check]")
    room.wait_for_selector("[data-device-check][data-passed=true]")
    assert room.inner_text("[data-check=camera] span") == "working"
    assert room.inner_text("[data-check=microphone] span") == "working"
    assert " ms" in room.inner_text("[data-check=connection] span")
    room.select_option("#current-state", "NY")
    room.check("input[name=at_home][value=true]")
    room.click("[data-answers] button[type=submit]")
    room.wait_for_selector("[data-answers][data-saved=true]")

    # The provider: the live queue shows the patient with the passed check; admit, then the call.
    queue = pages_on(provider_user)
    queue.goto("/staff/telehealth/queue/")
    queue.wait_for_selector("[data-live]:has-text('live')")
    row = f"[data-session='{session.pk}']"
    queue.wait_for_selector(f"{row} [data-admit]")
    row_text = queue.inner_text(row)
    assert patient.display_name in row_text and "passed" in row_text and "NY (at home)" in row_text
    queue.click(f"{row} [data-admit]")
    queue.wait_for_url(f"**/staff/telehealth/{session.pk}/call/")
    call = queue

    # The patient's page moves into the call without a reload.
    room.wait_for_selector("[data-call]:not([hidden])")
    assert "The provider has admitted you" in room.inner_text("[data-room-status]")

    # Media both ways: each remote <video> plays the other's fake camera, bytes keep arriving.
    for page in (room, call):
        page.wait_for_function(REMOTE_PLAYING)
        page.wait_for_selector("[data-call-status]:has-text('Connected.')")
    patient_first, patient_later = stats_grow(room)
    provider_first, provider_later = stats_grow(call)
    assert patient_later["bytesReceived"] > patient_first["bytesReceived"] > 0
    assert provider_later["bytesReceived"] > provider_first["bytesReceived"] > 0
    assert TelehealthSession.objects.get(pk=session.pk).status == "IN_PROGRESS"

    # The provider hangs up: both pages say the visit has ended; the session and visit complete.
    call.click("[data-provider-call] [data-hangup]")
    call.wait_for_selector("[data-call-status]:has-text('You hung up. The visit has ended.')")
    room.wait_for_selector("[data-call-status]:has-text('The other side hung up. The visit has ended.')")
    room.wait_for_selector("[data-room-status]:has-text('Your video visit has ended. Thank you.')")

    session = TelehealthSession.objects.get(pk=session.pk)
    assert session.status == "COMPLETED" and session.actual_start and session.actual_end
    assert session.quality["provider"]["bytes_received"] > 0 and session.quality["patient"]["bytes_received"] > 0
    assert session.quality["provider"]["frames_decoded"] > 0 and session.quality["patient"]["frames_decoded"] > 0
    assert (session.patient_state, session.place_of_service) == ("NY", "10")
    assert Visit.objects.get(pk=session.visit_id).status == Visit.Status.COMPLETED
