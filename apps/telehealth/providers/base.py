"""The one interface every video provider implements, and what crosses it.

A provider creates and ends rooms, signs a participant's token, reports a room's status,
verifies its own webhooks and says what it can do. Nothing above this package knows a vendor:
services ask `registry.chain()` for the configured providers in order and take the first that
creates the room (apps/telehealth/services/rooms.py)."""
from dataclasses import dataclass, field


class ProviderError(Exception):
    """The provider could not do what was asked (network, credentials, vendor refusal). The
    message names the provider and the failure, never a patient."""


@dataclass(frozen=True)
class Capabilities:
    recording: bool
    screen_share: bool
    max_participants: int


@dataclass(frozen=True)
class Room:
    provider: str
    name: str
    sid: str = ""


@dataclass(frozen=True)
class JoinToken:
    """What the browser needs to join: the provider, the room, the token and when it expires
    (epoch seconds); `extra` carries provider-specific settings (ICE servers, the SDK key)."""

    provider: str
    room: str
    token: str
    expires_at: int
    identity: str
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookCall:
    """A verified callback: the event name, the room it concerns, a digest that identifies this
    exact delivery (a replay has the same one), and for a challenge the body to answer with."""

    event: str
    room_name: str = ""
    room_sid: str = ""
    digest: str = ""
    answer: dict | None = None


@dataclass(frozen=True)
class WebhookRequest:
    """An incoming callback as the providers read it (built by the view)."""

    url: str
    headers: dict  # lower-case names
    body: bytes
    params: dict  # form fields (Twilio)


ROOM_OPEN, ROOM_ENDED, ROOM_UNKNOWN = "open", "ended", "unknown"


class VideoProvider:
    code = ""  # VideoProvider choice (BUILTIN, TWILIO, ZOOM)
    name = ""  # the settings name (builtin, twilio, zoom)
    capabilities = Capabilities(recording=False, screen_share=False, max_participants=2)

    def configured(self):
        """Whether its credentials are set (an unconfigured provider is skipped)."""
        return True

    def create_room(self, *, name):
        raise NotImplementedError

    def end_room(self, *, room):
        raise NotImplementedError

    def room_status(self, *, room):
        raise NotImplementedError

    def participant_token(self, *, room, identity, role, ttl):
        """role: "host" (the clinician) or "guest" (the patient)."""
        raise NotImplementedError

    def verify_webhook(self, request):
        """The WebhookCall of a genuine callback; WebhookRejected otherwise."""
        raise NotImplementedError
