"""The session's life: made with its VIRTUAL visit, moved with it, started, ended.

The visit moves with the session through scheduling's own services (checked in on admission,
waiting_room.py; in progress when the call starts; completed when it ends), never by writing
the visit. Every session move goes through core's transition() (event row, audit entry)."""
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import PermissionDenied
from apps.core.transitions import lock, record_event, transition
from apps.scheduling.models import Mode, Visit
from apps.scheduling.services import visit_complete, visit_start
from apps.telehealth import events
from apps.telehealth.exceptions import SessionClosed
from apps.telehealth.gates import licensure_gate
from apps.telehealth.models import TelehealthSession, WaitingRoomEntry
from apps.telehealth.services.rooms import join_token, room_end_quietly, session_ensure_room

S = TelehealthSession.Status
E = WaitingRoomEntry.Status
V = Visit.Status
HOST, GUEST = "host", "guest"
# Keys kept from a browser's getStats summary, and their bounds (anything else is dropped).
QUALITY_FIELDS = {
    "rtt_ms": (0, 600_000), "packet_loss_pct": (0, 100), "bitrate_kbps": (0, 1_000_000),
    "bytes_received": (0, 2**62), "bytes_sent": (0, 2**62), "frames_decoded": (0, 2**62),
    "jitter_ms": (0, 600_000), "reconnects": (0, 10_000), "duration_s": (0, 86_400 * 2),
}


# --- with the visit (connected to scheduling's visit events in apps/telehealth/wiring.py) ----

def session_for_new_visit(*, visit):
    """A SCHEDULED session for a new VIRTUAL visit (none for other modes), in the booking's
    transaction: the booking and its session exist together or not at all."""
    if visit.mode != Mode.VIRTUAL:
        return None
    session, created = TelehealthSession.objects.get_or_create(
        visit=visit, defaults={"patient_id": visit.patient_id, "provider_id": visit.provider_id,
                               "scheduled_start": visit.start, "scheduled_end": visit.end},
    )
    if created:
        record_event(session, actor=visit.created_by, reason="Created with its video visit", from_status="", audit=False)
    return session


def _active_entry(session):
    return WaitingRoomEntry.objects.select_for_update().filter(session=session, status__in=WaitingRoomEntry.ACTIVE_STATUSES).first()


def session_cancel_with_visit(*, visit, actor=None):
    """The visit was cancelled: its open session goes to CANCELLED (a patient still waiting
    is told, their entry LEFT) and the room is ended after commit."""
    session = TelehealthSession.objects.filter(visit=visit).first()
    if session is None:
        return None
    session = lock(TelehealthSession, session.pk)
    if not session.is_open:
        return session
    entry = _active_entry(session)
    if entry is not None and entry.status == E.WAITING:
        transition(entry, E.LEFT, actor=actor, reason="Visit cancelled", fields={"ended_at": timezone.now()}, locked=True)
    transition(session, S.CANCELLED, actor=actor, reason="Visit cancelled", locked=True, fields={"end_reason": "Visit cancelled"})
    room_end_quietly(session)
    events.publish(session, "ended")
    return session


def session_follow_visit(*, visit):
    """The visit was rescheduled or reassigned: the open session takes its new time and provider."""
    session = TelehealthSession.objects.filter(visit=visit, status__in=TelehealthSession.OPEN_STATUSES).first()
    if session is None:
        return None
    session = lock(TelehealthSession, session.pk)
    changed = {"scheduled_start": visit.start, "scheduled_end": visit.end, "provider_id": visit.provider_id}
    if all(getattr(session, k) == v for k, v in changed.items()):
        return session
    for name, value in changed.items():
        setattr(session, name, value)
    session.save(update_fields=[*changed, "updated_at"])
    record_event(session, reason="Follows its visit's new time or provider", actor_label="system",
                 data={"start": visit.start.isoformat(), "provider_id": str(visit.provider_id)})
    events.publish_queue(session, "changed")
    return session


# --- participants -----------------------------------------------------------------------------

def participant_role(session, user):
    """"host" for the session's provider, "guest" for its patient, None for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if session.provider.user_id == user.pk:
        return HOST
    if session.patient.user_id is not None and session.patient.user_id == user.pk:
        return GUEST
    return None


def session_join_token(*, session, user, now=None):
    """A token for the session's room, for one of its two participants (PermissionDenied
    not_a_participant otherwise). The patient gets one once admitted; the provider once the
    patient is waiting or admitted. Creates the room if needed."""
    role = participant_role(session, user)
    if role is None:
        raise PermissionDenied("Only the visit's patient and its provider can join the call.", code="not_a_participant")
    if not session.is_open:
        raise SessionClosed()
    if role == GUEST:
        admitted = session.entries.filter(status=E.ADMITTED).exists()
        if not admitted:
            raise SessionClosed("You will join the call once the provider admits you.", code="not_admitted")
    session = session_ensure_room(session=session)
    return session, join_token(session=session, user=user, role=role)


# --- the call ---------------------------------------------------------------------------------

@transaction.atomic
def session_start(*, session, actor, provider_state="", now=None):
    """WAITING -> IN_PROGRESS when the provider joins the admitted patient (idempotent once in
    progress). Requires an admitted entry and the licensure gate for the patient's state (409
    provider_not_licensed). Records actual_start and where each party is; the visit moves
    CHECKED_IN -> IN_PROGRESS through scheduling's visit_start. Tells both pages."""
    now = now or timezone.now()
    session = lock(TelehealthSession, session.pk, related=("provider",))
    if session.status == S.IN_PROGRESS:
        return session
    if not session.is_open:
        raise SessionClosed()
    entry = WaitingRoomEntry.objects.filter(session=session, status=E.ADMITTED).first()
    if entry is None:
        raise SessionClosed("Admit the patient from the queue first.", code="not_admitted")
    licensure_gate(session, entry.current_state)
    transition(session, S.IN_PROGRESS, actor=actor, reason="Call started", locked=True, fields={
        "actual_start": now, "provider_state": (provider_state or "").upper()[:2],
    })
    visit = Visit.objects.get(pk=session.visit_id)
    if visit.status == V.CHECKED_IN:
        visit_start(visit=visit, actor=actor, now=now)
    events.publish(session, "started")
    return session


def clean_quality(metrics):
    """The known numeric getStats fields, clamped to their bounds."""
    cleaned = {}
    for name, (low, high) in QUALITY_FIELDS.items():
        value = (metrics or {}).get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN
            continue
        cleaned[name] = round(min(max(value, low), high), 3)
    return cleaned


@transaction.atomic
def session_save_quality(*, session, actor, metrics):
    """Store the caller's side of the call's quality metrics (rtt, loss, bitrate from
    getStats); each side keeps its last report."""
    role = participant_role(session, actor) or "staff"
    session = lock(TelehealthSession, session.pk)
    quality = dict(session.quality or {})
    quality[{HOST: "provider", GUEST: "patient"}.get(role, role)] = {**clean_quality(metrics), "at": timezone.now().isoformat()}
    session.quality = quality
    session.save(update_fields=["quality", "updated_at"])
    return session


@transaction.atomic
def session_end(*, session, actor, reason="Call ended", now=None, actor_label=""):
    """IN_PROGRESS -> COMPLETED (idempotent once completed). The visit moves IN_PROGRESS ->
    COMPLETED through scheduling's visit_complete (its follow-up message). Ends the room
    after commit and tells both pages."""
    now = now or timezone.now()
    session = lock(TelehealthSession, session.pk)
    if session.status == S.COMPLETED:
        return session
    transition(session, S.COMPLETED, actor=actor, actor_label=actor_label, reason=reason, locked=True,
               fields={"actual_end": now, "end_reason": reason[:200]})
    visit = Visit.objects.get(pk=session.visit_id)
    if visit.status == V.IN_PROGRESS:
        visit_complete(visit=visit, actor=actor, now=now)
    room_end_quietly(session)
    events.publish(session, "ended")
    return session


@transaction.atomic
def session_mark_technical_issues(*, session, actor, reason, now=None, actor_label=""):
    """WAITING or IN_PROGRESS -> TECHNICAL_ISSUES (the provider, or the job for a call never
    started). The visit stays where it is for staff to rebook; a waiting patient is told."""
    now = now or timezone.now()
    session = lock(TelehealthSession, session.pk)
    entry = _active_entry(session)
    if entry is not None and entry.status == E.WAITING:
        transition(entry, E.LEFT, actor=actor, actor_label=actor_label, reason="Technical issues", locked=True,
                   fields={"ended_at": now})
    transition(session, S.TECHNICAL_ISSUES, actor=actor, actor_label=actor_label, reason=reason, locked=True,
               fields={"actual_end": now if session.actual_start else None, "end_reason": reason[:200]})
    room_end_quietly(session)
    events.publish(session, "ended", reason="technical_issues")
    return session
