"""Reads of the telehealth app. access_session(actor, id) is the one way to a session by id
(core's access layer: another patient's, or a malformed id, is NotFound)."""
import datetime

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from apps.core import access
from apps.scheduling.models import Mode, VisitSlot
from apps.telehealth.exceptions import RecordingNotStored
from apps.telehealth.gates import consent_status, is_licensed
from apps.telehealth.models import Recording, TelehealthSession, WaitingRoomEntry

E = WaitingRoomEntry.Status


def sessions():
    active = WaitingRoomEntry.objects.filter(status__in=WaitingRoomEntry.ACTIVE_STATUSES)
    return (TelehealthSession.objects.select_related("provider__user", "patient", "visit__visit_type")
            .prefetch_related(Prefetch("entries", queryset=active, to_attr="active_entries")))


def access_session(actor, session_id, action=access.VIEW):
    return access.get(actor, sessions(), session_id, action)


def entry_of(session):
    """The session's WAITING or ADMITTED entry (prefetched by sessions()), or None."""
    entries = getattr(session, "active_entries", None)
    if entries is None:
        return session.entries.filter(status__in=WaitingRoomEntry.ACTIVE_STATUSES).first()
    return entries[0] if entries else None


def queue(*, now=None, provider=None):
    """The virtual queue: sessions whose patient is waiting or admitted and not yet in the
    call, longest wait first, with what staff need to decide (each row: session, entry, waited
    minutes, alert, consent status, licensure)."""
    now = now or timezone.now()
    rows = sessions().filter(status__in=[TelehealthSession.Status.WAITING], entries__status__in=WaitingRoomEntry.ACTIVE_STATUSES)
    if provider is not None:
        rows = rows.filter(provider=provider)
    out = []
    alert_after = datetime.timedelta(minutes=settings.TELEHEALTH_WAIT_ALERT_MINUTES)
    for session in rows.distinct():
        entry = entry_of(session)
        if entry is None:
            continue
        waited = now - entry.entered_at
        state = entry.current_state
        out.append({
            "session": session, "entry": entry, "waited_minutes": int(waited.total_seconds() // 60),
            "alert": entry.status == E.WAITING and waited > alert_after,
            "consents": consent_status(session, state, now=now),
            "licensed": is_licensed(session.provider, state) if state else None,
        })
    out.sort(key=lambda row: row["entry"].entered_at)
    return out


def recordings():
    return Recording.objects.select_related("session__provider__user", "started_by")


def access_recording(actor, recording_id, action=access.VIEW):
    return access.get(actor, recordings(), recording_id, action)


def recording_open(recording):
    """The stored file of an AVAILABLE recording, opened for reading; RecordingNotStored (409)
    for one kept at the vendor (Twilio: played from its console), not uploaded yet, or deleted."""
    if recording.status != Recording.Status.AVAILABLE or not recording.file:
        raise RecordingNotStored(extra={"status": recording.status, "provider": recording.video_provider})
    return recording.file.open("rb")


def rebook_slots(session, *, now=None, limit=20):
    """FREE future VIRTUAL slots a session's patient could be moved to: of providers who offer
    the visit's type and, when the patient's current state is known, are licensed there;
    soonest first."""
    now = now or timezone.now()
    entry = entry_of(session) or session.entries.exclude(current_state="").order_by("-entered_at").first()
    state = (entry.current_state if entry else "") or session.patient_state
    rows = (VisitSlot.objects.select_related("provider__user")
            .filter(status=VisitSlot.Status.FREE, mode=Mode.VIRTUAL, start__gt=now,
                    provider__visit_types=session.visit.visit_type_id).order_by("start"))
    out = []
    for slot in rows[: limit * 5]:
        if state and not is_licensed(slot.provider, state):
            continue
        out.append(slot)
        if len(out) == limit:
            break
    return out


def needs_rebooking(*, now=None, days=7):
    """Sessions of the last `days` that ended with technical issues and were not rebooked."""
    now = now or timezone.now()
    return list(sessions().filter(status=TelehealthSession.Status.TECHNICAL_ISSUES, rebooked_to__isnull=True,
                                  scheduled_start__gte=now - datetime.timedelta(days=days)).order_by("scheduled_start")[:50])
