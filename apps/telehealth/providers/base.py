"""The one interface every video provider implements, and what crosses it.

A provider creates and ends rooms, signs a participant's token, reports a room's status,
verifies its own webhooks and says what it can do. Nothing above this package knows a vendor:
services ask `registry.chain()` for the configured providers in order and take the first that
creates the room (apps/telehealth/services/rooms.py)."""
import abc
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


class VideoProvider(abc.ABC):
    code = ""  # VideoProvider choice (BUILTIN, TWILIO, ZOOM)
    name = ""  # the settings name (builtin, twilio, zoom)
    capabilities = Capabilities(recording=False, screen_share=False, max_participants=2)

    def configured(self):
        """Whether its credentials are set (an unconfigured provider is skipped)."""
        return True

    @abc.abstractmethod
    def create_room(self, *, name):
        """The Room named `name`, created at the vendor if it keeps rooms; ProviderError otherwise."""

    @abc.abstractmethod
    def end_room(self, *, room):
        """Close the room at the vendor (nothing to do for one that keeps none)."""

    @abc.abstractmethod
    def room_status(self, *, room):
        """ROOM_OPEN, ROOM_ENDED or ROOM_UNKNOWN."""

    @abc.abstractmethod
    def participant_token(self, *, room, identity, role, ttl):
        """A JoinToken; role: "host" (the clinician) or "guest" (the patient)."""

    @abc.abstractmethod
    def verify_webhook(self, request):
        """The WebhookCall of a genuine callback; WebhookRejected otherwise."""

    def browser_script(self):
        """The vendor's browser SDK the call page must load for this provider's rooms, as
        {"src", "integrity"} (Subresource Integrity, sha384), or None when the app's own
        script is enough (the built-in provider). The page loads it only when this provider
        serves the session."""
        return None

    # Recordings. Only a provider whose capabilities say `recording` is asked; the defaults
    # answer for one that cannot record.

    def start_recording(self, *, room):
        """Start recording the room. Returns the vendor's id of the recording, or "" when the
        browser records and uploads (the built-in provider). ProviderError when it cannot."""
        raise ProviderError(f"{self.code or 'This provider'} does not record calls.")

    def delete_recording(self, *, room_sid, vendor_sid, file):
        """Delete a recording wherever this provider keeps it: the uploaded `file` (a FieldFile,
        possibly empty) and/or the vendor's copy named by `vendor_sid`. Deleting what is already
        gone is not an error (the retention job may run twice)."""
        if file:
            file.delete(save=False)
