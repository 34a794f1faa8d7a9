"""Fakes for the push tests: FCM's and APNs' HTTP layers as httpx.MockTransport handlers that
record every request and answer from a script, and throwaway signing keys. Not a test module."""
import json

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from apps.messaging.push.providers import APNsProvider, FCMProvider


def _pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
SERVICE_ACCOUNT = {
    "type": "service_account",
    "project_id": "clinic-test",
    "private_key_id": "key-1",
    "private_key": _pem(RSA_KEY),
    "client_email": "push@clinic-test.iam.gserviceaccount.com",
    "token_uri": "https://oauth2.googleapis.com/token",
}


class FakeHttp:
    """Answers each request with the next scripted reply (an httpx.Response, a (status,
    json) pair, or an exception to raise), then with `default`. Every request is kept."""

    def __init__(self, script=(), default=(200, {})):
        self.script = list(script)
        self.default = default
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        reply = self.script.pop(0) if self.script else self.default
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        status, body = reply
        return httpx.Response(status, json=body, headers={"apns-id": request.headers.get("apns-id", "")})

    def client(self):
        return httpx.Client(transport=httpx.MockTransport(self))

    def sends(self):
        return [r for r in self.requests if "oauth2" not in r.url.host]

    @staticmethod
    def body(request):
        return json.loads(request.content)


class FakeFcm(FakeHttp):
    """Google's token endpoint answers a token; the send endpoint follows the script."""

    def __call__(self, request):
        if request.url.host == "oauth2.googleapis.com":
            self.requests.append(request)
            return httpx.Response(200, json={"access_token": f"ya29.token-{len(self.requests)}", "expires_in": 3599})
        return super().__call__(request)


def fcm_ok(name="projects/clinic-test/messages/0:123"):
    return 200, {"name": name}


def fcm_error(status, code, error_code=None, message=""):
    details = [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code}] if error_code else []
    return status, {"error": {"code": status, "status": code, "message": message, "details": details}}


def fcm_provider(fake, clock=None):
    kwargs = {"clock": clock} if clock else {}
    return FCMProvider(service_account=SERVICE_ACCOUNT, http_client=fake.client(), **kwargs)


def apns_provider(fake, clock=None):
    kwargs = {"clock": clock} if clock else {}
    return APNsProvider(key_id="ABC123DEFG", team_id="TEAM123456", private_key=_pem(EC_KEY), topic="org.clinic.app",
                        sandbox=False, http_client=fake.client(), **kwargs)


def decode_fcm_assertion(request):
    form = dict(pair.split("=", 1) for pair in request.content.decode().split("&"))
    assert form["grant_type"] == "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
    return jwt.decode(form["assertion"], RSA_KEY.public_key(), algorithms=["RS256"], audience=SERVICE_ACCOUNT["token_uri"])


def decode_apns_token(request):
    token = request.headers["authorization"].removeprefix("bearer ")
    return jwt.get_unverified_header(token), jwt.decode(token, EC_KEY.public_key(), algorithms=["ES256"])


@pytest.fixture
def push_settings(settings):
    settings.MESSAGING_KICK_ENABLED = False
    settings.MESSAGING_SMS_BACKEND = "local"
    settings.MESSAGING_PUSH_BACKEND = ""
    settings.MESSAGING_MAX_ATTEMPTS = 5
    settings.MESSAGING_RETRY_BASE_SECONDS = 30
    settings.FCM_SERVICE_ACCOUNT_JSON = ""
    settings.APNS_KEY_ID = ""
    return settings
