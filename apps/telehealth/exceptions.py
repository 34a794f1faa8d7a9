"""The telehealth app's domain errors (subclasses of core's DomainError). Every refusal of a
waiting room or a call is a Conflict (409) with a stable code."""
from apps.core.exceptions import Conflict, PermissionDenied


class NotYetOpen(Conflict):
    default_code = "waiting_room_not_open"
    default_message = "The waiting room is not open yet."


class SessionClosed(Conflict):
    default_code = "session_closed"
    default_message = "This video visit is over or was cancelled."


class ConsentRequired(Conflict):
    """A telehealth consent is missing or cannot be relied on. extra: {"missing": [kinds],
    "problems": [{"kind", "code"}]}."""

    default_code = "telehealth_consent_required"
    default_message = "A signed telehealth consent is needed before the visit can start."


class ProviderNotLicensed(Conflict):
    default_code = "provider_not_licensed"
    default_message = "The provider is not licensed in the state the patient is in now."


class StateRequired(Conflict):
    default_code = "patient_state_required"
    default_message = "Tell us which US state you are in now before the visit starts."


class NoVideoProvider(Conflict):
    default_code = "video_provider_unavailable"
    default_message = "No video provider could create the room. Try again in a moment."


class WebhookRejected(PermissionDenied):
    default_code = "webhook_signature_invalid"
    default_message = "The callback's signature is not valid."


class RecordingUnsupported(Conflict):
    default_code = "recording_unsupported"
    default_message = "This video provider cannot record the call."


class RecordingNotStored(Conflict):
    default_code = "recording_not_stored"
    default_message = "This recording has no file here to download."
