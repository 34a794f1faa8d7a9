"""Zoom Video SDK: session JWTs signed locally (HS256 with the SDK secret; claims app_key,
role_type 1 host / 0 participant, tpc the session name, version, iat, exp, user_identity).
A Video SDK session exists once someone joins with a token for its name, so creating a room
calls nothing. Webhooks: x-zm-signature is "v0=" + HMAC-SHA256(secret token, "v0:{timestamp}:
{body}"), x-zm-request-timestamp must be recent, and the endpoint.url_validation challenge
is answered with the plain token and its HMAC.

Credentials: ZOOM_SDK_KEY, ZOOM_SDK_SECRET, ZOOM_WEBHOOK_SECRET_TOKEN."""
import hashlib
import hmac
import json
import time

import jwt
from django.conf import settings

from apps.telehealth.exceptions import WebhookRejected
from apps.telehealth.providers.base import ROOM_UNKNOWN, Capabilities, JoinToken, Room, VideoProvider, WebhookCall

ROLE_HOST, ROLE_PARTICIPANT = 1, 0


def _hmac_hex(secret, message):
    return hmac.new(secret.encode(), message.encode() if isinstance(message, str) else message, hashlib.sha256).hexdigest()


class ZoomVideoProvider(VideoProvider):
    code = "ZOOM"
    name = "zoom"
    # Cloud recording of a Video SDK session is started and deleted through Zoom's REST API with
    # OAuth, which this provider does not hold: it says it cannot record, and recording_start
    # refuses (409 recording_unsupported) rather than record where the retention job cannot delete.
    capabilities = Capabilities(recording=False, screen_share=True, max_participants=1000)

    def __init__(self, *, clock=time.time):
        self.clock = clock

    def configured(self):
        return bool(settings.ZOOM_SDK_KEY and settings.ZOOM_SDK_SECRET)

    def browser_script(self):
        """Zoom's Video SDK for the browser is licensed under Zoom's terms, so the app does not
        ship it: the operator serves the copy they are licensed for (or Zoom's CDN file) at
        TELEHEALTH_ZOOM_SDK_JS_URL, pinned by TELEHEALTH_ZOOM_SDK_JS_INTEGRITY. Without both the
        page says the Zoom browser side is not configured instead of loading an unpinned script."""
        if not (settings.TELEHEALTH_ZOOM_SDK_JS_URL and settings.TELEHEALTH_ZOOM_SDK_JS_INTEGRITY):
            return {"src": "", "integrity": "", "error": "The Zoom Video SDK for browsers is not configured."}
        return {"src": settings.TELEHEALTH_ZOOM_SDK_JS_URL, "integrity": settings.TELEHEALTH_ZOOM_SDK_JS_INTEGRITY}

    def create_room(self, *, name):
        return Room(provider=self.code, name=name)

    def end_room(self, *, room):
        # Ending a Video SDK session needs Zoom's REST API with OAuth, which is not configured
        # here: the session ends when its participants leave and the tokens expire.
        return None

    def room_status(self, *, room):
        return ROOM_UNKNOWN

    def participant_token(self, *, room, identity, role, ttl):
        now = int(self.clock())
        claims = {
            "app_key": settings.ZOOM_SDK_KEY, "role_type": ROLE_HOST if role == "host" else ROLE_PARTICIPANT,
            "tpc": room.name, "version": 1, "iat": now - 30, "exp": now + ttl, "user_identity": identity,
        }
        token = jwt.encode(claims, settings.ZOOM_SDK_SECRET, algorithm="HS256")
        return JoinToken(provider=self.code, room=room.name, token=token, expires_at=claims["exp"], identity=identity,
                         extra={"sdk_key": settings.ZOOM_SDK_KEY})

    def verify_webhook(self, request):
        secret = settings.ZOOM_WEBHOOK_SECRET_TOKEN
        timestamp = request.headers.get("x-zm-request-timestamp", "")
        signature = request.headers.get("x-zm-signature", "")
        if not (secret and timestamp and signature):
            raise WebhookRejected()
        expected = "v0=" + _hmac_hex(secret, b"v0:" + timestamp.encode() + b":" + request.body)
        if not hmac.compare_digest(expected, signature):
            raise WebhookRejected()
        try:
            age = abs(self.clock() - int(timestamp))
        except ValueError:
            raise WebhookRejected() from None
        if age > settings.TELEHEALTH_WEBHOOK_MAX_AGE_SECONDS:
            raise WebhookRejected("The callback is too old: refused as a replay.", code="webhook_replayed")
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            raise WebhookRejected("The callback's body is not JSON.", code="webhook_malformed") from None
        if not isinstance(payload, dict):
            raise WebhookRejected("The callback's body is not a JSON object.", code="webhook_malformed")
        event = str(payload.get("event") or "")
        inner = payload.get("payload") if isinstance(payload.get("payload"), dict) else {}
        digest = hashlib.sha256(signature.encode() + request.body).hexdigest()
        if event == "endpoint.url_validation":
            plain = str(inner.get("plainToken") or "")
            return WebhookCall(event=event, digest=digest,
                               answer={"plainToken": plain, "encryptedToken": _hmac_hex(secret, plain)})
        obj = inner.get("object") if isinstance(inner.get("object"), dict) else {}
        return WebhookCall(event=event, room_name=str(obj.get("session_name") or ""), room_sid=str(obj.get("session_id") or ""),
                           digest=digest)
