"""Helpers shared by the scheduling services: the moves of slots, requests and visits (thin
wrappers over core's transition helper that also tell the staff board), the scheduling rules,
notifications, settings."""
import datetime

from django.conf import settings

from apps.core.exceptions import DomainError
from apps.core.timezones import zone_for
from apps.core.transitions import transition
from apps.messaging.models import Channel
from apps.messaging.services import message_enqueue, notify, notify_many
from apps.scheduling import events
from apps.scheduling.exceptions import EmergencyCareRequired, ReviewRequired
from apps.scheduling.models import Mode, Severity, VisitSlot
from apps.scheduling.selectors import SCHEDULING_DESK_ROLES, staff_users


class SlotDoesNotFit(DomainError):
    default_code = "slot_does_not_fit"
    default_message = "That slot does not suit this visit type."


def hours(name):
    return datetime.timedelta(hours=getattr(settings, name))


def minutes(name):
    return datetime.timedelta(minutes=getattr(settings, name))


def is_staff_actor(actor):
    return bool(actor is not None and getattr(actor, "is_staff", False))


# --- moves (the caller holds the row lock: core.transitions.lock) ----------------------------
# Each goes through apps.core.transitions.transition (the table, the save, the event row and,
# for requests and visits, the audit entry) and then publishes to the staff board, after
# commit (apps/scheduling/events.py): scheduling keeps its publish calls in the services, next
# to the move, as it does for the events that are not moves (creation, reschedule).

def slot_move(slot, to, *, actor=None, reason="", request=None, hold=None):
    """Move a locked slot to `to` (VisitSlot.TRANSITIONS, InvalidTransition otherwise): sets
    (HELD) or clears the hold fields, writes the SlotEvent (with the request it concerns),
    publishes slot.changed. No audit entry (VisitSlot.AUDIT_TRANSITIONS)."""
    hold = hold or {}
    transition(slot, to, actor=actor, reason=reason, locked=True, event_fields={"request": request}, fields={
        "hold_kind": hold.get("kind", ""),
        "held_for_request": hold.get("request"),
        "held_for_patient": hold.get("patient"),
        "held_until": hold.get("until"),
        "hold_token": hold.get("token"),
    })
    events.publish_board("slot.changed", events.slot_payload(slot))
    return slot


def slot_book_now(slot, *, patient, actor=None, reason="", request=None, now=None):
    """FREE -> BOOKED in one move (one UPDATE, one SlotEvent), for bookings made in one step
    (staff reschedule, one-step patient and clinic booking): the caller holds the slot's lock
    and has checked it is FREE, so no hold is needed in between (VisitSlot.TRANSITIONS allows
    the direct move). `patient` and `now` are kept for the callers; the event names the request."""
    return slot_move(slot, VisitSlot.Status.BOOKED, actor=actor, reason=reason, request=request)


def request_move(request, to, *, actor=None, reason="", data=None, **fields):
    """Move a locked request to `to` (VisitRequest.TRANSITIONS), with `fields`: event row,
    audit entry, request.changed to the board and the request's walk-in queue."""
    transition(request, to, actor=actor, reason=reason, data=data, fields=fields, locked=True)
    events.publish_board("request.changed", events.request_payload(request), location_id=request.location_id)
    return request


def visit_move(visit, to, *, actor=None, reason="", data=None, **fields):
    """Move a locked visit to `to` (Visit.TRANSITIONS), with `fields`: event row, audit
    entry, visit.changed to the board and the location's queue."""
    transition(visit, to, actor=actor, reason=reason, data=data, fields=fields, locked=True)
    events.publish_board("visit.changed", events.visit_payload(visit), location_id=visit.location_id)
    return visit


# --- rules ----------------------------------------------------------------------------------

def ensure_schedulable(request):
    """RED never; ORANGE only after a provider's review."""
    if request.severity == Severity.RED:
        raise EmergencyCareRequired(extra={"request_id": str(request.pk)})
    if request.needs_review:
        raise ReviewRequired(extra={"request_id": str(request.pk)})


def ensure_fits(slot, visit_type, patient=None, *, offered=None):
    """The slot suits the visit type: same mode, long enough, the provider offers it and is
    active, and for a virtual visit the provider is licensed where the patient lives.
    `offered`: whether the provider offers the visit type, when the caller already read it
    (with the slot's lock, visits._lock_slot_for_booking); else it is read here."""
    problems = []
    if not visit_type.is_active:
        problems.append("This visit type is no longer offered.")
    if slot.mode != visit_type.mode:
        problems.append(f"This is a {slot.get_mode_display().lower()} slot; the visit type is {visit_type.get_mode_display().lower()}.")
    if slot.duration < datetime.timedelta(minutes=visit_type.duration_minutes):
        problems.append("The slot is too short for this visit type.")
    provider = slot.provider
    if offered is None:
        offered = provider.visit_types.filter(pk=visit_type.pk).exists()
    if not provider.is_active or not offered:
        problems.append("This provider does not offer this visit type.")
    if patient is not None and slot.mode == Mode.VIRTUAL and not provider.is_licensed_in(patient.state):
        problems.append("This provider is not licensed in the patient's state for virtual visits.")
    if problems:
        raise SlotDoesNotFit(" ".join(problems), extra={"slot_id": str(slot.pk), "problems": problems})


# --- notifications --------------------------------------------------------------------------

def notify_patient(patient, *, kind, title, body="", link="", data=None, urgent=False, outbox_key=None, context=None,
                   channels=(Channel.SMS, Channel.EMAIL), not_after=None):
    """In-app notification for the patient's portal user, when they have one. With
    `outbox_key`, the same event is also queued for SMS and email through the messaging outbox
    (message_enqueue: by the patient's preferences and quiet hours, in this transaction, once
    per key, so a retried service queues nothing new), whether or not the patient has a portal
    login. The SMS/email words come from the MessageTemplate for `kind`, rendered with
    `context`: PHI-free keys only (visit time, location name, deadline); never the reason,
    symptoms or severity, which stay in `body` for the signed-in portal."""
    notification = None
    if patient.user_id:
        notification = notify(user=patient.user, kind=kind, title=title, body=body, link=link, data=data, urgent=urgent)
    if outbox_key and channels:
        message_enqueue(kind=kind, patient=patient, user=patient.user if patient.user_id else None, channels=channels,
                        context=context, link=link, urgent=urgent, dedupe_key=outbox_key, not_after=not_after)
    return notification


def notify_desk(*, kind, title, body="", link="", data=None, urgent=False, roles=SCHEDULING_DESK_ROLES):
    return notify_many(users=staff_users(roles=roles), kind=kind, title=title, body=body, link=link, data=data, urgent=urgent)


def request_link(request, *, staff):
    return f"/staff/scheduling/requests/{request.pk}/" if staff else f"/portal/schedule/requests/{request.pk}/"


def visit_link(visit, *, staff):
    return f"/staff/scheduling/visits/{visit.pk}/" if staff else f"/portal/schedule/visits/{visit.pk}/"


def local_text(dt, location):
    return _zoned_text(dt.astimezone(location.tzinfo))


def patient_local_text(dt, patient):
    """`dt` in the patient's own timezone (the clinic's when theirs is unknown: zone_for)."""
    return _zoned_text(dt.astimezone(zone_for(patient)))


def _zoned_text(local):
    return local.strftime("%a %d %b %Y, %H:%M ") + (local.tzname() or "")
