"""Visits: direct booking with a short hold and an idempotency key, the clinic's one-step
booking, the visit lifecycle, cancellation and rescheduling. The visit row itself is made by
_visit_create.create_visit (shared with offers and walk-ins in requests.py); a freed slot goes
to the waitlist (requests.waitlist_offer_slot): this module imports requests, never the
other way round."""
import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.audit.services import record
from apps.core.exceptions import Conflict, InvalidTransition, NotFound, ValidationFailed
from apps.core.transitions import lock, record_event
from apps.scheduling import events
from apps.scheduling.exceptions import (
    CancellationWindowClosed, EmergencyCareRequired, HoldExpired, IdempotencyKeyReused, NotAllowed, SlotUnavailable,
)
from apps.scheduling.models import Provider, Severity, Visit, VisitRequest, VisitSlot
from apps.scheduling.services._common import (
    ensure_fits, ensure_schedulable, hours, is_staff_actor, minutes, notify_desk, request_move, slot_book_now,
    slot_move, visit_link, visit_move,
)
from apps.scheduling.services import idempotency
from apps.scheduling.services._notices import (
    follow_up_enqueue, notify_visit_cancelled, notify_visit_rescheduled, reminders_cancel, reminders_sync,
)
from apps.scheduling.services._visit_create import create_visit
from apps.scheduling.services.requests import waitlist_offer_slot

V = Visit.Status
# Loaded with the slot's lock by the one-step bookings: ensure_fits reads the provider,
# create_visit the location, the API answer the provider's name.
SLOT_RELATED = ("provider__user", "location")


# --- direct booking (GREEN / self-bookable) -------------------------------------------------

def visit_for_idempotency_key(*, patient, key, slot=None, visit_type=None):
    """The visit an earlier submit with this key created; IdempotencyKeyReused when the key
    was used for another slot or another visit type."""
    if not key:
        return None
    visit = Visit.objects.filter(patient=patient, idempotency_key=key).select_related("slot", "visit_type", "location").first()
    if visit is None:
        return None
    if slot is not None and str(visit.slot_id) != str(getattr(slot, "pk", slot)):
        raise IdempotencyKeyReused(extra={"visit_id": str(visit.pk)})
    if visit_type is not None and str(visit.visit_type_id) != str(getattr(visit_type, "pk", visit_type)):
        raise IdempotencyKeyReused(extra={"visit_id": str(visit.pk)})
    return visit


def _ensure_may_self_book(patient, visit_type, request, *, red=None):
    """`red`: whether the patient has an open RED request, when the caller read it already."""
    if not (visit_type.self_bookable and visit_type.is_active):
        raise NotAllowed("This visit type cannot be booked online; ask the clinic for a time.", code="not_self_bookable")
    if request is not None:
        if request.patient_id != patient.pk:
            raise NotFound()
        if request.severity == Severity.RED:
            raise EmergencyCareRequired(extra={"request_id": str(request.pk)})
        if request.severity != Severity.GREEN:
            raise NotAllowed("The clinic will offer you times for this request.", code="staff_will_offer")
        if request.status not in (VisitRequest.Status.NEW, VisitRequest.Status.TRIAGED):
            raise NotAllowed("This request is no longer open for booking.", code="request_not_bookable")
    elif red or (red is None and VisitRequest.objects.open().filter(patient=patient, severity=Severity.RED).exists()):
        raise EmergencyCareRequired()


def _convert_request(request, visit, *, actor, now):
    if request.status == VisitRequest.Status.NEW:
        request_move(request, VisitRequest.Status.TRIAGED, actor=actor, reason="GREEN: self-booked", triaged_at=now)
    request_move(request, VisitRequest.Status.CONVERTED_TO_VISIT, actor=actor, reason="Booked by the patient",
                 visit_type=visit.visit_type, data={"visit_id": str(visit.pk)})


@transaction.atomic
def booking_hold(*, patient, slot, visit_type, request=None, actor=None, now=None):
    """FREE -> HELD for a patient while they confirm (SCHEDULING_DIRECT_HOLD_MINUTES). Only
    self-bookable visit types, only GREEN (or no open RED request). Returns the slot; its
    hold_token must be given to booking_confirm. A slot taken meanwhile: SlotUnavailable."""
    now = now or timezone.now()
    _ensure_may_self_book(patient, visit_type, request)
    if request is not None:
        request = lock(VisitRequest, request.pk)
        _ensure_may_self_book(patient, visit_type, request)
    slot = lock(VisitSlot, slot, error=SlotUnavailable)
    if slot.status != VisitSlot.Status.FREE or slot.start <= now:
        raise SlotUnavailable(extra={"slot_id": str(slot.pk)})
    ensure_fits(slot, visit_type, patient)
    return slot_move(slot, VisitSlot.Status.HELD, actor=actor, reason="Held while the patient confirms", request=request, hold={
        "kind": VisitSlot.HoldKind.DIRECT, "patient": patient, "until": now + minutes("SCHEDULING_DIRECT_HOLD_MINUTES"),
        "token": uuid.uuid4(),
    })


@transaction.atomic
def booking_confirm(*, patient, slot, hold_token, visit_type, idempotency_key="", request=None, actor=None, now=None):
    """HELD (by this patient's token) -> BOOKED and a PLANNED visit. A repeated submit with
    the same idempotency key returns the same visit. An expired hold raises HoldExpired (409)
    even before the expiry job released it; a slot someone else holds: SlotUnavailable."""
    now = now or timezone.now()
    existing = visit_for_idempotency_key(patient=patient, key=idempotency_key, slot=slot, visit_type=visit_type)
    if existing is not None:
        return existing
    _ensure_may_self_book(patient, visit_type, request)
    if request is not None:
        request = lock(VisitRequest, request.pk)
    slot = lock(VisitSlot, slot, error=SlotUnavailable)
    mine = (slot.status == VisitSlot.Status.HELD and slot.hold_kind == VisitSlot.HoldKind.DIRECT
            and slot.held_for_patient_id == patient.pk and str(slot.hold_token) == str(hold_token))
    if not mine:
        # A concurrent identical submit may have won while we waited for the lock.
        existing = visit_for_idempotency_key(patient=patient, key=idempotency_key, slot=slot, visit_type=visit_type)
        if existing is not None:
            return existing
        if slot.status == VisitSlot.Status.FREE:
            raise HoldExpired(extra={"slot_id": str(slot.pk)})
        raise SlotUnavailable(extra={"slot_id": str(slot.pk)})
    if slot.held_until <= now:
        raise HoldExpired(extra={"slot_id": str(slot.pk)})
    if request is not None:
        _ensure_may_self_book(patient, visit_type, request)
    ensure_fits(slot, visit_type, patient)
    slot_move(slot, VisitSlot.Status.BOOKED, actor=actor, reason="Confirmed by the patient", request=request)
    visit = create_visit(patient=patient, slot=slot, visit_type=visit_type, request=request, actor=actor,
                         idempotency_key=idempotency_key, reason="Booked by the patient", announce=True)
    if request is not None:
        _convert_request(request, visit, actor=actor, now=now)
    return visit


def _answer(visit, replayed, with_replayed):
    return (visit, replayed) if with_replayed else visit


def _booking_flags(patient, visit_type):
    """The two flags the one-step booking reads with the slot's lock, as SQL: whether the
    patient has an open RED request (VisitRequest.OPEN_STATUSES), and whether the slot's
    provider offers `visit_type`. Written out from the models' names rather than as Exists()
    subqueries, whose compilation cost ~0.8 ms of CPU per booking (bench/README.md)."""
    quote = connection.ops.quote_name
    requests, through = VisitRequest._meta, Provider.visit_types.through._meta
    col = {name: quote(requests.get_field(name).column) for name in ("patient", "severity", "status")}
    open_statuses = [str(s) for s in VisitRequest.OPEN_STATUSES]
    red = RawSQL(
        f"EXISTS (SELECT 1 FROM {quote(requests.db_table)} WHERE {col['patient']} = %s AND {col['severity']} = %s "
        f"AND {col['status']} IN ({', '.join(['%s'] * len(open_statuses))}))",
        [patient._meta.pk.get_db_prep_value(patient.pk, connection), str(Severity.RED), *open_statuses],
        output_field=BooleanField(),
    )
    offered = RawSQL(
        f"EXISTS (SELECT 1 FROM {quote(through.db_table)} WHERE {quote(through.get_field('provider').column)} = "
        f"{quote(VisitSlot._meta.db_table)}.{quote(VisitSlot._meta.get_field('provider').column)} "
        f"AND {quote(through.get_field('visittype').column)} = %s)",
        [visit_type._meta.pk.get_db_prep_value(visit_type.pk, connection)],
        output_field=BooleanField(),
    )
    return {"_red": red, "_offered": offered}


def _lock_slot_for_booking(slot, *, patient, visit_type):
    """The slot, locked (FOR UPDATE of the slot row only), with what a one-step booking reads
    next loaded in the same query: its provider (and user) and location, whether the provider
    offers `visit_type` (`_offered`) and whether the patient has an open RED request (`_red`).
    SlotUnavailable when there is no such slot."""
    try:
        return (VisitSlot.objects.select_for_update(of=("self",)).select_related(*SLOT_RELATED)
                .annotate(**_booking_flags(patient, visit_type)).get(pk=getattr(slot, "pk", slot)))
    except (VisitSlot.DoesNotExist, ValueError, TypeError, ValidationError):
        raise SlotUnavailable()


def _book_free_slot(*, patient, slot, visit_type, request, actor, idempotency_key, now, reason, may_book):
    """Lock `slot` and book it for the patient (FREE -> BOOKED, a PLANNED visit, the booking
    notice and reminders). `may_book(red)` applies the caller's rules (red: the patient has an
    open RED request, read with the lock) before the slot's state is looked at, as before the
    lock was taken. Returns (visit, won): won False when a concurrent identical submit (same
    idempotency key) booked it while this one waited for the lock; SlotUnavailable when
    anyone else did."""
    try:
        slot = _lock_slot_for_booking(slot, patient=patient, visit_type=visit_type)
    except SlotUnavailable:
        may_book(None)  # an emergency is said before "no such slot", as always
        raise
    may_book(slot._red)
    if slot.status != VisitSlot.Status.FREE or slot.start <= now:
        # A concurrent identical submit may have won while we waited for the lock.
        existing = visit_for_idempotency_key(patient=patient, key=idempotency_key, slot=slot, visit_type=visit_type)
        if existing is not None:
            return existing, False
        raise SlotUnavailable(extra={"slot_id": str(slot.pk)})
    ensure_fits(slot, visit_type, patient, offered=slot._offered)
    slot_book_now(slot, patient=patient, actor=actor, reason=reason, request=request, now=now)
    visit = create_visit(patient=patient, slot=slot, visit_type=visit_type, request=request, actor=actor,
                         idempotency_key=idempotency_key, reason=reason, announce=True)
    return visit, True


def _patient_booking(*, patient, slot, visit_type, idempotency_key, request, actor, now):
    """booking_create's work, in the caller's transaction: (visit, replayed)."""
    existing = visit_for_idempotency_key(patient=patient, key=idempotency_key, slot=slot, visit_type=visit_type)
    if existing is not None:
        return existing, True
    if request is not None:
        _ensure_may_self_book(patient, visit_type, request)
        request = lock(VisitRequest, request.pk)

    def may_book(red):
        _ensure_may_self_book(patient, visit_type, request, red=red)

    visit, won = _book_free_slot(patient=patient, slot=slot, visit_type=visit_type, request=request, actor=actor,
                                 idempotency_key=idempotency_key, now=now, reason="Booked by the patient", may_book=may_book)
    if won and request is not None:
        _convert_request(request, visit, actor=actor, now=now)
    return visit, False


@transaction.atomic
def booking_create(*, patient, slot, visit_type, idempotency_key="", request=None, actor=None, now=None,
                   with_replayed=False):
    """One-step direct booking (hold and confirm in one transaction: FREE -> BOOKED).
    Same rules as booking_hold/booking_confirm; the idempotency key makes a repeated submit,
    even a concurrent one, return the same visit. `with_replayed`: return (visit, replayed),
    replayed True when the key's visit existed before this call started (a repeated
    request); a concurrent identical submit that won while this one waited for the slot's
    lock is returned with replayed False."""
    visit, replayed = _patient_booking(patient=patient, slot=slot, visit_type=visit_type, idempotency_key=idempotency_key,
                                       request=request, actor=actor, now=now or timezone.now())
    return _answer(visit, replayed, with_replayed)


def _ensure_clinic_may_book(patient, request, *, red=None):
    """Staff and integrators may book any visit type for any severity except RED (the patient
    must seek emergency care) and ORANGE awaiting its provider review. `red`: whether the
    patient has an open RED request, when the caller read it already."""
    if red is None:
        red = VisitRequest.objects.open().filter(patient=patient, severity=Severity.RED).exists()
    if red:
        raise EmergencyCareRequired()
    if request is not None:
        if request.patient_id != patient.pk:
            raise ValidationFailed({"request": ["This request belongs to another patient."]})
        ensure_schedulable(request)
        if request.status not in (VisitRequest.Status.NEW, VisitRequest.Status.TRIAGED):
            raise InvalidTransition("This request is not open for booking (it has an open offer or is closed).",
                                    extra={"from": request.status, "to": VisitRequest.Status.CONVERTED_TO_VISIT})


def _clinic_booking(*, patient, slot, visit_type, actor, idempotency_key, for_clinic, request, now):
    """visit_book_for_patient's work, in the caller's transaction: (visit, replayed)."""
    if not (for_clinic or is_staff_actor(actor)):
        raise NotAllowed("Only the clinic can book this way.", code="staff_required")
    existing = visit_for_idempotency_key(patient=patient, key=idempotency_key, slot=slot, visit_type=visit_type)
    if existing is not None:
        return existing, True
    if request is not None:
        _ensure_clinic_may_book(patient, request)
        request = lock(VisitRequest, request.pk)

    def may_book(red):
        _ensure_clinic_may_book(patient, request, red=red)

    visit, won = _book_free_slot(patient=patient, slot=slot, visit_type=visit_type, request=request, actor=actor,
                                 idempotency_key=idempotency_key, now=now, reason="Booked by the clinic", may_book=may_book)
    if won and request is not None:
        if request.status == VisitRequest.Status.NEW:
            request_move(request, VisitRequest.Status.TRIAGED, actor=actor, reason="Triaged at booking", triaged_by=actor,
                         triaged_at=now)
        request_move(request, VisitRequest.Status.CONVERTED_TO_VISIT, actor=actor, reason="Booked by the clinic",
                     visit_type=visit_type, data={"visit_id": str(visit.pk)})
    return visit, False


@transaction.atomic
def visit_book_for_patient(*, patient, slot, visit_type, actor=None, idempotency_key="", for_clinic=False, request=None,
                           now=None, with_replayed=False):
    """The clinic books a FREE future slot for a patient in one step (FREE -> BOOKED and a
    PLANNED visit): front-desk staff (the caller checks scheduling.add_visit) or an
    integrator's key (`for_clinic`, actor None). Unlike the patient's own booking, any active
    visit type the slot's provider offers in the slot's mode may be booked, self-bookable or
    not, for GREEN to YELLOW and reviewed ORANGE alike; an open RED request of the patient
    still refuses (EmergencyCareRequired), as does an ORANGE `request` before its review.
    The idempotency key makes a repeated submit, even a concurrent one, return the same
    visit (IdempotencyKeyReused for another slot or type). A given `request` of the patient
    (NEW or TRIAGED) is converted. Triggers: the patient's booking notice (in-app, SMS,
    email) and the reminders. `with_replayed`: return (visit, replayed), as booking_create."""
    visit, replayed = _clinic_booking(patient=patient, slot=slot, visit_type=visit_type, actor=actor,
                                      idempotency_key=idempotency_key, for_clinic=for_clinic, request=request,
                                      now=now or timezone.now())
    return _answer(visit, replayed, with_replayed)


def visit_book_once(*, owner, key, patient, slot, visit_type, request=None, actor=None, for_clinic=False, by_clinic=True,
                    render, now=None):
    """A booking through the API with an Idempotency-Key (payment-style: services/idempotency.py):
    the clinic's one-step booking (visit_book_for_patient's rules; `by_clinic` False: the
    patient's own, booking_create's rules), run at most once for (`owner`, `patient`, `key`).
    Returns an idempotency.Answer: status 201 and `render(visit)`, or the error the booking
    was refused with, or, for a repeated key, the answer saved for it (replayed). The same key
    with another slot, visit type or request raises IdempotencyKeyMismatch (422). The key is
    not written on the visit (Visit.idempotency_key is the portal's own key space)."""
    now = now or timezone.now()
    if by_clinic:
        def execute():
            return _clinic_booking(patient=patient, slot=slot, visit_type=visit_type, actor=actor, idempotency_key="",
                                   for_clinic=for_clinic, request=request, now=now)[0]
    else:
        def execute():
            return _patient_booking(patient=patient, slot=slot, visit_type=visit_type, idempotency_key="", request=request,
                                    actor=actor, now=now)[0]
    return idempotency.run_once(owner=owner, patient=patient, key=key, execute=execute, render=render,
                                params={"slot": slot, "visit_type": visit_type, "request": request})


@transaction.atomic
def booking_release(*, patient, slot, hold_token, actor=None):
    """The patient backs out: their DIRECT hold -> FREE. Returns False when they no longer
    hold it (expired, booked, or no such slot), so a double click is harmless."""
    slot = VisitSlot.objects.select_for_update().filter(pk=getattr(slot, "pk", slot)).first()
    if slot is None or not (slot.status == VisitSlot.Status.HELD and slot.held_for_patient_id == patient.pk and str(slot.hold_token) == str(hold_token)):
        return False
    slot_move(slot, VisitSlot.Status.FREE, actor=actor, reason="Released by the patient")
    return True


# --- lifecycle ------------------------------------------------------------------------------

def _lock_visit_for(visit, actor, *, for_clinic=False, as_patient=None):
    visit = lock(Visit, visit.pk)
    if not (for_clinic or is_staff_actor(actor)):
        patient = as_patient or (getattr(actor, "patient", None) if actor is not None else None)
        if patient is None or visit.patient_id != patient.pk:
            raise NotFound()
    return visit


@transaction.atomic
def visit_check_in(*, visit, actor, now=None):
    """PLANNED -> CHECKED_IN (front desk). Reminders not yet sent are cancelled: the patient
    is here."""
    visit = lock(Visit, visit.pk)
    visit = visit_move(visit, V.CHECKED_IN, actor=actor, reason="Checked in", checked_in_at=now or timezone.now())
    reminders_cancel(visit)
    return visit


@transaction.atomic
def visit_start(*, visit, actor, now=None):
    """CHECKED_IN -> IN_PROGRESS (the provider starts the visit)."""
    visit = lock(Visit, visit.pk)
    return visit_move(visit, V.IN_PROGRESS, actor=actor, reason="Visit started", started_at=now or timezone.now())


@transaction.atomic
def visit_complete(*, visit, actor, now=None):
    """IN_PROGRESS -> COMPLETED. Queues the post-visit follow-up message
    (SCHEDULING_FOLLOW_UP_HOURS later, quiet hours respected)."""
    now = now or timezone.now()
    visit = lock(Visit, visit.pk)
    visit = visit_move(visit, V.COMPLETED, actor=actor, reason="Visit completed", completed_at=now)
    follow_up_enqueue(visit, now=now)
    return visit


@transaction.atomic
def visit_mark_no_show(*, visit, actor, now=None):
    """PLANNED -> NO_SHOW, once the visit's start has passed. The slot stays BOOKED (the
    time was lost); no-shows are counted (selectors.attendance_counts)."""
    now = now or timezone.now()
    visit = lock(Visit, visit.pk)
    if visit.start > now:
        raise Conflict("A visit can be marked as a no-show only after it should have started.", code="too_early_for_no_show")
    visit = visit_move(visit, V.NO_SHOW, actor=actor, reason="No-show")
    reminders_cancel(visit)
    return visit


def _inside_window(visit, now):
    return visit.start - now < hours("SCHEDULING_CANCELLATION_WINDOW_HOURS")


@transaction.atomic
def visit_cancel(*, visit, actor, reason="", now=None, for_clinic=False, as_patient=None, by_sms=False):
    """PLANNED -> CANCELLED. Inside the cancellation window (SCHEDULING_CANCELLATION_WINDOW_HOURS)
    a patient is refused (CancellationWindowClosed) and staff may cancel, recorded as late.
    The slot goes BOOKED -> FREE and is offered to the waitlist; reminders not yet sent are
    cancelled. The patient is notified (in-app, SMS and email); staff are told when the
    patient cancelled. `for_clinic`: an integrator's API key (actor None) acting for the
    clinic, with staff rules. `as_patient`: the patient acting without a portal user (a texted
    X, see apps/scheduling/sms_actions.py), with patient rules; `by_sms`: their text gets its
    own answer, so the notice goes by email only."""
    now = now or timezone.now()
    visit = _lock_visit_for(visit, actor, for_clinic=for_clinic, as_patient=as_patient)
    by_staff = for_clinic or is_staff_actor(actor)
    late = _inside_window(visit, now)
    if late and not by_staff and visit.status == V.PLANNED:
        raise CancellationWindowClosed(extra={"visit_id": str(visit.pk), "window_hours": settings.SCHEDULING_CANCELLATION_WINDOW_HOURS})
    visit_move(visit, V.CANCELLED, actor=actor, reason=reason or "Cancelled", data={"late": late, "by_staff": by_staff},
               cancelled_at=now, cancelled_by=actor, cancel_reason=reason, late_cancel=late)
    if visit.slot_id:
        slot = lock(VisitSlot, visit.slot_id)
        slot_move(slot, VisitSlot.Status.FREE, actor=actor, reason="Visit cancelled")
        waitlist_offer_slot(slot=slot, now=now)
    reminders_cancel(visit)
    notify_visit_cancelled(visit, late=late, by_sms=by_sms)
    if not by_staff:
        notify_desk(kind="visit_cancelled", title="A patient cancelled a visit", link=visit_link(visit, staff=True),
                    data={"visit_id": str(visit.pk), "late": late})
    return visit


@transaction.atomic
def visit_reschedule(*, visit, new_slot, actor, reason="", now=None, for_clinic=False):
    """Move a PLANNED visit to another FREE slot, atomically: the old slot is freed and the
    new one booked, or nothing changes. Same cancellation-window rule as visit_cancel for
    patients. The freed slot goes to the waitlist; the patient is notified (in-app, SMS and
    email); the old reminders are cancelled and new ones queued; an SMS confirmation of the
    old time no longer counts."""
    now = now or timezone.now()
    visit = _lock_visit_for(visit, actor, for_clinic=for_clinic)
    if visit.status != V.PLANNED or visit.slot_id is None:
        raise InvalidTransition("Only a planned, scheduled visit can be moved.", extra={"from": visit.status})
    if not (for_clinic or is_staff_actor(actor)) and _inside_window(visit, now):
        raise CancellationWindowClosed(extra={"visit_id": str(visit.pk)})
    new_id = getattr(new_slot, "pk", new_slot)
    if new_id == visit.slot_id:
        return visit
    # Both slots locked in pk order so two reschedules crossing each other cannot deadlock.
    locked = {s.pk: s for s in VisitSlot.objects.select_for_update().filter(pk__in=[visit.slot_id, new_id]).select_related("provider", "location").order_by("pk")}
    new, old = locked.get(new_id), locked[visit.slot_id]
    if new is None or new.status != VisitSlot.Status.FREE or new.start <= now:
        raise SlotUnavailable(extra={"slot_id": str(new_id)})
    ensure_fits(new, visit.visit_type, visit.patient)
    old_start = visit.start
    slot_move(old, VisitSlot.Status.FREE, actor=actor, reason="Visit rescheduled away")
    slot_book_now(new, patient=visit.patient, actor=actor, reason="Visit rescheduled here", now=now)
    visit.slot, visit.provider, visit.location, visit.mode = new, new.provider, new.location, new.mode
    visit.start = new.start
    visit.end = new.start + datetime.timedelta(minutes=visit.visit_type.duration_minutes)
    visit.confirmed_at = None
    visit.save(update_fields=["slot", "provider", "location", "mode", "start", "end", "confirmed_at", "updated_at"])
    # Not a status change (PLANNED -> PLANNED): an event row, and the audit entry saying what it was.
    record_event(visit, actor=actor, reason=reason or "Rescheduled", audit=False,
                 data={"from_slot": str(old.pk), "to_slot": str(new.pk), "from_start": old_start.isoformat()})
    record("update", visit, detail={"rescheduled": True})
    events.publish_board("visit.changed", events.visit_payload(visit), location_id=visit.location_id)
    waitlist_offer_slot(slot=old, now=now)
    reminders_sync(visit)
    notify_visit_rescheduled(visit)
    return visit


@transaction.atomic
def visit_confirm(*, visit, actor=None, as_patient=None, source="sms", now=None):
    """The patient confirms a PLANNED visit that is still ahead (a texted C/YES): records
    confirmed_at (the first confirmation counts; repeating it changes nothing) with an event
    row (PLANNED -> PLANNED) and an audit entry. Not a status change: a confirmed visit is
    still PLANNED for every other rule. A visit no longer planned: InvalidTransition."""
    now = now or timezone.now()
    visit = _lock_visit_for(visit, actor, as_patient=as_patient)
    if visit.status != V.PLANNED or visit.start <= now:
        raise InvalidTransition("Only a planned visit still ahead can be confirmed.", extra={"from": visit.status})
    if visit.confirmed_at is not None:
        return visit
    visit.confirmed_at = now
    visit.save(update_fields=["confirmed_at", "updated_at"])
    record_event(visit, actor=actor, reason="Confirmed by the patient", data={"confirmed": True, "source": source},
                 audit=False)
    record("update", visit, detail={"confirmed": True})
    events.publish_board("visit.changed", events.visit_payload(visit), location_id=visit.location_id)
    return visit
