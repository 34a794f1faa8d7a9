"""After a video visit fails (TECHNICAL_ISSUES), or when its provider cannot take it (not
licensed in the state the patient is in): staff move the patient to another virtual slot,
through scheduling's own services, never by writing a visit.

- Rebook (the session is TECHNICAL_ISSUES): a new VIRTUAL visit is booked for the patient in
  the chosen slot (scheduling's visit_book_for_patient: its booking notice and reminders) and
  gets its own session through the wiring; the failed session points to it (rebooked_to). The
  old visit is cancelled when it never started (PLANNED, scheduling's visit_cancel); one already
  checked in or in progress stays with scheduling's staff to close (its table allows nothing
  else).
- Reassign (the session is still open): the visit moves to the chosen slot, another provider's
  (scheduling's visit_reschedule); the session follows it (wiring.session_follow_visit) and a
  waiting patient stays in the waiting room."""
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import Conflict, ValidationFailed
from apps.core.transitions import lock, record_event
from apps.scheduling.models import Mode, Visit, VisitSlot
from apps.scheduling.services import visit_book_for_patient, visit_cancel, visit_reschedule
from apps.telehealth import events
from apps.telehealth.models import TelehealthSession

S = TelehealthSession.Status
V = Visit.Status


def _virtual_slot(slot_id, now):
    slot = VisitSlot.objects.select_related("provider").filter(pk=slot_id).first()
    if slot is None or slot.mode != Mode.VIRTUAL or slot.status != VisitSlot.Status.FREE or slot.start <= now:
        raise ValidationFailed({"slot": ["Choose a free video-visit slot from the list."]})
    return slot


@transaction.atomic
def session_rebook(*, session, slot_id, actor, now=None):
    """TECHNICAL_ISSUES -> a new visit and session in `slot_id` (a FREE, future VIRTUAL slot;
    400 naming `slot` otherwise; SlotUnavailable 409 when taken meanwhile). Refuses a session
    that did not fail (409 session_not_failed) or was rebooked already (409 already_rebooked).
    Returns the new session."""
    now = now or timezone.now()
    session = lock(TelehealthSession, session.pk)
    if session.status != S.TECHNICAL_ISSUES:
        raise Conflict("Only a video visit that ended with technical issues is rebooked.", code="session_not_failed")
    if session.rebooked_to_id:
        raise Conflict("This video visit was rebooked already.", code="already_rebooked",
                       extra={"session_id": str(session.rebooked_to_id)})
    slot = _virtual_slot(slot_id, now)
    old = Visit.objects.select_related("visit_type").get(pk=session.visit_id)
    visit = visit_book_for_patient(patient=old.patient, slot=slot, visit_type=old.visit_type, actor=actor, now=now)
    new = TelehealthSession.objects.get(visit=visit)
    if old.status == V.PLANNED:
        visit_cancel(visit=old, actor=actor, reason="Rebooked after technical issues", now=now)
    session.rebooked_to = new
    session.save(update_fields=["rebooked_to", "updated_at"])
    record_event(session, actor=actor, reason="Rebooked after technical issues",
                 data={"session_id": str(new.pk), "visit_id": str(visit.pk), "slot_id": str(slot.pk)})
    events.publish_queue(new, "rebooked")
    return new


@transaction.atomic
def session_reassign(*, session, slot_id, actor, now=None):
    """An open session's visit moves to `slot_id` (a FREE, future VIRTUAL slot, normally
    another provider's, e.g. one licensed where the patient is): scheduling's visit_reschedule,
    which the session follows. Only before the call (SCHEDULED or WAITING, the visit PLANNED:
    409 otherwise). Returns the session."""
    now = now or timezone.now()
    session = lock(TelehealthSession, session.pk)
    if session.status not in (S.SCHEDULED, S.WAITING):
        raise Conflict("Only a video visit that has not started can be given to another provider.",
                       code="session_not_reassignable", extra={"status": session.status})
    slot = _virtual_slot(slot_id, now)
    visit = Visit.objects.get(pk=session.visit_id)
    if visit.status != V.PLANNED:
        raise Conflict("The patient was admitted already: end this visit as technical issues and rebook it.",
                       code="session_not_reassignable", extra={"visit_status": visit.status})
    visit_reschedule(visit=visit, new_slot=slot, actor=actor, reason="Reassigned from the virtual queue", now=now)
    session = TelehealthSession.objects.select_related("provider").get(pk=session.pk)
    events.publish(session, "reassigned")
    return session


def session_move_to_slot(*, session, slot_id, actor, now=None):
    """The one entry for pages and the API: rebook a failed session, reassign an open one.
    Returns the session the patient now has."""
    if session.status == S.TECHNICAL_ISSUES:
        return session_rebook(session=session, slot_id=slot_id, actor=actor, now=now)
    return session_reassign(session=session, slot_id=slot_id, actor=actor, now=now)
