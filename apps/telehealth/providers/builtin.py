"""The built-in provider: peer-to-peer WebRTC between the two browsers, signalling over the
app's own WebSocket (apps/telehealth/consumers.py). No vendor account, no webhooks. The join
token is signed by Django (SECRET_KEY) and names the session, the user and the role; the
signalling socket refuses a missing, forged or expired one."""
import time

from django.conf import settings
from django.core import signing

from apps.telehealth.exceptions import WebhookRejected
from apps.telehealth.providers.base import ROOM_OPEN, Capabilities, JoinToken, Room, VideoProvider

SALT = "telehealth.join"


def sign_join(*, room, identity, role):
    return signing.dumps({"room": room, "id": identity, "role": role}, salt=SALT, compress=True)


def read_join(token, *, max_age):
    """The token's {"room", "id", "role"}, or None when it is forged, malformed or expired."""
    try:
        return signing.loads(token or "", salt=SALT, max_age=max_age)
    except (signing.BadSignature, ValueError, TypeError):
        return None


class BuiltinProvider(VideoProvider):
    code = "BUILTIN"
    name = "builtin"
    # The provider's browser records with MediaRecorder; two participants, peer to peer.
    capabilities = Capabilities(recording=True, screen_share=False, max_participants=2)

    def create_room(self, *, name):
        return Room(provider=self.code, name=name)

    def end_room(self, *, room):
        # Nothing lives outside our database: the signalling group empties when both leave.
        return None

    def room_status(self, *, room):
        return ROOM_OPEN

    def start_recording(self, *, room):
        # The provider's browser records (MediaRecorder) and uploads the file when the call ends.
        return ""

    def participant_token(self, *, room, identity, role, ttl):
        return JoinToken(provider=self.code, room=room.name, token=sign_join(room=room.name, identity=identity, role=role),
                         expires_at=int(time.time()) + ttl, identity=identity,
                         extra={"ice_servers": settings.TELEHEALTH_ICE_SERVERS})

    def verify_webhook(self, request):
        raise WebhookRejected("The built-in provider sends no webhooks.")
