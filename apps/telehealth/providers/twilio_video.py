"""Twilio Video: rooms through Twilio's REST API (an injectable HTTP client), access tokens
signed locally by the twilio library (AccessToken with a VideoGrant), room status callbacks
verified with X-Twilio-Signature (RequestValidator over the full URL and the form fields).

Credentials: TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET (tokens and REST),
TWILIO_AUTH_TOKEN (callback signatures)."""
import hashlib
import json
import time
import urllib.parse

from django.conf import settings
from django.templatetags.static import static
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VideoGrant
from twilio.request_validator import RequestValidator

from apps.telehealth.exceptions import WebhookRejected
from apps.telehealth.providers import http
from apps.telehealth.providers.base import (
    ROOM_ENDED, ROOM_OPEN, ROOM_UNKNOWN, Capabilities, JoinToken, ProviderError, Room, VideoProvider, WebhookCall,
)

API = "https://video.twilio.com/v1/Rooms"
# twilio-video.js from the npm registry (BSD-3-Clause, static/telehealth/vendor/), served by the
# app with its SRI hash; tests/telehealth/test_providers.py checks the hash against the file.
BROWSER_SDK = "telehealth/vendor/twilio-video-2.36.0.min.js"
BROWSER_SDK_INTEGRITY = "sha384-f3mQhBhEoKg0Ty5CZ+qdseXuM9MGXFwvU7asd//toOVnD30aE3judMaanYO8TC0e"
RECORDINGS_API = "https://video.twilio.com/v1/Recordings"


class TwilioVideoProvider(VideoProvider):
    code = "TWILIO"
    name = "twilio"
    capabilities = Capabilities(recording=True, screen_share=True, max_participants=50)
    # The HTTP boundary (apps/telehealth/providers/http.py); tests replace it with a fake.
    http_client = staticmethod(http.urllib_client)

    def __init__(self, *, http_client=None, status_callback=""):
        if http_client is not None:
            self.http_client = http_client
        self.status_callback = status_callback

    def configured(self):
        return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_API_KEY_SID and settings.TWILIO_API_KEY_SECRET)

    def _call(self, method, url, data=None, *, missing_ok=False):
        try:
            status, body = self.http_client(method, url, data=data,
                                            auth=(settings.TWILIO_API_KEY_SID, settings.TWILIO_API_KEY_SECRET))
        except OSError as exc:
            raise ProviderError(f"Twilio Video unreachable: {type(exc).__name__}") from exc
        if missing_ok and status == 404:
            return {}
        if status >= 400:
            raise ProviderError(f"Twilio Video answered {status}: {body.get('code', '')} {body.get('message', '')}".strip())
        return body

    def create_room(self, *, name):
        data = {"UniqueName": name, "Type": "group", "MaxParticipants": 2}
        if self.status_callback:
            data.update({"StatusCallback": self.status_callback, "StatusCallbackMethod": "POST"})
        body = self._call("POST", API, data)
        if not body.get("sid"):
            raise ProviderError("Twilio Video created no room sid.")
        return Room(provider=self.code, name=body.get("unique_name") or name, sid=body["sid"])

    def end_room(self, *, room):
        self._call("POST", f"{API}/{room.sid or room.name}", {"Status": "completed"})

    def room_status(self, *, room):
        status = self._call("GET", f"{API}/{room.sid or room.name}").get("status")
        return {"in-progress": ROOM_OPEN, "completed": ROOM_ENDED, "failed": ROOM_ENDED}.get(status, ROOM_UNKNOWN)

    def browser_script(self):
        return {"src": static(BROWSER_SDK), "integrity": BROWSER_SDK_INTEGRITY}

    def start_recording(self, *, room):
        """Twilio's recording rules: record every track of the room from now on. The room's sid
        groups its recordings at Twilio (GroupingSid), which is what the retention job deletes."""
        if not room.sid:
            raise ProviderError("Twilio Video has no room sid to record.")
        self._call("POST", f"{API}/{room.sid}/RecordingRules", {"Rules": json.dumps([{"type": "include", "all": True}])})
        return room.sid

    def delete_recording(self, *, room_sid, vendor_sid, file):
        """Every track recording of the room (GroupingSid), deleted at Twilio; one already
        gone (404) is fine."""
        super().delete_recording(room_sid=room_sid, vendor_sid=vendor_sid, file=file)
        grouping = vendor_sid or room_sid
        if not grouping:
            return
        listing = self._call("GET", f"{RECORDINGS_API}?{urllib.parse.urlencode({'GroupingSid': grouping})}", missing_ok=True)
        for item in listing.get("recordings") or []:
            sid = item.get("sid") if isinstance(item, dict) else None
            if sid:
                self._call("DELETE", f"{RECORDINGS_API}/{sid}", missing_ok=True)

    def participant_token(self, *, room, identity, role, ttl):
        token = AccessToken(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_API_KEY_SID, settings.TWILIO_API_KEY_SECRET,
                            identity=identity, ttl=ttl)
        token.add_grant(VideoGrant(room=room.name))
        jwt = token.to_jwt()
        jwt = jwt.decode() if isinstance(jwt, bytes) else jwt
        return JoinToken(provider=self.code, room=room.name, token=jwt, expires_at=int(time.time()) + ttl,
                         identity=identity)

    def verify_webhook(self, request):
        signature = request.headers.get("x-twilio-signature", "")
        if not (settings.TWILIO_AUTH_TOKEN and signature):
            raise WebhookRejected()
        if not RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(request.url, request.params, signature):
            raise WebhookRejected()
        # Twilio signs the URL and the fields, not a time: the same delivery always has the
        # same signature, which is what the receipt's unique index refuses the second time.
        digest = hashlib.sha256(signature.encode() + request.body).hexdigest()
        return WebhookCall(event=request.params.get("StatusCallbackEvent", ""), room_name=request.params.get("RoomName", ""),
                           room_sid=request.params.get("RoomSid", ""), digest=digest)
