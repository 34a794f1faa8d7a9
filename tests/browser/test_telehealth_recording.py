"""Recording a video visit through the built-in provider, in two headless Chromium contexts with
fake camera and microphone (as tests/browser/test_telehealth_call.py): with the patient's
RECORDING consent the provider's page offers "Record"; the provider starts it from the
keyboard (the server creates the recording), MediaRecorder records both sides, and when the
provider hangs up the page uploads the file: a Recording row AVAILABLE with a WebM file in the
private storage, its size and SHA-256, each move audited. Without the consent the page has no
Record button and the API refuses to start one (409 telehealth_consent_required).

HTTP to Django's live server, WebSockets to a daphne on the same database over Redis (the
fixtures of test_telehealth_call.py). Needs PostgreSQL and Redis (CI has both).

Part of the browser tests' own invocation (tests/browser/conftest.py)."""
import hashlib

import pytest

from apps.audit.models import AccessLog
from apps.consents.services import consent_revoke
from apps.telehealth.models import Recording, TelehealthSession
from apps.telehealth.services.recordings import WEBM_MAGIC
from tests.browser.test_telehealth_call import REMOTE_PLAYING, media_browser, pages_on, ws_server  # noqa: F401 (fixtures)
from tests.telehealth.factories import admitted, session_for, sign_consent

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

START = """async (url) => {
  const csrf = document.querySelector('input[name=csrfmiddlewaretoken]').value;
  const r = await fetch(url, {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf, 'Accept': 'application/json'}, body: '{}'});
  return {status: r.status, body: await r.json()};
}"""


def _in_call(pages_on, session):  # noqa: F811 (the fixture, passed on)
    """The admitted patient's page joins the call; the provider opens the call page; both play
    the other's video."""
    room = pages_on(session.patient.user)
    room.goto(f"/portal/telehealth/{session.pk}/")
    room.wait_for_selector("[data-call]:not([hidden])")
    call = pages_on(session.provider.user)
    call.goto(f"/staff/telehealth/{session.pk}/call/")
    for page in (room, call):
        page.wait_for_function(REMOTE_PLAYING)
        page.wait_for_selector("[data-call-status]:has-text('Connected.')")
    return room, call


def test_the_provider_records_the_call_and_the_recording_is_stored_when_the_call_ends(pages_on, patient):  # noqa: F811
    session = session_for(patient, minutes_ahead=10, licensed=("NY",))
    sign_consent(patient, "RECORDING")
    admitted(session)
    room, call = _in_call(pages_on, session)
    assert room.locator("[data-record]").count() == 0  # the patient's page never records

    # The phone width: the recording panel fits 390 px.
    call.set_viewport_size({"width": 390, "height": 844})
    assert call.evaluate("document.documentElement.scrollWidth") <= 390

    # From the keyboard: focus Record, press Enter; the server starts the recording.
    button = call.locator("[data-record]")
    call.wait_for_selector("[data-record]:not([disabled])")
    assert button.inner_text() == "Record" and button.get_attribute("aria-pressed") == "false"
    button.focus()
    call.keyboard.press("Enter")
    call.wait_for_selector("[data-recording][data-state=recording]")
    assert button.inner_text() == "Stop recording" and button.get_attribute("aria-pressed") == "true"
    assert call.is_visible("[data-recording-live]")
    first = Recording.objects.get(session=session)
    assert first.status == "RECORDING" and first.video_provider == "BUILTIN" and not first.file
    assert first.started_by_id == session.provider.user_id

    # Stop (the keyboard again) while the call goes on: the page uploads it; Record is offered again.
    call.wait_for_timeout(3000)
    call.keyboard.press("Enter")
    call.wait_for_selector("[data-recording][data-state=stored]", timeout=60_000)
    assert button.inner_text() == "Record" and button.get_attribute("aria-pressed") == "false"
    assert call.evaluate("document.activeElement.hasAttribute('data-record')")  # the focus stayed on it
    assert call.is_hidden("[data-recording-live]") and call.is_hidden("[data-recording-error]")
    assert Recording.objects.get(pk=first.pk).status == "AVAILABLE"
    _assert_stored(first.pk, session)

    # A second recording, then the provider hangs up: the page uploads it when the call ends.
    call.click("[data-record]")
    call.wait_for_selector("[data-recording][data-state=recording]")
    running = Recording.objects.get(session=session, status="RECORDING")
    call.wait_for_timeout(3000)
    call.click("[data-provider-call] [data-hangup]")
    call.wait_for_selector("[data-call-status]:has-text('You hung up. The visit has ended.')")
    call.wait_for_selector("[data-recording][data-state=stored]", timeout=60_000)
    assert "The recording is stored" in call.inner_text("[data-recording-status]")
    assert call.is_hidden("[data-recording-error]")
    room.wait_for_selector("[data-room-status]:has-text('Your video visit has ended. Thank you.')")

    _assert_stored(running.pk, session)
    assert Recording.objects.filter(session=session, status="AVAILABLE").count() == 2
    assert AccessLog.objects.filter(detail__purpose="telehealth_recording", detail__verification="passed").count() == 2
    assert TelehealthSession.objects.get(pk=session.pk).status == "COMPLETED"


def _assert_stored(pk, session):
    recording = Recording.objects.get(pk=pk)
    assert recording.status == "AVAILABLE" and recording.content_type == "video/webm" and recording.stored_at
    with recording.file.open("rb") as handle:
        content = handle.read()
    # Several seconds of two pictures and two voices: a real WebM file, not a stub.
    assert content.startswith(WEBM_MAGIC) and b"webm" in content[:64]
    # Its Tracks: the mixed picture (VP8/VP9) and the mixed voices (Opus).
    assert (b"V_VP8" in content[:4096] or b"V_VP9" in content[:4096]) and b"A_OPUS" in content[:4096]
    assert len(content) == recording.size_bytes > 20_000
    assert hashlib.sha256(content).hexdigest() == recording.sha256
    assert recording.file.name.endswith(".webm") and str(session.pk) in recording.file.name
    reasons = list(recording.events.order_by("id").values_list("reason", flat=True))
    assert reasons == ["Recording started", "Recording uploaded"]
    assert AccessLog.objects.filter(object_id=str(recording.pk)).count() >= 2


def test_technical_issues_while_recording_upload_the_recording_then_open_the_rebook_page(pages_on, patient):  # noqa: F811
    session = session_for(patient, minutes_ahead=10, licensed=("NY",))
    sign_consent(patient, "RECORDING")
    admitted(session)
    _, call = _in_call(pages_on, session)
    call.wait_for_selector("[data-record]:not([disabled])")
    call.click("[data-record]")
    call.wait_for_selector("[data-recording][data-state=recording]")
    call.wait_for_timeout(3000)
    call.click("[data-technical]")
    call.wait_for_url(f"**/staff/telehealth/{session.pk}/rebook/", timeout=60_000)
    recording = Recording.objects.get(session=session)
    _assert_stored(recording.pk, session)
    assert TelehealthSession.objects.get(pk=session.pk).status == "TECHNICAL_ISSUES"


def test_without_the_recording_consent_there_is_no_record_button_and_the_server_refuses(pages_on, patient):  # noqa: F811
    session = session_for(patient, minutes_ahead=10, licensed=("NY",))
    admitted(session)
    _, call = _in_call(pages_on, session)
    assert call.locator("[data-record]").count() == 0 and call.locator("[data-recording]").count() == 0
    assert "recording" not in call.evaluate("JSON.parse(document.getElementById('telehealth-config').textContent)")

    refused = call.evaluate(START, f"/api/v1/telehealth/sessions/{session.pk}/recordings/")
    assert refused["status"] == 409 and refused["body"]["code"] == "telehealth_consent_required"
    assert refused["body"]["extra"]["problems"] == [{"kind": "RECORDING", "jurisdiction": "", "code": "consent_missing"}]
    assert not Recording.objects.filter(session=session).exists()


def test_a_consent_revoked_during_the_call_is_refused_by_the_server_and_the_page_says_so(pages_on, patient):  # noqa: F811
    session = session_for(patient, minutes_ahead=10, licensed=("NY",))
    consent = sign_consent(patient, "RECORDING")
    admitted(session)
    _, call = _in_call(pages_on, session)
    call.wait_for_selector("[data-record]:not([disabled])")
    # The page was rendered with the consent valid; the patient revokes it before Record.
    consent_revoke(consent=consent, reason="No recording after all")
    call.click("[data-record]")
    call.wait_for_selector("[data-recording-error]:not([hidden])")
    assert "telehealth_consent_required" in call.inner_text("[data-recording-error]")
    assert call.get_attribute("[data-recording]", "data-state") == "ready"
    assert call.get_attribute("[data-record]", "aria-pressed") == "false"
    assert not Recording.objects.filter(session=session).exists()
