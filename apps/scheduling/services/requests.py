"""Visit requests: creation with triage, staff triage and overrides, provider review, offers
and their expiry, the waitlist, walk-ins."""
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.services import record
from apps.core.exceptions import DomainError, InvalidTransition, ValidationFailed
from apps.core.transitions import can_transition, lock, record_event, transition_rows
from apps.scheduling import events
from apps.scheduling.exceptions import EmergencyCareRequired, NotAllowed, OfferExpired, OfferNotOpen, SlotUnavailable
from apps.scheduling.models import Mode, RequestEvent, Severity, Visit, VisitRequest, VisitSlot
from apps.scheduling.selectors import (
    STAFF_ALERT_ROLES, active_triage_rules, expedited_window, provider_for_user, waitlist_candidates,
)
from apps.scheduling.services._common import (
    ensure_fits, ensure_schedulable, hours, local_text, notify_desk, notify_patient, request_link, request_move,
    slot_move, visit_move,
)
from apps.scheduling.services._notices import notify_visit_assigned
from apps.scheduling.services._visit_create import create_visit
from apps.scheduling.triage import EMERGENCY_INSTRUCTIONS, age_in_months, evaluate

S = VisitRequest.Status
MAX_OFFERED_SLOTS = 5


@dataclass(frozen=True)
class RequestOutcome:
    """What creating a request means for the patient: RED carries the emergency
    instructions to show at once, and nothing can be scheduled."""

    request: VisitRequest
    severity: str
    emergency: bool
    instructions: str
    can_self_book: bool


def _outcome(request):
    emergency = request.severity == Severity.RED
    return RequestOutcome(
        request=request,
        severity=request.severity,
        emergency=emergency,
        instructions=EMERGENCY_INSTRUCTIONS if emergency else "",
        can_self_book=request.severity == Severity.GREEN,
    )


def _clean_input(*, request_type, symptoms, answers, preferred_dates, preferred_mode, location):
    errors = {}
    if request_type not in VisitRequest.Type.values:
        errors["request_type"] = ["Choose WALK_IN or SCHEDULED."]
    if not isinstance(symptoms, (list, tuple)) or not all(isinstance(s, str) for s in symptoms):
        errors["symptoms"] = ["Give a list of symptoms as text."]
    if answers is not None and not isinstance(answers, dict):
        errors["answers"] = ["Give the answers as an object."]
    dates = []
    for value in preferred_dates or []:
        try:
            dates.append((value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))).isoformat())
        except ValueError:
            errors.setdefault("preferred_dates", []).append(f"{value!s:.20} is not a date (YYYY-MM-DD).")
    if preferred_mode and preferred_mode not in Mode.values:
        errors["preferred_mode"] = ["Choose IN_PERSON or VIRTUAL."]
    if request_type == VisitRequest.Type.WALK_IN and location is None:
        errors["location"] = ["A walk-in needs the location the patient is at."]
    if errors:
        raise ValidationFailed(errors)
    return sorted(set(dates))


def _alert_emergency(request, *, actor=None):
    """RED: the patient sees the emergency instructions; every front-desk, nurse and provider
    user is alerted at once (urgent)."""
    notify_patient(request.patient, kind="triage_emergency", title="Seek emergency care now",
                   body=EMERGENCY_INSTRUCTIONS, link=request_link(request, staff=False), urgent=True,
                   data={"request_id": str(request.pk)})
    notify_desk(kind="triage_red_alert", title="RED triage: patient told to seek emergency care",
                body="A visit request was triaged RED. Contact the patient now.",
                link=request_link(request, staff=True), urgent=True, roles=STAFF_ALERT_ROLES,
                data={"request_id": str(request.pk), "severity": Severity.RED})
    events.publish_board("request.emergency", events.request_payload(request), location_id=request.location_id)


@transaction.atomic
def visit_request_create(*, patient, request_type=VisitRequest.Type.SCHEDULED, reason="", symptoms=(), answers=None,
                         preferred_dates=(), preferred_mode="", visit_type=None, preferred_provider=None,
                         location=None, actor=None):
    """A new request (NEW), triaged by the active rules at once. RED: the patient is told to
    seek emergency care and staff are alerted (urgent); ORANGE: providers are asked to review.
    Returns a RequestOutcome."""
    dates = _clean_input(request_type=request_type, symptoms=symptoms, answers=answers, preferred_dates=preferred_dates,
                         preferred_mode=preferred_mode, location=location)
    symptoms = [s.strip() for s in symptoms if s and s.strip()]
    result = evaluate(rules=active_triage_rules(), symptoms=symptoms, reason=reason, answers=answers or {},
                      age_months=age_in_months(patient.date_of_birth, timezone.localdate()))
    request = VisitRequest.objects.create(
        patient=patient, request_type=request_type, reason=reason, symptoms=symptoms, answers=answers or {},
        preferred_dates=dates, preferred_mode=preferred_mode or "", visit_type=visit_type,
        preferred_provider=preferred_provider, location=location, severity=result.severity,
        computed_severity=result.severity, matched_rules=result.matched, created_by=actor,
    )
    # Its first event row ("" -> NEW); the audit entry is the creation's own, not an update.
    record_event(request, actor=actor, reason="Created", from_status="", audit=False,
                 data={"severity": result.severity, "matched_rules": [m["name"] for m in result.matched]})
    record("create", request)
    events.publish_board("request.created", events.request_payload(request), location_id=request.location_id)
    if result.is_emergency:
        _alert_emergency(request, actor=actor)
    elif result.severity == Severity.ORANGE:
        notify_desk(kind="review_needed", title="ORANGE request needs a provider review",
                    link=request_link(request, staff=True), roles=("provider",), data={"request_id": str(request.pk)})
    return _outcome(request)


def visit_request_create_walk_in(*, patient, location, reason="", symptoms=(), answers=None, visit_type=None, actor=None):
    """A walk-in at `location` (front desk or kiosk); joins the live queue."""
    return visit_request_create(patient=patient, request_type=VisitRequest.Type.WALK_IN, reason=reason, symptoms=symptoms,
                                answers=answers, visit_type=visit_type, location=location, preferred_mode=Mode.IN_PERSON,
                                actor=actor)


def _set_severity(request, *, severity, actor, reason):
    """Staff override of the computed severity; the reason is required and kept."""
    if severity not in Severity.values:
        raise ValidationFailed({"severity": ["Choose GREEN, YELLOW, ORANGE or RED."]})
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Give the reason for changing the severity."]})
    before = request.severity
    if severity == before:
        return False
    request.severity = severity
    request.severity_overridden_by = actor
    request.severity_overridden_at = timezone.now()
    request.severity_override_reason = reason.strip()
    fields = ["severity", "severity_overridden_by", "severity_overridden_at", "severity_override_reason", "updated_at"]
    if severity == Severity.ORANGE:  # a fresh ORANGE needs its own review
        request.reviewed_by, request.reviewed_at, request.review_note = None, None, ""
        fields += ["reviewed_by", "reviewed_at", "review_note"]
    request.save(update_fields=fields)
    # Not a status change: an event row of its own kind, and the audit entry saying what changed.
    record_event(request, actor=actor, reason=reason.strip(), data={"from": before, "to": severity}, audit=False,
                 event_fields={"kind": RequestEvent.Kind.SEVERITY})
    record("update", request, detail={"severity": severity})
    if severity == Severity.RED:
        _alert_emergency(request, actor=actor)
    return True


@transaction.atomic
def visit_request_triage(*, request, actor, severity=None, reason="", visit_type=None):
    """NEW -> TRIAGED by staff, optionally overriding the severity (reason required) and
    setting the visit type."""
    request = lock(VisitRequest, request.pk)
    if not can_transition(VisitRequest, request.status, S.TRIAGED):
        raise InvalidTransition("This request has already been triaged.", extra={"from": request.status, "to": S.TRIAGED})
    if severity and severity != request.severity:
        _set_severity(request, severity=severity, actor=actor, reason=reason)
    fields = {"triaged_by": actor, "triaged_at": timezone.now()}
    if visit_type is not None:
        fields["visit_type"] = visit_type
    return request_move(request, S.TRIAGED, actor=actor, reason=reason or "Triaged", **fields)


@transaction.atomic
def visit_request_override_severity(*, request, actor, severity, reason):
    """Change an open request's severity, with a reason that is kept (event + fields). An
    outstanding offer is withdrawn when the request can no longer be scheduled (RED, or
    ORANGE awaiting review)."""
    request = lock(VisitRequest, request.pk)
    if not request.is_open:
        raise InvalidTransition("A closed request's severity cannot change.", extra={"from": request.status})
    changed = _set_severity(request, severity=severity, actor=actor, reason=reason)
    if changed and request.status == S.AWAITING_PATIENT_CONFIRMATION and (severity == Severity.RED or request.needs_review):
        _withdraw_offer(request, actor=actor, reason=f"Offer withdrawn: severity changed to {severity}")
    events.publish_board("request.changed", events.request_payload(request), location_id=request.location_id)
    return request


@transaction.atomic
def visit_request_review(*, request, actor, note="", severity=None):
    """A provider's review (required for ORANGE before any offer). Only an active provider
    may review. With `severity`, the reviewer also changes it (the note is the reason)."""
    if provider_for_user(actor) is None:
        raise NotAllowed("Only a provider can review a visit request.", code="provider_required")
    request = lock(VisitRequest, request.pk)
    if not request.is_open:
        raise InvalidTransition("This request is closed.", extra={"from": request.status})
    if severity and severity != request.severity:
        _set_severity(request, severity=severity, actor=actor, reason=note or "Changed at provider review")
    request.reviewed_by, request.reviewed_at, request.review_note = actor, timezone.now(), note
    request.save(update_fields=["reviewed_by", "reviewed_at", "review_note", "updated_at"])
    record_event(request, actor=actor, reason=note, data={"severity": request.severity}, audit=False,
                 event_fields={"kind": RequestEvent.Kind.REVIEW})
    record("update", request, detail={"reviewed": True})
    events.publish_board("request.changed", events.request_payload(request), location_id=request.location_id)
    return request


@transaction.atomic
def visit_request_cancel(*, request, actor, reason="", for_clinic=False):
    """NEW or TRIAGED -> CANCELLED (the patient or staff; `for_clinic`: an integrator's API
    key, actor None). A request with an open offer must decline it first."""
    request = lock(VisitRequest, request.pk)
    request = request_move(request, S.CANCELLED, actor=actor, reason=reason or "Cancelled", cancel_reason=reason)
    if not for_clinic and (actor is None or not actor.is_staff):
        notify_desk(kind="request_cancelled", title="A patient cancelled a visit request", link=request_link(request, staff=True),
                    data={"request_id": str(request.pk)})
    return request


# --- offers ---------------------------------------------------------------------------------

def _hold_slot_for_offer(slot, request, *, deadline, kind, actor, now):
    if slot.status != VisitSlot.Status.FREE or slot.start <= now:
        raise SlotUnavailable(extra={"slot_id": str(slot.pk)})
    until = min(deadline, slot.start)  # never held past its own start
    slot_move(slot, VisitSlot.Status.HELD, actor=actor, request=request, reason=f"Offered ({kind.lower()})",
              hold={"kind": kind, "request": request, "until": until})
    return until


@transaction.atomic
def visit_request_offer_slots(*, request, slots, actor, hold_hours=None, visit_type=None, now=None):
    """Staff offer 1 to 5 FREE slots for a TRIAGED request: each is HELD for it until the
    deadline (SCHEDULING_OFFER_HOLD_HOURS, never past the slot's start); the request goes to
    AWAITING_PATIENT_CONFIRMATION and the patient is notified. All or nothing: one slot taken
    meanwhile raises SlotUnavailable (409) and nothing is held. RED raises
    EmergencyCareRequired; ORANGE before review raises ReviewRequired; YELLOW only takes
    slots within the expedited window."""
    now = now or timezone.now()
    slot_ids = list(dict.fromkeys(getattr(s, "pk", s) for s in slots))
    if not 1 <= len(slot_ids) <= MAX_OFFERED_SLOTS:
        raise ValidationFailed({"slots": [f"Offer between 1 and {MAX_OFFERED_SLOTS} slots."]})
    request = lock(VisitRequest, request.pk)
    ensure_schedulable(request)
    if request.status != S.TRIAGED:
        raise InvalidTransition("Slots can only be offered for a triaged request without an open offer.",
                                extra={"from": request.status, "to": S.AWAITING_PATIENT_CONFIRMATION})
    visit_type = visit_type or request.visit_type
    if visit_type is None:
        raise ValidationFailed({"visit_type": ["Choose the visit type before offering slots."]})
    deadline = now + (datetime.timedelta(hours=hold_hours) if hold_hours else hours("SCHEDULING_OFFER_HOLD_HOURS"))
    # Lock in a fixed order so two staff offering overlapping sets cannot deadlock; a slot
    # another offer holds (or just took) answers SlotUnavailable.
    locked = list(VisitSlot.objects.select_for_update().filter(pk__in=slot_ids).select_related("provider", "location").order_by("pk"))
    if len(locked) != len(slot_ids):
        raise SlotUnavailable("One of those slots does not exist.")
    for slot in locked:
        if slot.status != VisitSlot.Status.FREE or slot.start <= now:
            raise SlotUnavailable(extra={"slot_id": str(slot.pk)})
        ensure_fits(slot, visit_type, request.patient)
        if request.severity == Severity.YELLOW and slot.start > now + expedited_window():
            raise ValidationFailed({"slots": ["A YELLOW request is offered slots within the expedited window (48 hours)."]})
    untils = [_hold_slot_for_offer(s, request, deadline=deadline, kind=VisitSlot.HoldKind.OFFER, actor=actor, now=now) for s in locked]
    request = request_move(request, S.AWAITING_PATIENT_CONFIRMATION, actor=actor, reason=f"{len(locked)} slot(s) offered",
                           data={"slots": [str(s.pk) for s in locked]}, visit_type=visit_type,
                           offer_made_at=now, offer_expires_at=max(untils), offer_reminded_at=None)
    _notify_offer(request, locked, deadline=max(untils))
    return request


def _deadline_text(deadline, location=None):
    if location is not None:
        return local_text(deadline, location)
    local = timezone.localtime(deadline)
    return local.strftime("%a %d %b %Y, %H:%M ") + (local.tzname() or "")


def _notify_offer(request, slots, *, deadline):
    """In-app, SMS and email, once per offer (keyed by when it was made). The SMS names the
    deadline only: the offered times are in the portal."""
    times = "; ".join(local_text(s.start, s.location) for s in sorted(slots, key=lambda s: s.start))
    deadline_text = _deadline_text(deadline, slots[0].location)
    notify_patient(request.patient, kind="offer_made", title="Appointment times are waiting for you",
                   body=f"Please choose one of: {times}. These times are held for you until {deadline_text}.",
                   link=request_link(request, staff=False), data={"request_id": str(request.pk)},
                   outbox_key=f"offer_made:{request.pk}:{int(request.offer_made_at.timestamp())}",
                   context={"deadline": deadline_text, "offer_count": len(slots)}, not_after=deadline)


def _release_held(request, *, actor, reason):
    """Release every slot still held for `request` (caller holds the request lock). Returns
    the released slots."""
    released = []
    for slot in VisitSlot.objects.select_for_update().filter(held_for_request=request, status=VisitSlot.Status.HELD).order_by("pk"):
        kind = slot.hold_kind
        slot_move(slot, VisitSlot.Status.FREE, actor=actor, reason=reason, request=request)
        slot._released_kind = kind
        released.append(slot)
    return released


def _withdraw_offer(request, *, actor, reason):
    released = _release_held(request, actor=actor, reason=reason)
    request_move(request, S.TRIAGED, actor=actor, reason=reason, offer_expires_at=None, offer_made_at=None, offer_reminded_at=None)
    return released


@transaction.atomic
def visit_request_accept_offer(*, request, slot, actor=None, now=None):
    """The patient accepts one offered slot: it is BOOKED, the other offered slots are
    released, a PLANNED visit is created and the request is CONVERTED_TO_VISIT. An offer that
    expired (even before the expiry job ran), was declined or released raises OfferExpired /
    OfferNotOpen (409)."""
    now = now or timezone.now()
    request = lock(VisitRequest, request.pk)
    if request.status != S.AWAITING_PATIENT_CONFIRMATION:
        raise OfferNotOpen(extra={"request_id": str(request.pk), "status": request.status})
    if request.offer_expires_at <= now:
        raise OfferExpired(extra={"request_id": str(request.pk), "expired_at": request.offer_expires_at.isoformat()})
    held = {s.pk: s for s in VisitSlot.objects.select_for_update().filter(held_for_request=request, status=VisitSlot.Status.HELD).order_by("pk")}
    chosen = held.get(getattr(slot, "pk", slot))
    if chosen is None:
        raise OfferNotOpen("That time is not (or no longer) offered to you.", extra={"slot_id": str(getattr(slot, "pk", slot))})
    if chosen.held_until <= now:
        raise OfferExpired("The hold on that time has expired.", extra={"slot_id": str(chosen.pk)})
    slot_move(chosen, VisitSlot.Status.BOOKED, actor=actor, reason="Offer accepted", request=request)
    for other in held.values():
        if other.pk != chosen.pk:
            slot_move(other, VisitSlot.Status.FREE, actor=actor, reason="Another offered time was accepted", request=request)
    visit = create_visit(patient=request.patient, slot=chosen, visit_type=request.visit_type, request=request, actor=actor,
                         reason="Offer accepted", announce=True)
    request_move(request, S.CONVERTED_TO_VISIT, actor=actor, reason="Offer accepted", data={"visit_id": str(visit.pk)})
    return visit


@transaction.atomic
def visit_request_decline_offer(*, request, actor=None, reason=""):
    """The patient declines all offered times: every held slot is released, the request
    returns to TRIAGED, staff are notified. A waitlist slot goes to the next request."""
    request = lock(VisitRequest, request.pk)
    if request.status != S.AWAITING_PATIENT_CONFIRMATION:
        raise OfferNotOpen(extra={"request_id": str(request.pk), "status": request.status})
    released = _withdraw_offer(request, actor=actor, reason=reason or "Offer declined by the patient")
    notify_desk(kind="offer_declined", title="A patient declined the offered times",
                body="The request is back in the triage queue.", link=request_link(request, staff=True),
                data={"request_id": str(request.pk)})
    _waitlist_after_release(released, now=timezone.now())
    return request


# --- expiry job -----------------------------------------------------------------------------

def offers_expire(*, now=None):
    """The every-minute job. (1) Requests whose offer deadline passed are claimed one by one
    with a conditional UPDATE (status AWAITING and deadline passed): only the worker whose
    UPDATE matched processes it, so two workers never both do; an accept holding the row lock
    makes the UPDATE wait and then match nothing. Their held slots are released, the request
    returns to TRIAGED, patient and staff are notified. (2) Remaining holds past their own
    deadline (direct-booking holds, offer slots held only until their start) are released the
    same way, one conditional UPDATE per slot. Waitlist slots go to the next request.
    Returns {"offers_expired": n, "slots_released": m}."""
    now = now or timezone.now()
    expired = released_count = 0
    for request_id, expired_at in list(VisitRequest.objects.offers_expired(now).values_list("pk", "offer_expires_at")):
        with transaction.atomic():
            claimed = transition_rows(
                VisitRequest.objects.filter(pk=request_id, offer_expires_at__lte=now),
                from_status=S.AWAITING_PATIENT_CONFIRMATION, to=S.TRIAGED,
                offer_expires_at=None, offer_made_at=None, offer_reminded_at=None, updated_at=now,
            )
            if not claimed:
                continue
            request = VisitRequest.objects.select_related("patient").get(pk=request_id)
            # The claim was a batch UPDATE (no event, no listener): its event row and audit entry here.
            record_event(request, reason="Offer expired", from_status=S.AWAITING_PATIENT_CONFIRMATION, to_status=S.TRIAGED,
                         audit=False)
            record("update", request, detail={"status": S.TRIAGED, "offer": "expired"})
            events.publish_board("request.changed", events.request_payload(request), location_id=request.location_id)
            released = _release_held(request, actor=None, reason="Offer expired")
            released_count += len(released)
            expired += 1
            notify_patient(request.patient, kind="offer_expired", title="The offered times have expired",
                           body="The times we held for you were released. The clinic will contact you with new times.",
                           link=request_link(request, staff=False), data={"request_id": str(request.pk)},
                           outbox_key=f"offer_expired:{request.pk}:{int(expired_at.timestamp())}")
            notify_desk(kind="offer_expired", title="An offer expired without an answer",
                        link=request_link(request, staff=True), data={"request_id": str(request.pk)})
            _waitlist_after_release(released, now=now)
    for slot_id in list(VisitSlot.objects.expired_holds(now).values_list("pk", flat=True)):
        with transaction.atomic():
            slot = VisitSlot.objects.filter(pk=slot_id).first()
            if slot is None or slot.status != VisitSlot.Status.HELD:
                continue
            kind, request_id = slot.hold_kind, slot.held_for_request_id
            claimed = transition_rows(
                VisitSlot.objects.filter(pk=slot_id, held_until__lte=now, hold_kind=kind),
                from_status=VisitSlot.Status.HELD, to=VisitSlot.Status.FREE,
                hold_kind="", held_for_request=None, held_for_patient=None, held_until=None, hold_token=None, updated_at=now,
            )
            if not claimed:
                continue
            slot.status = VisitSlot.Status.FREE
            record_event(slot, reason="Hold expired", from_status=VisitSlot.Status.HELD, to_status=VisitSlot.Status.FREE,
                         event_fields={"request_id": request_id})
            released_count += 1
            events.publish_board("slot.changed", events.slot_payload(slot))
            if kind == VisitSlot.HoldKind.WAITLIST:
                _waitlist_after_release([VisitSlot.objects.select_related("location", "provider").get(pk=slot_id)], now=now)
    return {"offers_expired": expired, "slots_released": released_count}


def offers_remind_expiring(*, now=None):
    """Once per offer, before its deadline (SCHEDULING_OFFER_REMINDER_MINUTES), remind the
    patient. Claimed with a conditional UPDATE on offer_reminded_at, so it is sent once even
    with two workers. Offers shorter than the reminder lead get none (the patient was told
    the deadline when the offer was made). Returns how many were sent."""
    now = now or timezone.now()
    lead = datetime.timedelta(minutes=settings.SCHEDULING_OFFER_REMINDER_MINUTES)
    sent = 0
    for request in list(VisitRequest.objects.offers_expiring(now, lead).select_related("patient")):
        if request.offer_made_at and request.offer_expires_at - request.offer_made_at <= lead:
            continue
        with transaction.atomic():
            claimed = VisitRequest.objects.filter(
                pk=request.pk, status=S.AWAITING_PATIENT_CONFIRMATION, offer_reminded_at__isnull=True,
                offer_expires_at=request.offer_expires_at,
            ).update(offer_reminded_at=now)
            if not claimed:
                continue
            first = VisitSlot.objects.held().filter(held_for_request=request).select_related("location").order_by("start").first()
            when = _deadline_text(request.offer_expires_at, first.location if first else None)
            notify_patient(request.patient, kind="offer_expiring_soon", title="Please choose your appointment time",
                           body=f"The times we are holding for you are released at {when}.",
                           link=request_link(request, staff=False), data={"request_id": str(request.pk)},
                           outbox_key=f"offer_expiring_soon:{request.pk}:{int(request.offer_expires_at.timestamp())}",
                           context={"deadline": when}, not_after=request.offer_expires_at)
            sent += 1
    return sent


# --- waitlist -------------------------------------------------------------------------------

def _waitlist_after_release(slots, *, now):
    for slot in slots:
        if getattr(slot, "_released_kind", VisitSlot.HoldKind.WAITLIST) == VisitSlot.HoldKind.WAITLIST:
            waitlist_offer_slot(slot=slot, now=now)


@transaction.atomic
def waitlist_offer_slot(*, slot, now=None, actor=None):
    """Offer a freed future slot to the best waiting request that fits it (severity, then
    age; never RED, ORANGE only when reviewed; never one that already had this slot). The
    slot is HELD for it (SCHEDULING_WAITLIST_HOLD_HOURS, never past the start) and the
    request awaits confirmation; when that expires or is declined, the next request gets
    it. Requests another transaction is working on are skipped. Returns the request or None."""
    now = now or timezone.now()
    slot = VisitSlot.objects.select_for_update().select_related("provider", "location").get(pk=slot.pk)
    if slot.status != VisitSlot.Status.FREE or slot.start <= now:
        return None
    for candidate in waitlist_candidates(slot, now=now):
        request = VisitRequest.objects.select_for_update(skip_locked=True).filter(pk=candidate.pk, status=S.TRIAGED).first()
        if request is None:
            continue
        try:
            ensure_schedulable(request)
            ensure_fits(slot, request.visit_type, request.patient)
        except DomainError:  # an unfit candidate (changed meanwhile) is simply skipped
            continue
        until = _hold_slot_for_offer(slot, request, deadline=now + hours("SCHEDULING_WAITLIST_HOLD_HOURS"),
                                     kind=VisitSlot.HoldKind.WAITLIST, actor=actor, now=now)
        request_move(request, S.AWAITING_PATIENT_CONFIRMATION, actor=actor, reason="Waitlist: a slot became free",
                     data={"slots": [str(slot.pk)], "waitlist": True}, offer_made_at=now, offer_expires_at=until,
                     offer_reminded_at=None)
        _notify_offer(request, [slot], deadline=until)
        return request
    return None


# --- walk-ins -------------------------------------------------------------------------------

@transaction.atomic
def visit_request_assign_immediate(*, request, provider, actor, visit_type=None, now=None):
    """Walk-in: a visit now with `provider`, and the patient is notified. No slot: a walk-in
    is seen in the gaps of the day, so the visit carries its own start/end (now + duration)
    and the provider's generated slots stay untouched. The patient is in the building, so the
    visit starts CHECKED_IN. NEW requests are triaged on the way. RED raises
    EmergencyCareRequired. (ORANGE walk-ins may be assigned: being seen by the provider now is
    the review.)"""
    now = now or timezone.now()
    request = lock(VisitRequest, request.pk)
    if request.request_type != VisitRequest.Type.WALK_IN:
        raise ValidationFailed({"request": ["Only walk-ins are assigned immediately; offer slots for scheduled requests."]})
    if request.severity == Severity.RED:
        raise EmergencyCareRequired(extra={"request_id": str(request.pk)})
    if request.status not in (S.NEW, S.TRIAGED):
        raise InvalidTransition("This walk-in is no longer waiting.", extra={"from": request.status, "to": S.CONVERTED_TO_VISIT})
    visit_type = visit_type or request.visit_type
    if visit_type is None:
        raise ValidationFailed({"visit_type": ["Choose the visit type."]})
    if not provider.is_active or not provider.visit_types.filter(pk=visit_type.pk).exists():
        raise ValidationFailed({"provider": ["This provider does not offer this visit type."]})
    if request.status == S.NEW:
        request_move(request, S.TRIAGED, actor=actor, reason="Triaged at assignment", triaged_by=actor, triaged_at=now)
    visit = create_visit(
        patient=request.patient, slot=None, visit_type=visit_type, request=request, actor=actor, provider=provider,
        location=request.location, start=now, end=now + datetime.timedelta(minutes=visit_type.duration_minutes),
        is_walk_in=True, reason="Walk-in assigned",
    )
    visit_move(visit, Visit.Status.CHECKED_IN, actor=actor, reason="Walk-in: in the building", checked_in_at=now)
    request_move(request, S.CONVERTED_TO_VISIT, actor=actor, reason="Assigned immediately", visit_type=visit_type,
                 data={"visit_id": str(visit.pk)})
    notify_visit_assigned(visit, provider=provider)
    return visit
