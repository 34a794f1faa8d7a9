"""Each video provider behind the one interface, with fakes at its HTTP boundary: Twilio and
Zoom token claims decoded and checked, webhooks valid / forged / replayed, and the fallback
to the next provider when the primary fails."""
import hashlib
import hmac
import json
import time

import jwt
import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from apps.telehealth import services
from apps.telehealth.exceptions import NoVideoProvider, WebhookRejected
from apps.telehealth.models import TelehealthSession, WebhookReceipt
from apps.telehealth.providers import registry
from apps.telehealth.providers.base import Room, WebhookRequest
from apps.telehealth.providers.builtin import BuiltinProvider, read_join
from apps.telehealth.providers.twilio_video import TwilioVideoProvider
from apps.telehealth.providers.zoom_video import ZoomVideoProvider
from tests.telehealth.factories import in_call, session_for

pytestmark = pytest.mark.django_db

TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "a" * 32, "TWILIO_API_KEY_SID": "SK" + "b" * 32,
          "TWILIO_API_KEY_SECRET": "twilio-key-secret-0123456789abcdef", "TWILIO_AUTH_TOKEN": "twilio-auth-token"}
ZOOM = {"ZOOM_SDK_KEY": "zoom-sdk-key", "ZOOM_SDK_SECRET": "zoom-sdk-secret-0123456789abcdefghij", "ZOOM_WEBHOOK_SECRET_TOKEN": "zoom-hook"}


@pytest.fixture(autouse=True)
def _clean_registry(clean_registry):
    pass


@pytest.fixture
def twilio_settings(settings):
    for name, value in TWILIO.items():
        setattr(settings, name, value)
    return settings


@pytest.fixture
def zoom_settings(settings):
    for name, value in ZOOM.items():
        setattr(settings, name, value)
    return settings


class FakeTwilioHttp:
    """Twilio's REST API at its HTTP boundary: records the calls, answers like Twilio."""

    def __init__(self, status=201, fail=False):
        self.calls, self.status, self.fail = [], status, fail

    def __call__(self, method, url, *, data=None, auth=None):
        self.calls.append((method, url, data, auth))
        if self.fail:
            raise ConnectionError("network down")
        if self.status >= 400:
            return self.status, {"code": 20003, "message": "Authenticate"}
        if method == "GET":
            return 200, {"sid": "RM123", "status": "in-progress"}
        return self.status, {"sid": "RM123", "unique_name": (data or {}).get("UniqueName", "x"), "status": "in-progress"}


# --- built-in -------------------------------------------------------------------------------

def test_builtin_tokens_are_signed_name_the_room_and_expire(settings):
    settings.TELEHEALTH_ICE_SERVERS = [{"urls": "stun:stun.example.org"}]
    token = BuiltinProvider().participant_token(room=Room("BUILTIN", "th-room"), identity="user-1", role="guest", ttl=60)
    assert read_join(token.token, max_age=60) == {"room": "th-room", "id": "user-1", "role": "guest"}
    assert token.extra == {"ice_servers": [{"urls": "stun:stun.example.org"}]}
    assert read_join(token.token[:-2] + "xx", max_age=60) is None  # forged
    assert read_join(token.token, max_age=-1) is None  # expired


# --- Twilio -----------------------------------------------------------------------------------

def test_twilio_creates_a_two_party_group_room_through_its_rest_api(twilio_settings):
    fake = FakeTwilioHttp()
    provider = TwilioVideoProvider(http_client=fake, status_callback="https://clinic.example/telehealth/webhooks/twilio/")
    room = provider.create_room(name="th-abc")
    assert room == Room(provider="TWILIO", name="th-abc", sid="RM123")
    method, url, data, auth = fake.calls[0]
    assert (method, url) == ("POST", "https://video.twilio.com/v1/Rooms")
    assert data["UniqueName"] == "th-abc" and data["MaxParticipants"] == 2 and data["Type"] == "group"
    assert data["StatusCallback"].endswith("/telehealth/webhooks/twilio/")
    assert auth == (TWILIO["TWILIO_API_KEY_SID"], TWILIO["TWILIO_API_KEY_SECRET"])
    assert provider.room_status(room=room) == "open"


def test_twilio_refusal_is_a_provider_error(twilio_settings):
    from apps.telehealth.providers.base import ProviderError

    with pytest.raises(ProviderError, match="401"):
        TwilioVideoProvider(http_client=FakeTwilioHttp(status=401)).create_room(name="th-x")


def test_twilio_access_token_claims_carry_the_video_grant(twilio_settings):
    token = TwilioVideoProvider(http_client=FakeTwilioHttp()).participant_token(
        room=Room("TWILIO", "th-abc", "RM123"), identity="user-7", role="guest", ttl=600)
    claims = jwt.decode(token.token, TWILIO["TWILIO_API_KEY_SECRET"], algorithms=["HS256"])
    assert claims["iss"] == TWILIO["TWILIO_API_KEY_SID"] and claims["sub"] == TWILIO["TWILIO_ACCOUNT_SID"]
    assert claims["grants"] == {"identity": "user-7", "video": {"room": "th-abc"}}
    assert claims["exp"] - claims["nbf"] == 600 and claims["jti"].startswith(TWILIO["TWILIO_API_KEY_SID"])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token.token, "another-secret-of-thirty-two-bytes!!", algorithms=["HS256"])


def _twilio_post(client, url, params, *, signature=None):
    signed = RequestValidator(TWILIO["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    return client.post("/telehealth/webhooks/twilio/", params, HTTP_X_TWILIO_SIGNATURE=signature or signed,
                       HTTP_HOST="testserver")


def test_twilio_webhook_valid_forged_and_replayed(patient, twilio_settings):
    fake = FakeTwilioHttp()
    registry.install("twilio", TwilioVideoProvider(http_client=fake))
    twilio_settings.TELEHEALTH_VIDEO_PROVIDERS = ["twilio"]
    session = in_call(session_for(patient))
    assert session.video_provider == "TWILIO" and session.room_sid == "RM123"
    client = Client()
    url = "http://testserver/telehealth/webhooks/twilio/"
    params = {"RoomName": session.room_name, "RoomSid": "RM123", "StatusCallbackEvent": "room-ended", "Timestamp": "now"}

    forged = _twilio_post(client, url, params, signature="bm90LXRoZS1zaWduYXR1cmU=")
    assert forged.status_code == 403
    assert WebhookReceipt.objects.count() == 0

    ok = _twilio_post(client, url, params)
    assert ok.status_code == 204
    session.refresh_from_db()
    assert session.status == TelehealthSession.Status.COMPLETED  # the room ended at Twilio

    replayed = _twilio_post(client, url, params)
    assert replayed.status_code == 403
    assert WebhookReceipt.objects.count() == 1


# --- Zoom -------------------------------------------------------------------------------------

def test_zoom_session_jwt_claims(zoom_settings):
    provider = ZoomVideoProvider(clock=lambda: 1_790_000_000)
    host = provider.participant_token(room=Room("ZOOM", "th-zoom"), identity="user-2", role="host", ttl=3600)
    guest = provider.participant_token(room=Room("ZOOM", "th-zoom"), identity="user-3", role="guest", ttl=3600)
    claims = jwt.decode(host.token, ZOOM["ZOOM_SDK_SECRET"], algorithms=["HS256"], options={"verify_exp": False})
    assert jwt.get_unverified_header(host.token)["alg"] == "HS256"
    assert claims == {"app_key": "zoom-sdk-key", "role_type": 1, "tpc": "th-zoom", "version": 1, "iat": 1_790_000_000 - 30,
                      "exp": 1_790_003_600, "user_identity": "user-2"}
    assert jwt.decode(guest.token, ZOOM["ZOOM_SDK_SECRET"], algorithms=["HS256"], options={"verify_exp": False})["role_type"] == 0


def _zoom_request(body, *, timestamp, secret=ZOOM["ZOOM_WEBHOOK_SECRET_TOKEN"]):
    raw = json.dumps(body).encode()
    signature = "v0=" + hmac.new(secret.encode(), b"v0:" + str(timestamp).encode() + b":" + raw, hashlib.sha256).hexdigest()
    return WebhookRequest(url="https://x/", headers={"x-zm-request-timestamp": str(timestamp), "x-zm-signature": signature},
                          body=raw, params={})


def test_zoom_webhook_url_validation_is_answered(zoom_settings):
    now = int(time.time())
    request = _zoom_request({"event": "endpoint.url_validation", "payload": {"plainToken": "abc123"}}, timestamp=now)
    call = ZoomVideoProvider().verify_webhook(request)
    expected = hmac.new(b"zoom-hook", b"abc123", hashlib.sha256).hexdigest()
    assert call.answer == {"plainToken": "abc123", "encryptedToken": expected}


def test_zoom_webhook_forged_and_old_are_refused(zoom_settings):
    now = int(time.time())
    body = {"event": "session.ended", "payload": {"object": {"session_name": "th-x", "session_id": "s1"}}}
    assert ZoomVideoProvider().verify_webhook(_zoom_request(body, timestamp=now)).room_name == "th-x"
    with pytest.raises(WebhookRejected):
        ZoomVideoProvider().verify_webhook(_zoom_request(body, timestamp=now, secret="wrong"))
    with pytest.raises(WebhookRejected) as old:
        ZoomVideoProvider().verify_webhook(_zoom_request(body, timestamp=now - 3600))
    assert old.value.code == "webhook_replayed"


def test_zoom_webhook_replayed_within_the_window_is_refused_over_http(zoom_settings):
    client = Client()
    request = _zoom_request({"event": "session.started", "payload": {"object": {"session_name": "th-y"}}},
                            timestamp=int(time.time()))
    headers = {"HTTP_X_ZM_REQUEST_TIMESTAMP": request.headers["x-zm-request-timestamp"],
               "HTTP_X_ZM_SIGNATURE": request.headers["x-zm-signature"]}
    first = client.post("/telehealth/webhooks/zoom/", request.body, content_type="application/json", **headers)
    second = client.post("/telehealth/webhooks/zoom/", request.body, content_type="application/json", **headers)
    assert (first.status_code, second.status_code) == (204, 403)


# --- fallback ---------------------------------------------------------------------------------

def test_when_the_primary_fails_the_next_provider_serves_and_the_reason_is_recorded(patient, twilio_settings):
    registry.install("twilio", TwilioVideoProvider(http_client=FakeTwilioHttp(fail=True)))
    twilio_settings.TELEHEALTH_VIDEO_PROVIDERS = ["twilio", "zoom", "builtin"]
    session = session_for(patient)
    services.session_ensure_room(session=session)
    session.refresh_from_db()
    assert session.video_provider == "BUILTIN"
    assert session.provider_fallbacks == [
        {"provider": "TWILIO", "error": "Twilio Video unreachable: ConnectionError"},
        {"provider": "ZOOM", "error": "not configured"},
    ]
    assert session.events.filter(data__provider="BUILTIN").exists()


def test_when_no_provider_can_create_the_room_the_answer_is_409(patient, twilio_settings):
    registry.install("twilio", TwilioVideoProvider(http_client=FakeTwilioHttp(fail=True)))
    twilio_settings.TELEHEALTH_VIDEO_PROVIDERS = ["twilio"]
    session = session_for(patient)
    with pytest.raises(NoVideoProvider) as refused:
        services.session_ensure_room(session=session)
    assert refused.value.status_code == 409 and refused.value.code == "video_provider_unavailable"
    session.refresh_from_db()
    assert session.video_provider == ""
