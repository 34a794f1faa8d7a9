"""The virtual waiting room: the patient enters (from TELEHEALTH_WAITING_ROOM_OPENS_MINUTES
before the visit), checks their devices, answers the pre-visit questions, and waits; staff
admit them (consent and licensure gates first), or tell them the provider is running late; a
patient who closes the page has LEFT, one who waits too long is TIMED_OUT (jobs.py).

Entries move through core's transition() with WaitingRoomEvent rows; at most one WAITING or
ADMITTED entry per session (database-unique)."""
import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.consents.models import US_STATES, ConsentForm
from apps.consents.services import consent_create
from apps.core.exceptions import Conflict, ValidationFailed
from apps.core.transitions import lock, record_event, transition
from apps.scheduling.models import Visit
from apps.scheduling.services import visit_check_in
from apps.telehealth import events
from apps.telehealth.exceptions import ConsentRequired, NotYetOpen, SessionClosed
from apps.telehealth.gates import consent_gate, consent_status, licensure_gate, requirements, template_for
from apps.telehealth.models import PLACE_OF_SERVICE_AT_HOME, PLACE_OF_SERVICE_OTHER, TelehealthSession, WaitingRoomEntry
from apps.telehealth.services.rooms import room_create, room_store

S = TelehealthSession.Status
E = WaitingRoomEntry.Status

# A connection check slower than this fails (the call would stutter).
MAX_RTT_MS = 1500
MIN_DOWNLOAD_KBPS = 300


def opens_at(session):
    return session.scheduled_start - datetime.timedelta(minutes=settings.TELEHEALTH_WAITING_ROOM_OPENS_MINUTES)


def is_open_now(session, now=None):
    return (now or timezone.now()) >= opens_at(session) and session.is_open


def active_entry(session, *, for_update=False):
    rows = WaitingRoomEntry.objects.filter(session=session, status__in=WaitingRoomEntry.ACTIVE_STATUSES)
    return (rows.select_for_update() if for_update else rows).first()


def _waiting_entry(session):
    entry = active_entry(session, for_update=True)
    if entry is None or entry.status != E.WAITING:
        raise Conflict("Open the waiting room first.", code="not_in_waiting_room")
    return entry


def waiting_room_enter(*, session, actor, now=None):
    """The patient arrives: a WAITING entry (the same one when they are already waiting or
    admitted: a reload or a second tab), and the session SCHEDULED -> WAITING. Refuses before
    the room opens (409 waiting_room_not_open, with opens_at) and after the session closed.
    Creates the video room first (providers in order, with fallback), outside the transaction,
    and stores it in the entry's own transaction (one of its own cost a first entry 3 more
    statements and a second commit before the staff queue was told: bench/waiting_room.py)."""
    now = now or timezone.now()
    if not session.is_open:
        raise SessionClosed()
    if now < opens_at(session):
        raise NotYetOpen(extra={"opens_at": opens_at(session).isoformat()})
    room = None if session.video_provider else room_create(session)
    try:
        with transaction.atomic():
            session = lock(TelehealthSession, session.pk)
            if not session.is_open:
                raise SessionClosed()
            if room is not None:
                session = room_store(session, *room)
            entry = active_entry(session, for_update=True)
            if entry is not None:
                return entry
            entry = WaitingRoomEntry.objects.create(session=session, entered_at=now)
            record_event(entry, actor=actor, reason="Entered the waiting room", from_status="", audit=False)
            if session.status == S.SCHEDULED:
                transition(session, S.WAITING, actor=actor, reason="Patient in the waiting room", locked=True)
            events.publish(session, "waiting")
            return entry
    except IntegrityError:
        # Two tabs at once: the other one's entry won (the partial unique index).
        return active_entry(session)


def clean_device_check(data):
    """The browser's measurements, typed and bounded, and the verdict (camera, microphone and
    a connection good enough for video)."""
    def number(name, high):
        value = data.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            return None
        return min(max(value, 0), high)

    result = {
        "camera": data.get("camera") is True, "microphone": data.get("microphone") is True,
        "mic_level": number("mic_level", 1), "rtt_ms": number("rtt_ms", 600_000),
        "download_kbps": number("download_kbps", 10_000_000),
    }
    problems = []
    if not result["camera"]:
        problems.append("camera")
    if not result["microphone"]:
        problems.append("microphone")
    if result["rtt_ms"] is None or result["rtt_ms"] > MAX_RTT_MS:
        problems.append("connection")
    if result["download_kbps"] is not None and result["download_kbps"] < MIN_DOWNLOAD_KBPS:
        problems.append("bandwidth")
    result["problems"] = problems
    return result, not problems


@transaction.atomic
def waiting_room_device_check(*, session, actor, data, now=None):
    """Store the device check on the waiting entry (409 not_in_waiting_room otherwise) with
    its verdict; staff see it in the queue."""
    entry = _waiting_entry(session)
    result, ok = clean_device_check(data)
    entry.device_check, entry.device_ok, entry.device_checked_at = result, ok, now or timezone.now()
    entry.save(update_fields=["device_check", "device_ok", "device_checked_at"])
    record_event(entry, actor=actor, reason="Device check " + ("passed" if ok else "failed"), data=result, audit=False)
    events.publish_queue(session, "device_check")
    return entry


@transaction.atomic
def waiting_room_answer(*, session, actor, current_state, at_home, now=None):
    """The pre-visit questions: the US state the patient is in now (required, two letters) and
    whether they are at home (place of service 10, else 02)."""
    state = (current_state or "").strip().upper()
    if state not in US_STATES:
        raise ValidationFailed({"current_state": ["Choose the US state you are in now."]})
    entry = _waiting_entry(session)
    entry.current_state, entry.at_home, entry.answered_at = state, bool(at_home), now or timezone.now()
    entry.save(update_fields=["current_state", "at_home", "answered_at"])
    record_event(entry, actor=actor, reason="Pre-visit questions answered", data={"state": state, "at_home": bool(at_home)},
                 audit=False)
    events.publish_queue(session, "answers")
    return entry


def _back_to_scheduled(session, actor, reason):
    if session.status == S.WAITING:
        transition(session, S.SCHEDULED, actor=actor, reason=reason, locked=True)


@transaction.atomic
def waiting_room_leave(*, session, actor, now=None, actor_label="", to=E.LEFT, reason="Left the waiting room"):
    """WAITING -> LEFT (the patient closed the page) or TIMED_OUT (the job); the session goes
    back to SCHEDULED until they return. No-op when they are not waiting (admitted already)."""
    session = lock(TelehealthSession, session.pk)
    entry = active_entry(session, for_update=True)
    if entry is None or entry.status != E.WAITING:
        return None
    transition(entry, to, actor=actor, actor_label=actor_label, reason=reason, locked=True,
               fields={"ended_at": now or timezone.now()})
    _back_to_scheduled(session, actor, reason)
    events.publish(session, "left" if to == E.LEFT else "timed_out")
    return entry


def waiting_room_admit(*, session, actor, now=None):
    """WAITING -> ADMITTED by staff who may admit. Requires: the patient's current state, the
    consent gate (verified by consents and audited, outside this transaction so a refusal's
    audit entry stays) and the licensure gate; 409 with their codes otherwise, and nothing
    changes. Then the visit is checked in (scheduling's visit_check_in), the place of service
    is set (10 at home, else 02) and the patient's page moves into the call."""
    now = now or timezone.now()
    entry = active_entry(session)
    if entry is None or entry.status != E.WAITING:
        raise Conflict("Nobody is waiting for this visit.", code="not_in_waiting_room")
    licensure_gate(session, entry.current_state)
    consent_gate(session, entry.current_state, now=now)
    with transaction.atomic():
        session = lock(TelehealthSession, session.pk, related=("visit",))  # the visit read with it (not locked)
        entry = _waiting_entry(session)
        transition(entry, E.ADMITTED, actor=actor, reason="Admitted", locked=True,
                   fields={"admitted_at": now, "admitted_by": actor if getattr(actor, "pk", None) else None})
        session.patient_state = entry.current_state
        session.place_of_service = PLACE_OF_SERVICE_AT_HOME if entry.at_home else PLACE_OF_SERVICE_OTHER
        session.save(update_fields=["patient_state", "place_of_service", "updated_at"])
        visit = session.visit
        if visit.status == Visit.Status.PLANNED:
            visit_check_in(visit=visit, actor=actor, now=now)
        events.publish(session, "admitted")
        return entry


@transaction.atomic
def waiting_room_running_late(*, session, actor, minutes, message="", now=None):
    """Tell the waiting patient the provider is running late (on their page, at once)."""
    entry = _waiting_entry(session)
    minutes = int(minutes)
    if not 1 <= minutes <= 240:
        raise ValidationFailed({"minutes": ["Between 1 and 240 minutes."]})
    text = (message or "").strip()[:240] or f"Your provider is running about {minutes} minutes late. Please stay on this page."
    entry.late_message, entry.late_notified_at = text, now or timezone.now()
    entry.save(update_fields=["late_message", "late_notified_at"])
    record_event(entry, actor=actor, reason="Running late", data={"minutes": minutes}, audit=False)
    events.publish_room(session, "running_late", message=text, minutes=minutes)
    events.publish_queue(session, "running_late")
    return entry


def telehealth_consents_to_sign(*, session, actor, state="", now=None):
    """The consents the patient still has to sign for this visit, created (sent to them, by
    consents' consent_create) from the newest published template of each missing kind; the
    ones already pending are reused. Returns them, first to sign first. Raises
    ConsentRequired (409) when the clinic has no published template for a missing kind."""
    status_by_kind = {(row["kind"], row["jurisdiction"]): row for row in consent_status(session, state, now=now)}
    to_sign = []
    for requirement in requirements(session, state):
        row = status_by_kind[(requirement.kind, requirement.jurisdiction)]
        if row["valid"]:
            continue
        if row["pending"]:
            to_sign.append(ConsentForm.objects.get(pk=row["consent_id"]))
            continue
        template = template_for(requirement)
        if template is None:
            raise ConsentRequired(f"The clinic has no {requirement.label} consent to sign online yet: please call us.",
                                  code="telehealth_consent_unavailable", extra={"kind": requirement.kind})
        to_sign.append(consent_create(patient=session.patient, template=template, actor=actor, now=now))
    return to_sign
