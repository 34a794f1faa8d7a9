"""Every telehealth write. Import services from here: apps.telehealth.services.<name>."""
from apps.telehealth.services.jobs import sessions_end_left_open, sessions_no_show, waiting_room_timeouts
from apps.telehealth.services.recordings import recording_start, recording_store, recordings_delete_expired
from apps.telehealth.services.rebooking import session_move_to_slot, session_reassign, session_rebook
from apps.telehealth.services.rooms import session_ensure_room
from apps.telehealth.services.sessions import (
    GUEST,
    HOST,
    participant_role,
    session_cancel_with_visit,
    session_end,
    session_follow_visit,
    session_for_new_visit,
    session_join_token,
    session_mark_technical_issues,
    session_save_quality,
    session_start,
)
from apps.telehealth.services.waiting_room import (
    waiting_room_admit,
    waiting_room_answer,
    waiting_room_device_check,
    waiting_room_enter,
    waiting_room_leave,
    telehealth_consents_to_sign,
    waiting_room_running_late,
)
from apps.telehealth.services.webhooks import webhook_receive

__all__ = [
    "GUEST", "HOST", "recording_start", "recording_store", "recordings_delete_expired", "session_move_to_slot", "session_reassign", "session_rebook",
    "sessions_end_left_open", "sessions_no_show", "waiting_room_timeouts", "session_ensure_room", "participant_role",
    "session_cancel_with_visit", "session_end", "session_follow_visit", "session_for_new_visit", "session_join_token",
    "session_mark_technical_issues", "session_save_quality", "session_start", "waiting_room_admit",
    "waiting_room_answer", "waiting_room_device_check", "waiting_room_enter", "waiting_room_leave",
    "waiting_room_running_late", "webhook_receive", "telehealth_consents_to_sign",
]
