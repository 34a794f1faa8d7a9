"""FCM HTTP v1 and APNs against fake HTTP layers (httpx.MockTransport): the OAuth2 service
account assertion and the APNs provider token are real signed JWTs, tokens are reused until
they near their end, payloads hold the generic line only, and each answer is classified
(accepted, retry, dead token, refused)."""
import httpx
import pytest

from apps.messaging.push.models import Device
from apps.messaging.push.providers import APNsProvider, InvalidPushToken, provider_for_platform, LocalPushProvider, FCMProvider
from apps.messaging.sms import PermanentSendError, TransientSendError
from tests.messaging.push_helpers import (  # noqa: F401
    SERVICE_ACCOUNT, FakeFcm, FakeHttp, apns_provider, decode_apns_token, decode_fcm_assertion, fcm_error, fcm_ok,
    fcm_provider, push_settings,
)

ANDROID = Device(platform="android", push_token="fcm-token-1")
IPHONE = Device(platform="ios", push_token="c" * 64)


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def push(provider, device, message_id="m-1", attempt_id="00000000-0000-0000-0000-000000000001"):
    return provider.push(device=device, title="Riverside Clinic", body="You have a new message", data={"type": "notification"},
                         message_id=message_id, attempt_id=attempt_id)


def test_fcm_trades_a_signed_assertion_for_a_token_and_sends_the_generic_line():
    fake = FakeFcm(script=[fcm_ok("projects/clinic-test/messages/0:999")])
    result = push(fcm_provider(fake), ANDROID)

    oauth, send = fake.requests
    claims = decode_fcm_assertion(oauth)
    assert claims["iss"] == SERVICE_ACCOUNT["client_email"]
    assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
    assert claims["exp"] - claims["iat"] == 3600
    assert str(send.url) == "https://fcm.googleapis.com/v1/projects/clinic-test/messages:send"
    assert send.headers["authorization"] == "Bearer ya29.token-1"
    message = FakeHttp.body(send)["message"]
    assert message == {
        "token": "fcm-token-1",
        "notification": {"title": "Riverside Clinic", "body": "You have a new message"},
        "data": {"type": "notification"},
        "android": {"collapse_key": "m-1", "priority": "HIGH"},
    }
    assert (result.provider_message_id, result.http_status) == ("0:999", 200)


def test_fcm_reuses_its_access_token_until_it_nears_its_end():
    clock = Clock()
    fake = FakeFcm(default=fcm_ok())
    provider = fcm_provider(fake, clock=clock)
    push(provider, ANDROID)
    push(provider, ANDROID)
    clock.now += 3599 - 30  # inside the last minute of the hour-long token
    push(provider, ANDROID)
    oauth = [r for r in fake.requests if r.url.host == "oauth2.googleapis.com"]
    assert len(oauth) == 2
    assert fake.sends()[-1].headers["authorization"] == "Bearer ya29.token-4"


@pytest.mark.parametrize("answer, error", [
    (fcm_error(404, "NOT_FOUND", "UNREGISTERED"), InvalidPushToken),
    (fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"), InvalidPushToken),
    (fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"), InvalidPushToken),
    (fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid JSON payload"), PermanentSendError),
    (fcm_error(503, "UNAVAILABLE", "UNAVAILABLE"), TransientSendError),
    (fcm_error(500, "INTERNAL", "INTERNAL"), TransientSendError),
    (fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), TransientSendError),
])
def test_fcm_answers_are_classified(answer, error):
    with pytest.raises(error) as raised:
        push(fcm_provider(FakeFcm(script=[answer])), ANDROID)
    assert type(raised.value) is error
    if error is InvalidPushToken:
        assert raised.value.token == "fcm-token-1"


def test_fcm_401_forgets_the_access_token_and_is_retried():
    fake = FakeFcm(script=[fcm_error(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"), fcm_ok()])
    provider = fcm_provider(fake)
    with pytest.raises(TransientSendError):
        push(provider, ANDROID)
    push(provider, ANDROID)
    assert [r.url.host for r in fake.requests].count("oauth2.googleapis.com") == 2


def test_a_read_timeout_is_ambiguous_and_a_refused_connection_is_not():
    request = httpx.Request("POST", "https://fcm.googleapis.com/")
    with pytest.raises(TransientSendError) as timeout:
        push(fcm_provider(FakeFcm(script=[httpx.ReadTimeout("slow", request=request)])), ANDROID)
    with pytest.raises(TransientSendError) as refused:
        push(fcm_provider(FakeFcm(script=[httpx.ConnectError("refused", request=request)])), ANDROID)
    assert (timeout.value.ambiguous, refused.value.ambiguous) == (True, False)


def test_apns_signs_an_es256_provider_token_and_posts_to_the_device_path():
    fake = FakeHttp(script=[(200, {})])
    result = push(apns_provider(fake), IPHONE, message_id="m-7", attempt_id="00000000-0000-0000-0000-0000000000aa")

    (send,) = fake.requests
    header, claims = decode_apns_token(send)
    assert (header["alg"], header["kid"], claims["iss"]) == ("ES256", "ABC123DEFG", "TEAM123456")
    assert str(send.url) == f"https://api.push.apple.com/3/device/{'c' * 64}"
    assert send.headers["apns-topic"] == "org.clinic.app"
    assert send.headers["apns-push-type"] == "alert"
    assert send.headers["apns-collapse-id"] == "m-7"
    assert FakeHttp.body(send) == {"aps": {"alert": {"title": "Riverside Clinic", "body": "You have a new message"}, "sound": "default"},
                                   "type": "notification"}
    assert result.provider_message_id == "00000000-0000-0000-0000-0000000000aa"


def test_apns_renews_its_provider_token_after_50_minutes_and_when_apple_says_it_expired():
    clock = Clock()
    fake = FakeHttp(script=[(200, {}), (200, {}), (403, {"reason": "ExpiredProviderToken"}), (200, {})], default=(200, {}))
    provider = apns_provider(fake, clock=clock)
    push(provider, IPHONE)
    clock.now += 10
    push(provider, IPHONE)
    clock.now += 10
    with pytest.raises(TransientSendError):
        push(provider, IPHONE)
    push(provider, IPHONE)
    clock.now += 51 * 60
    push(provider, IPHONE)
    tokens = [r.headers["authorization"] for r in fake.requests]
    assert tokens[0] == tokens[1] == tokens[2]
    assert len(set(tokens)) == 3


@pytest.mark.parametrize("status, reason, error", [
    (410, "Unregistered", InvalidPushToken),
    (400, "BadDeviceToken", InvalidPushToken),
    (400, "DeviceTokenNotForTopic", InvalidPushToken),
    (400, "PayloadTooLarge", PermanentSendError),
    (429, "TooManyRequests", TransientSendError),
    (503, "ServiceUnavailable", TransientSendError),
])
def test_apns_answers_are_classified(status, reason, error):
    with pytest.raises(error) as raised:
        push(apns_provider(FakeHttp(script=[(status, {"reason": reason})])), IPHONE)
    assert type(raised.value) is error


def test_the_default_apns_client_speaks_http2(settings):
    settings.APNS_PRIVATE_KEY = "unused"
    provider = APNsProvider(key_id="K", team_id="T", topic="org.clinic.app", sandbox=True)
    assert provider.http._transport._pool._http2 is True
    assert provider.base_url == "https://api.sandbox.push.apple.com"


def test_the_local_provider_is_the_default_and_credentials_switch_each_platform(push_settings):
    assert isinstance(provider_for_platform("android"), LocalPushProvider)
    assert isinstance(provider_for_platform("ios"), LocalPushProvider)
    import json

    push_settings.FCM_SERVICE_ACCOUNT_JSON = json.dumps(SERVICE_ACCOUNT)
    push_settings.APNS_KEY_ID, push_settings.APNS_TEAM_ID, push_settings.APNS_TOPIC = "K", "T", "org.clinic.app"
    assert isinstance(provider_for_platform("android"), FCMProvider)
    assert isinstance(provider_for_platform("ios"), APNsProvider)
    push_settings.MESSAGING_PUSH_BACKEND = "local"
    assert isinstance(provider_for_platform("android"), LocalPushProvider)
