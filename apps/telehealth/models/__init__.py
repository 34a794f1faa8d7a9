"""Telehealth: one video session per VIRTUAL visit, its waiting-room entries, and the webhook
receipts that make a provider's replayed callback a no-op."""
from apps.telehealth.models.recordings import Recording, RecordingEvent
from apps.telehealth.models.sessions import (
    PLACE_OF_SERVICE_AT_HOME,
    PLACE_OF_SERVICE_OTHER,
    TELEHEALTH_MODIFIER,
    SessionEvent,
    TelehealthSession,
    VideoProvider,
    WaitingRoomEntry,
    WaitingRoomEvent,
    WebhookReceipt,
)

__all__ = [
    "PLACE_OF_SERVICE_AT_HOME", "PLACE_OF_SERVICE_OTHER", "TELEHEALTH_MODIFIER", "Recording", "RecordingEvent", "SessionEvent", "TelehealthSession",
    "VideoProvider", "WaitingRoomEntry", "WaitingRoomEvent", "WebhookReceipt",
]
