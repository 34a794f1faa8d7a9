"""Appointment reminders: the generic part. Scheduling (built separately) calls
visit_reminders_schedule() when a visit is booked or rescheduled and visit_reminders_cancel()
when it is cancelled; nothing here imports scheduling. Each reminder is an outbox row due at
start - offset (MESSAGING_REMINDER_OFFSETS_HOURS, default 48 h and 2 h), deduplicated by
(visit, start time, offset): calling again creates nothing, a reschedule cancels the old
reminders and creates new ones."""
import datetime
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import dateformat, timezone

from apps.core.hooks import Hook
from apps.core.timezones import local_time
from apps.core.transitions import transition_rows
from apps.messaging.models import OutboundMessage
from apps.messaging.outbox import message_enqueue, outbox_cancel_pending

ACTIVE_VISIT_STATUSES = {"PLANNED", "CONFIRMED", "planned", "confirmed"}


def reminder_offsets():
    return [timedelta(hours=h) for h in settings.MESSAGING_REMINDER_OFFSETS_HOURS]


def _prefix(visit_id):
    return f"visit_reminder:{visit_id}:"


def format_visit_time(patient, start_at):
    """The visit time on the patient's clock (their timezone, else the clinic's: zone_for)."""
    return dateformat.format(local_time(start_at, patient), "D j M Y, H:i")


@transaction.atomic
def visit_reminders_schedule(*, visit_id, patient, start_at, location_name="", status="PLANNED", now=None, visit_time=None):
    """Create the reminder rows of one visit (one per offset whose time is still ahead), or,
    when the visit is no longer active, cancel them. Reminders of an earlier start time of the
    same visit are cancelled. The message carries only the time and the place (no reason,
    no provider notes). `visit_time`: the time as the caller wants it shown (e.g. in the
    location's timezone); default: in the patient's timezone. A reminder whose quiet-hours
    delay would reach the visit itself goes at its own time. Returns the rows (created or
    existing)."""
    now = now or timezone.now()
    if status not in ACTIVE_VISIT_STATUSES or start_at <= now:
        visit_reminders_cancel(visit_id=visit_id)
        return []
    stamp = int(start_at.timestamp())
    stale = OutboundMessage.objects.filter(dedupe_key__startswith=_prefix(visit_id)).exclude(
        dedupe_key__startswith=f"{_prefix(visit_id)}{stamp}:"
    )
    transition_rows(stale, from_status=OutboundMessage.Status.PENDING, to=OutboundMessage.Status.CANCELLED,
                    finished_at=now, last_error="visit moved")
    context = {"visit_time": visit_time or format_visit_time(patient, start_at), "location_name": location_name}
    rows = []
    for offset in reminder_offsets():
        due = start_at - offset
        if due <= now:
            continue  # booked inside this window: the booking confirmation covers it
        rows += message_enqueue(
            kind="visit_reminder",
            patient=patient,
            context=context,
            due_at=due,
            not_after=start_at - timedelta(minutes=30),
            dedupe_key=f"{_prefix(visit_id)}{stamp}:{int(offset.total_seconds() // 60)}m",
        )
    return rows


def visit_reminders_cancel(*, visit_id):
    """Cancel the visit's reminders that have not gone out yet."""
    return outbox_cancel_pending(dedupe_key_prefix=_prefix(visit_id), reason="visit cancelled")


def reminder_visit_of(dedupe_key):
    """(visit_id, start time) a reminder row was queued for, from its dedupe key
    ("visit_reminder:<visit>:<start stamp>:<offset>:<channel>"); None for any other key."""
    parts = (dedupe_key or "").split(":")
    if len(parts) < 4 or parts[0] != "visit_reminder":
        return None
    try:
        return parts[1], datetime.datetime.fromtimestamp(int(parts[2]), tz=datetime.timezone.utc)
    except (ValueError, OverflowError):
        return None


# Asked just before a visit reminder goes out: receiver(*, visit_id, start_at) -> bool, is the
# visit still planned at that time? False suppresses the reminder.
reminder_visit_check = Hook("reminder_visit_check", "(*, visit_id, start_at) -> bool: still planned then?")


def reminder_suppressed_reason(message):
    """Checked by the sender right before a reminder goes out: why it must not (the visit was
    cancelled, moved or is no longer planned), or "". Cancelling a visit already cancels its
    PENDING reminders; this catches a row claimed by a worker just before the cancel committed.
    The question goes to the reminder_visit_check hook (scheduling answers it, connected in
    apps/scheduling/apps.py), so this module imports nothing of scheduling. No receiver: no
    check."""
    found = reminder_visit_of(message.dedupe_key) if reminder_visit_check and message.kind == "visit_reminder" else None
    if found is None:
        return ""
    visit_id, start_at = found
    if reminder_visit_check.first(visit_id=visit_id, start_at=start_at) is not False:
        return ""
    return "visit no longer planned at this time"
