"""The periodic jobs' services (tasks.py runs them). Each row is moved by its own service under
its row lock, which re-reads the state: two workers never both act on a row, and a second run
finds nothing to do."""
import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import DomainError
from apps.core.transitions import lock, transition
from apps.scheduling.models import Visit
from apps.scheduling.services import visit_mark_no_show
from apps.telehealth import events
from apps.telehealth.models import TelehealthSession, WaitingRoomEntry
from apps.telehealth.services.rooms import room_end_quietly
from apps.telehealth.services.sessions import session_end, session_mark_technical_issues
from apps.telehealth.services.waiting_room import waiting_room_leave

logger = logging.getLogger(__name__)
S = TelehealthSession.Status
E = WaitingRoomEntry.Status
SYSTEM = "system"


def _each(ids, act):
    done = 0
    for pk in ids:
        try:
            if act(pk):
                done += 1
        except DomainError as exc:  # moved by someone else meanwhile: nothing to do
            logger.info("telehealth job skipped session %s: %s", pk, exc.code)
    return done


def waiting_room_timeouts(*, now=None):
    """Entries WAITING longer than TELEHEALTH_WAITING_TIMEOUT_MINUTES -> TIMED_OUT. Returns the count."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.TELEHEALTH_WAITING_TIMEOUT_MINUTES)
    ids = WaitingRoomEntry.objects.filter(status=E.WAITING, entered_at__lte=cutoff).values_list("session_id", flat=True)
    return _each(list(ids), lambda pk: waiting_room_leave(
        session=TelehealthSession(pk=pk), actor=None, actor_label=SYSTEM, now=now, to=E.TIMED_OUT,
        reason="Waited too long"))


@transaction.atomic
def _no_show(pk, now, *, came_and_left=False):
    """SCHEDULED -> NO_SHOW. A patient who never entered: their visit too (scheduling's
    visit_mark_no_show). One who entered and left: the visit is left to staff (they did come)."""
    session = lock(TelehealthSession, pk)
    if session.status != S.SCHEDULED or session.entries.exists() != came_and_left:
        return False
    reason = "The patient left the waiting room and never came back" if came_and_left else "The patient never joined"
    transition(session, S.NO_SHOW, actor_label=SYSTEM, reason=reason, locked=True)
    visit = Visit.objects.get(pk=session.visit_id)
    if not came_and_left and visit.status == Visit.Status.PLANNED:
        visit_mark_no_show(visit=visit, actor=None, now=now)
    room_end_quietly(session)
    events.publish(session, "ended", reason="no_show")
    return True


def sessions_no_show(*, now=None):
    """SCHEDULED sessions whose patient never entered the waiting room, TELEHEALTH_NO_SHOW_GRACE_MINUTES
    after the start -> NO_SHOW, their visit too (scheduling's visit_mark_no_show)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.TELEHEALTH_NO_SHOW_GRACE_MINUTES)
    ids = (TelehealthSession.objects.filter(status=S.SCHEDULED, scheduled_start__lte=cutoff, entries__isnull=True)
           .values_list("pk", flat=True))
    return _each(list(ids), lambda pk: _no_show(pk, now))


def sessions_end_left_open(*, now=None):
    """Sessions still open TELEHEALTH_END_OPEN_AFTER_MINUTES after their scheduled end: a call
    in progress is completed; one that never started (the patient came but was never admitted,
    or admitted and never joined) is TECHNICAL_ISSUES, for staff to rebook."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.TELEHEALTH_END_OPEN_AFTER_MINUTES)
    rows = TelehealthSession.objects.filter(status__in=[S.WAITING, S.IN_PROGRESS, S.SCHEDULED], scheduled_end__lte=cutoff)

    def act(pk):
        session = TelehealthSession.objects.get(pk=pk)
        if session.status == S.IN_PROGRESS:
            return session_end(session=session, actor=None, actor_label=SYSTEM, reason="Ended by the system (left open)", now=now)
        if session.status == S.SCHEDULED:
            return _no_show(pk, now, came_and_left=session.entries.exists())
        return session_mark_technical_issues(session=session, actor=None, actor_label=SYSTEM, now=now,
                                             reason="The call never started")

    return _each(list(rows.values_list("pk", flat=True)), act)

