"""Push providers behind the outbox's sender interface (apps/messaging/sms.py's docstring).

The outbox delivers a push row through PushSender, whose send()/lookup() have the shape of
every sender: `to` is the device id. PushSender reads the device (its current token and
platform) and hands the push to that platform's provider:

    push(*, device, title, body, data, message_id, attempt_id) -> SendResult
        raises InvalidPushToken (the push service says the token is dead: the device is
        retired, never retried), PermanentSendError or TransientSendError (retried).
    lookup(*, attempt_id) -> SendResult | None
        "did that attempt reach the provider?" The local provider knows; FCM and APNs cannot
        be asked, so a push lost with its worker is sent again, with the outbox row's id as
        the collapse key (FCM collapse_key, APNs apns-collapse-id): the phone shows it once.

Providers: LocalPushProvider (the default: PushOutboxEntry rows), FCMProvider (HTTP v1 with a
service account's OAuth2 JWT assertion) and APNsProvider (token-based ES256 JWT, HTTP/2).
Both HTTP providers take an httpx.Client: tests pass one over httpx.MockTransport and never
reach the network. Payloads carry the generic line and the clinic's name only, never PHI."""
import abc
import json
import logging
import threading
import time
import uuid
from pathlib import Path

import httpx
import jwt
from django.conf import settings

from apps.messaging.push.models import Device, PushOutboxEntry
from apps.messaging.sms import PermanentSendError, SendResult, TransientSendError, slow_local_write

log = logging.getLogger(__name__)

PUSH_TOKEN_INVALID = "push_token_invalid"
DEVICE_RETIRED = "device_retired"


class InvalidPushToken(PermanentSendError):
    """The push service says this token will never work again: the device is retired."""

    def __init__(self, message, *, token, code=PUSH_TOKEN_INVALID, http_status=None):
        super().__init__(message, code=code, http_status=http_status)
        self.token = token


def _status_error(provider, response, reason):
    """A non-success answer as a SendError: 429 and 5xx are worth retrying, the rest not."""
    status = response.status_code
    message = f"{provider} {status} {reason}".strip()
    if status == 429 or status >= 500:
        return TransientSendError(message, code=reason or str(status), http_status=status)
    return PermanentSendError(message, code=reason or str(status), http_status=status)


def _post(http, provider, url, **kwargs):
    """http.post(), with network failures as TransientSendError: a connection that never
    opened certainly delivered nothing; any later failure (a read timeout) might have."""
    try:
        return http.post(url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise TransientSendError(f"{provider} network error: {type(exc).__name__}", code="network") from exc
    except httpx.HTTPError as exc:
        raise TransientSendError(f"{provider} network error: {type(exc).__name__}", code="network", ambiguous=True) from exc


def _json(response):
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class PushProvider(abc.ABC):
    name = ""

    @abc.abstractmethod
    def push(self, *, device, title, body, data, message_id, attempt_id):
        """Send one push to `device`; returns a SendResult or raises a SendError."""

    def lookup(self, *, attempt_id):
        """Did that attempt reach the provider? None: it did not, or nobody can tell."""
        return None


class LocalPushProvider(PushProvider):
    """Records each push as a PushOutboxEntry row (the default without FCM/APNs credentials)."""

    name = "local"

    def push(self, *, device, title, body, data, message_id, attempt_id):
        entry = slow_local_write(lambda: PushOutboxEntry.objects.create(
            provider_id=f"LP{uuid.uuid4().hex}", attempt_id=attempt_id, message_id=message_id, device=device,
            platform=device.platform, title=title, body=body, data=data,
        ))
        self._write_file(entry)
        return SendResult(provider_message_id=entry.provider_id, provider_status="sent")

    def _write_file(self, entry):
        """The push as the phone would get it, one JSON file per push (MESSAGING_PUSH_OUTBOX_DIR),
        for a developer's app client. The row is the record: a file that cannot be written is
        only logged."""
        folder = settings.MESSAGING_PUSH_OUTBOX_DIR
        if not folder:
            return
        try:
            path = Path(folder)
            path.mkdir(parents=True, exist_ok=True)
            (path / f"{entry.provider_id}.json").write_text(json.dumps({
                "id": entry.provider_id, "device": str(entry.device_id), "platform": entry.platform,
                "title": entry.title, "body": entry.body, "data": entry.data, "at": entry.created_at.isoformat(),
            }))
        except OSError:
            log.warning("could not write the local push file of %s", entry.provider_id, exc_info=True)

    def lookup(self, *, attempt_id):
        entry = PushOutboxEntry.objects.filter(attempt_id=attempt_id).first()
        return SendResult(entry.provider_id, "sent") if entry else None


class _CachedToken:
    """A bearer token reused until shortly before it ends (thread-safe: the worker's threads
    pool may share a provider)."""

    def __init__(self, clock):
        self.clock = clock
        self.value, self.until = None, 0.0
        self.lock = threading.Lock()

    def get(self, make):
        with self.lock:
            if self.value is None or self.clock() >= self.until:
                self.value, lifetime = make(self.clock())
                self.until = self.clock() + max(0, lifetime - 60)
            return self.value

    def forget(self):
        with self.lock:
            self.value = None


class FCMProvider(PushProvider):
    """Firebase Cloud Messaging, HTTP v1 API. Credentials: a service account's JSON key
    (FCM_SERVICE_ACCOUNT_JSON); its private key signs an RS256 assertion that Google's token
    endpoint trades for an hour-long access token."""

    name = "fcm"
    SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
    SEND_URL = "https://fcm.googleapis.com/v1/projects/{project}/messages:send"
    DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
    # Answers that mean the token is dead (https://firebase.google.com/docs/cloud-messaging/manage-tokens).
    DEAD_TOKEN_CODES = {"UNREGISTERED", "SENDER_ID_MISMATCH"}

    def __init__(self, *, service_account=None, http_client=None, clock=time.time):
        info = service_account if service_account is not None else json.loads(settings.FCM_SERVICE_ACCOUNT_JSON)
        self.project_id = info["project_id"]
        self.client_email = info["client_email"]
        self.private_key = info["private_key"]
        self.private_key_id = info.get("private_key_id", "")
        self.token_uri = info.get("token_uri") or self.DEFAULT_TOKEN_URI
        self.http = http_client or httpx.Client(timeout=settings.MESSAGING_PROVIDER_TIMEOUT_SECONDS)
        self.access = _CachedToken(clock)

    def _new_access_token(self, now):
        claims = {"iss": self.client_email, "scope": self.SCOPE, "aud": self.token_uri, "iat": int(now), "exp": int(now) + 3600}
        headers = {"kid": self.private_key_id} if self.private_key_id else None
        assertion = jwt.encode(claims, self.private_key, algorithm="RS256", headers=headers)
        response = _post(self.http, "fcm oauth", self.token_uri,
                         data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
        body = _json(response)
        if response.status_code != 200 or not body.get("access_token"):
            # A refused service account is a setting to fix, not a reason to drop the push.
            raise TransientSendError(f"fcm oauth {response.status_code} {body.get('error', '')}".strip(),
                                     code="fcm_auth", http_status=response.status_code)
        return body["access_token"], int(body.get("expires_in") or 3600)

    def push(self, *, device, title, body, data, message_id, attempt_id):
        access_token = self.access.get(self._new_access_token)
        message = {
            "token": device.push_token,
            "notification": {"title": title, "body": body},
            "data": {key: str(value) for key, value in data.items()},
            "android": {"collapse_key": str(message_id), "priority": "HIGH"},
        }
        response = _post(self.http, "fcm", self.SEND_URL.format(project=self.project_id), json={"message": message},
                         headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code == 200:
            name = str(_json(response).get("name", ""))
            return SendResult(provider_message_id=name.rsplit("/", 1)[-1][:64] or str(attempt_id), provider_status="accepted",
                              http_status=200)
        error = _json(response).get("error") or {}
        codes = {d.get("errorCode") for d in error.get("details") or [] if isinstance(d, dict)} | {error.get("status")}
        text = str(error.get("message", ""))
        if codes & self.DEAD_TOKEN_CODES or ("INVALID_ARGUMENT" in codes and "registration token" in text.lower()):
            raise InvalidPushToken(f"fcm {response.status_code} token no longer valid", token=device.push_token,
                                   http_status=response.status_code)
        if response.status_code == 401:
            self.access.forget()  # the access token ended early: the retry asks for a new one
            raise TransientSendError("fcm 401 access token refused", code="fcm_auth", http_status=401)
        reason = next((c for c in codes if c), "")
        raise _status_error("fcm", response, reason)


class APNsProvider(PushProvider):
    """Apple Push Notification service over HTTP/2 with token-based authentication: an ES256
    JWT (key id, team id) signed with the .p8 key, renewed every 50 minutes (Apple refuses
    tokens older than an hour and renewals more often than every 20 minutes)."""

    name = "apns"
    HOSTS = {False: "https://api.push.apple.com", True: "https://api.sandbox.push.apple.com"}
    TOKEN_LIFETIME = 50 * 60
    # https://developer.apple.com/documentation/usernotifications/handling-notification-responses-from-apns
    DEAD_TOKEN_REASONS = {"BadDeviceToken", "DeviceTokenNotForTopic", "Unregistered", "ExpiredToken"}
    PROVIDER_TOKEN_REASONS = {"ExpiredProviderToken", "InvalidProviderToken", "MissingProviderToken"}

    def __init__(self, *, key_id=None, team_id=None, private_key=None, topic=None, sandbox=None, http_client=None,
                 clock=time.time):
        self.key_id = key_id or settings.APNS_KEY_ID
        self.team_id = team_id or settings.APNS_TEAM_ID
        self.private_key = private_key or settings.APNS_PRIVATE_KEY
        self.topic = topic or settings.APNS_TOPIC
        self.base_url = self.HOSTS[settings.APNS_USE_SANDBOX if sandbox is None else sandbox]
        self.http = http_client or httpx.Client(http2=True, timeout=settings.MESSAGING_PROVIDER_TIMEOUT_SECONDS)
        self.clock = clock
        self.bearer = _CachedToken(clock)

    def _new_provider_token(self, now):
        token = jwt.encode({"iss": self.team_id, "iat": int(now)}, self.private_key, algorithm="ES256", headers={"kid": self.key_id})
        return token, self.TOKEN_LIFETIME + 60

    def push(self, *, device, title, body, data, message_id, attempt_id):
        headers = {
            "authorization": f"bearer {self.bearer.get(self._new_provider_token)}",
            "apns-topic": self.topic,
            "apns-push-type": "alert",
            "apns-priority": "10",
            "apns-id": str(attempt_id),
            "apns-collapse-id": str(message_id)[:64],
            "apns-expiration": str(int(self.clock()) + 24 * 3600),
        }
        payload = {"aps": {"alert": {"title": title, "body": body}, "sound": "default"}, **data}
        response = _post(self.http, "apns", f"{self.base_url}/3/device/{device.push_token}", json=payload, headers=headers)
        if response.status_code == 200:
            return SendResult(provider_message_id=response.headers.get("apns-id", str(attempt_id))[:64],
                              provider_status="accepted", http_status=200)
        reason = str(_json(response).get("reason", ""))
        if response.status_code == 410 or reason in self.DEAD_TOKEN_REASONS:
            raise InvalidPushToken(f"apns {response.status_code} {reason}", token=device.push_token,
                                   http_status=response.status_code)
        if reason in self.PROVIDER_TOKEN_REASONS:
            self.bearer.forget()
            raise TransientSendError(f"apns {response.status_code} {reason}", code=reason, http_status=response.status_code)
        raise _status_error("apns", response, reason)


def provider_for_platform(platform):
    """The configured provider of a platform: FCM for Android and APNs for iOS when their
    credentials are set (and MESSAGING_PUSH_BACKEND is not "local"), else the local one."""
    if settings.MESSAGING_PUSH_BACKEND != "local":
        if platform == Device.Platform.ANDROID and settings.FCM_SERVICE_ACCOUNT_JSON:
            return FCMProvider()
        if platform == Device.Platform.IOS and settings.APNS_KEY_ID:
            return APNsProvider()
    return LocalPushProvider()


class PushSender:
    """The outbox's sender for Channel.PUSH: `to` is the device id; the device's token is read
    at send time, so a token updated after the row was queued is the one used."""

    name = "push"

    def __init__(self, *, ios=None, android=None):
        self.providers = {Device.Platform.IOS: ios, Device.Platform.ANDROID: android}

    def provider(self, platform):
        if self.providers.get(platform) is None:
            self.providers[platform] = provider_for_platform(platform)
        return self.providers[platform]

    def send(self, *, to, body, subject="", message_id=None, attempt_id=None):
        device = Device.objects.filter(pk=to, status=Device.Status.ACTIVE).first()
        if device is None:
            raise PermanentSendError("the device was unregistered", code=DEVICE_RETIRED)
        return self.provider(device.platform).push(
            device=device, title=subject or settings.CLINIC_NAME, body=body, data={"type": "notification"},
            message_id=message_id, attempt_id=attempt_id,
        )

    def lookup(self, *, to, body, attempt_id, since):
        device = Device.objects.filter(pk=to).first()
        return self.provider(device.platform).lookup(attempt_id=attempt_id) if device is not None else None


def get_push_sender():
    return PushSender()
