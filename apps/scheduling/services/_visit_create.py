"""The one place a visit row is created (offers accepted, walk-ins assigned, direct and clinic
bookings): requests.py and visits.py both import it from here, so neither imports the other
to make a visit."""
import datetime

from django.db import IntegrityError

from apps.audit.services import record
from apps.core.transitions import record_event
from apps.scheduling import events
from apps.scheduling.exceptions import SlotUnavailable
from apps.scheduling.models import Visit
from apps.scheduling.services._notices import reminders_sync, visit_booked_notices

ONE_ACTIVE_PER_SLOT = "visit_one_active_per_slot"


def _is_slot_taken(exc):
    """Whether the IntegrityError is the partial unique index on active visits per slot, from
    the error alone: the transaction cannot be asked anything more (PostgreSQL has aborted it,
    and Django marks it for rollback on both). PostgreSQL names the index; SQLite names the
    column ("UNIQUE constraint failed: scheduling_visit.slot_id")."""
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    return name == ONE_ACTIVE_PER_SLOT or ONE_ACTIVE_PER_SLOT in str(exc) or f"{Visit._meta.db_table}.slot_id" in str(exc)


def create_visit(*, patient, slot, visit_type, request=None, actor=None, provider=None, location=None, start=None,
                 end=None, is_walk_in=False, idempotency_key="", reason="", announce=False):
    """A PLANNED visit (with its first event). The caller holds the slot's row lock and has
    moved it to BOOKED, in its own transaction (every service is atomic): the partial unique
    index on active visits per slot is the last line of defence, and hitting it answers
    SlotUnavailable, never a 500 (no savepoint of its own: the caller's transaction is rolled
    back with the error). Triggers: the "create" audit entry, visit.created to the board, and
    the patient's messages: with `announce`, the booking notice (in-app, SMS, email) and the
    reminders in one messages_enqueue call (_notices.visit_booked_notices); without, the reminder rows
    alone (none when the visit starts now) and the caller tells the patient itself."""
    if slot is not None:
        provider, location, start = slot.provider, slot.location, slot.start
        end = start + datetime.timedelta(minutes=visit_type.duration_minutes)
        mode = slot.mode
    else:
        mode = visit_type.mode
    try:
        visit = Visit.objects.create(
            patient=patient, provider=provider, slot=slot, visit_type=visit_type, location=location, mode=mode,
            start=start, end=end, is_walk_in=is_walk_in, request=request, idempotency_key=idempotency_key or "",
            created_by=actor if getattr(actor, "pk", None) else None,
        )
    except IntegrityError as exc:
        if _is_slot_taken(exc):
            raise SlotUnavailable(extra={"slot_id": str(slot.pk)}) from exc
        raise
    # Its first event row ("" -> PLANNED); the audit entry is the creation's own, not an update.
    record_event(visit, actor=visit.created_by, reason=reason or "Booked", from_status="", audit=False)
    record("create", visit)
    events.publish_board("visit.created", events.visit_payload(visit), location_id=visit.location_id)
    if announce:
        visit_booked_notices(visit)
    else:
        reminders_sync(visit)
    return visit
