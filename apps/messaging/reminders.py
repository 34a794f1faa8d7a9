"""Appointment reminders: the generic part. Scheduling (built separately) calls
visit_reminders_schedule() when a visit is booked or rescheduled and visit_reminders_cancel()
when it is cancelled; nothing here imports scheduling. Each reminder is an outbox row due at
start - offset (MESSAGING_REMINDER_OFFSETS_HOURS, default 48 h and 2 h), deduplicated by
(visit, start time, offset): calling again creates nothing, a reschedule cancels the old
reminders and creates new ones. visit_reminders_schedule_many() does the same for many visits in
one transaction (10,000 reminders in a few seconds: bench/jobs.py); the one-visit call goes
through it."""
import datetime
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import dateformat, timezone, translation

from apps.core.hooks import Hook
from apps.core.timezones import zone_for
from apps.messaging.outbox import Outgoing, messages_enqueue, outbox_cancel_pending, outbox_cancel_pending_many

ACTIVE_VISIT_STATUSES = {"PLANNED", "CONFIRMED", "planned", "confirmed"}


def reminder_offsets():
    return [timedelta(hours=h) for h in settings.MESSAGING_REMINDER_OFFSETS_HOURS]


def _prefix(visit_id):
    return f"visit_reminder:{visit_id}:"


def format_visit_time(patient, start_at):
    """The visit time on the patient's clock (their timezone, else the clinic's: zone_for)."""
    return _format_on(start_at, zone_for(patient), translation.get_language())


@lru_cache(maxsize=4096)
def _format_on(start_at, zone, language):
    # Kept per instant, zone and active language (day and month names; and aware datetimes of
    # one instant in two zones are equal keys): a batch of reminders has few distinct start
    # times, and dateformat costs about a tenth of a millisecond each.
    return dateformat.format(start_at.astimezone(zone), "D j M Y, H:i")


@dataclass
class VisitReminders:
    """One visit as visit_reminders_schedule_many takes it (visit_reminders_schedule's
    arguments)."""

    visit_id: str
    patient: object
    start_at: datetime.datetime
    location_name: str = ""
    status: str = "PLANNED"
    visit_time: str | None = None


def _ahead(visit, now):
    return visit.status in ACTIVE_VISIT_STATUSES and visit.start_at > now


def visit_reminder_events(visit, *, now):
    """The reminders of one visit (VisitReminders) as messages_enqueue takes them (Outgoing):
    one per offset whose time is still ahead at `now`, none for a visit no longer active or
    already started. Writes nothing: visit_reminders_schedule_many() writes them (and cancels
    an earlier start's); a caller that knows no earlier rows can exist (a visit created in
    its own transaction) may pass them to messages_enqueue with its other messages."""
    if not _ahead(visit, now):
        return []
    prefix = _prefix(visit.visit_id)
    stamp = int(visit.start_at.timestamp())
    context = {"visit_time": visit.visit_time or format_visit_time(visit.patient, visit.start_at),
               "location_name": visit.location_name}
    return [
        Outgoing(
            kind="visit_reminder",
            patient=visit.patient,
            context=context,
            due_at=visit.start_at - offset,
            not_after=visit.start_at - timedelta(minutes=30),
            dedupe_key=f"{prefix}{stamp}:{int(offset.total_seconds() // 60)}m",
        )
        for offset in reminder_offsets()
        # Booked inside this window: the booking confirmation covers it.
        if visit.start_at - offset > now
    ]


@transaction.atomic
def visit_reminders_schedule(*, visit_id, patient, start_at, location_name="", status="PLANNED", now=None, visit_time=None):
    """Create the reminder rows of one visit (one per offset whose time is still ahead), or,
    when the visit is no longer active, cancel them. Reminders of an earlier start time of the
    same visit are cancelled. The message carries only the time and the place (no reason,
    no provider notes). `visit_time`: the time as the caller wants it shown (e.g. in the
    location's timezone); default: in the patient's timezone. A reminder whose quiet-hours
    delay would reach the visit itself goes at its own time. Returns the rows (created or
    existing). visit_reminders_schedule_many() is the same for many visits."""
    visit = VisitReminders(visit_id=visit_id, patient=patient, start_at=start_at, location_name=location_name,
                           status=status, visit_time=visit_time)
    return visit_reminders_schedule_many(visits=[visit], now=now)[0]


@transaction.atomic
def visit_reminders_schedule_many(*, visits, now=None):
    """visit_reminders_schedule for many visits (VisitReminders) in one transaction: reminders
    of inactive or past visits and of earlier start times cancelled in one UPDATE per 200
    visits, the new rows written by messages_enqueue (one INSERT ... ON CONFLICT DO NOTHING
    per 500 rows, so calling again creates nothing). Returns, per visit, its rows."""
    now = now or timezone.now()
    visits = list(visits)
    gone, moved, events, owner = [], [], [], []
    for index, visit in enumerate(visits):
        prefix = _prefix(visit.visit_id)
        if not _ahead(visit, now):
            gone.append((prefix, None))
            continue
        moved.append((prefix, f"{prefix}{int(visit.start_at.timestamp())}:"))
        for event in visit_reminder_events(visit, now=now):
            events.append(event)
            owner.append(index)
    if gone:
        outbox_cancel_pending_many(prefixes=gone, reason="visit cancelled")
    if moved:
        outbox_cancel_pending_many(prefixes=moved, reason="visit moved")
    out = [[] for _ in visits]
    for index, rows in zip(owner, messages_enqueue(events=events)):
        out[index] += rows
    return out


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
