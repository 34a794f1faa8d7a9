"""The one place a visit row is created (offers accepted, walk-ins assigned, direct and clinic
bookings): requests.py and visits.py both import it from here, so neither imports the other
to make a visit."""
import datetime

from django.db import IntegrityError, transaction

from apps.audit.services import record
from apps.core.transitions import record_event
from apps.scheduling import events
from apps.scheduling.exceptions import SlotUnavailable
from apps.scheduling.models import Visit
from apps.scheduling.services._notices import reminders_sync


def create_visit(*, patient, slot, visit_type, request=None, actor=None, provider=None, location=None, start=None,
                 end=None, is_walk_in=False, idempotency_key="", reason=""):
    """A PLANNED visit (with its first event). The caller holds the slot's row lock and has
    moved it to BOOKED. The partial unique index on active visits per slot is the last line
    of defence: hitting it answers SlotUnavailable, never a 500. Triggers: the "create" audit
    entry, visit.created to the board, the appointment reminder rows (every booking path
    comes through here; none when the visit starts now)."""
    if slot is not None:
        provider, location, start = slot.provider, slot.location, slot.start
        end = start + datetime.timedelta(minutes=visit_type.duration_minutes)
        mode = slot.mode
    else:
        mode = visit_type.mode
    try:
        with transaction.atomic():
            visit = Visit.objects.create(
                patient=patient, provider=provider, slot=slot, visit_type=visit_type, location=location, mode=mode,
                start=start, end=end, is_walk_in=is_walk_in, request=request, idempotency_key=idempotency_key or "",
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError as exc:
        if "visit_one_active_per_slot" in str(exc) or (slot is not None and Visit.objects.active().filter(slot=slot).exists()):
            raise SlotUnavailable(extra={"slot_id": str(slot.pk)}) from exc
        raise
    # Its first event row ("" -> PLANNED); the audit entry is the creation's own, not an update.
    record_event(visit, actor=visit.created_by, reason=reason or "Booked", from_status="", audit=False)
    record("create", visit)
    events.publish_board("visit.created", events.visit_payload(visit), location_id=visit.location_id)
    reminders_sync(visit)
    return visit
