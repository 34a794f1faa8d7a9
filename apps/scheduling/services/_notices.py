"""What scheduling tells the patient outside the portal, written in the transaction of the
event through the messaging outbox: booking, move and cancel notices, appointment reminders
and the post-visit follow-up.

Every SMS/email carries only the visit time (with its zone: the location's for a visit in
person, the patient's own for a video visit, which they join from wherever they are), the location's name,
an offer deadline and a portal link path: never the reason, symptoms, severity or notes, which
stay in the in-app notification body for the signed-in patient. Each has a dedupe key naming
the event (visit, and its start time where a visit can move), so a service that runs again for
the same event queues nothing new."""
import datetime

from django.conf import settings
from django.utils import timezone

from apps.messaging.models import Channel
from apps.messaging.outbox import Outgoing, message_enqueue, messages_enqueue
from apps.messaging.reminders import VisitReminders, visit_reminder_events, visit_reminders_cancel, visit_reminders_schedule_many
from apps.messaging.services import notify
from apps.scheduling.models import Mode
from apps.scheduling.services._common import local_text, notify_patient, patient_local_text, visit_link

# A message that quiet hours would delay past this point before the visit goes at once instead.
BEFORE_VISIT = datetime.timedelta(minutes=30)
SMS_AND_EMAIL = (Channel.SMS, Channel.EMAIL)


def _stamp(dt):
    return int(dt.timestamp())


def visit_time_text(visit):
    """When the visit is, in the timezone the patient lives it in: the clinic's for a visit in
    person, the patient's own for a video visit. The zone's abbreviation is always shown."""
    if visit.mode == Mode.VIRTUAL:
        return patient_local_text(visit.start, visit.patient)
    return local_text(visit.start, visit.location)


def visit_context(visit):
    """The PHI-free words a visit message may use. A virtual visit names no place."""
    return {
        "visit_time": visit_time_text(visit),
        "location_name": "" if visit.mode == Mode.VIRTUAL else visit.location.name,
    }


def _notify_about_visit(visit, *, kind, title, body, outbox_key, data=None, **options):
    """The patient hears about their visit: a portal notification linking to it, and SMS/email
    (through notify_patient) with the visit's time and place."""
    notify_patient(visit.patient, kind=kind, title=title, body=body, link=visit_link(visit, staff=False),
                   data={"visit_id": str(visit.pk), **(data or {})}, outbox_key=outbox_key,
                   context=visit_context(visit), **options)


def _booked_words(visit):
    return {"kind": "visit_booked", "title": "Your visit is booked", "body": f"{visit.visit_type.name} on {visit_time_text(visit)}."}


def notify_visit_booked(visit):
    """Portal notification + SMS/email "your visit is booked" (once per visit)."""
    _notify_about_visit(visit, **_booked_words(visit), outbox_key=f"visit_booked:{visit.pk}",
                        not_after=visit.start - BEFORE_VISIT)


# --- a new booking's messages in one call ----------------------------------------------------
# notify_visit_booked() and reminders_sync() write a new visit's rows in two outbox calls, the
# second also cancelling reminders of an earlier start. For a visit created in this
# transaction no earlier row can exist, so visit_booked_notices() hands the "booked" notice and
# the reminders to messaging's messages_enqueue() at once: one template read, one INSERT and
# its read-back for all of them (tests/scheduling/test_perf_booking.py compares the rows with
# what the two functions write).

def _reminded_visit(visit):
    """The visit as apps/messaging/reminders.py takes it: its time as the patient lives it."""
    return VisitReminders(visit_id=str(visit.pk), patient=visit.patient, start_at=visit.start, status=visit.status,
                          location_name=visit_context(visit)["location_name"], visit_time=visit_time_text(visit))


def visit_booked_notices(visit, *, now=None):
    """What a new booking tells the patient, for a visit created in this transaction: the
    portal notification (when they have a login) and, in one messages_enqueue call, the "your
    visit is booked" SMS/email and the appointment reminders (one per
    MESSAGING_REMINDER_OFFSETS_HOURS offset still ahead): the rows notify_visit_booked() and
    reminders_sync() would write. Returns the outbox rows."""
    now = now or timezone.now()
    patient = visit.patient
    user = patient.user if patient.user_id else None
    words = _booked_words(visit)
    link = visit_link(visit, staff=False)
    if user is not None:
        notify(user=user, kind=words["kind"], title=words["title"], body=words["body"], link=link,
               data={"visit_id": str(visit.pk)})
    booked = Outgoing(kind=words["kind"], dedupe_key=f"visit_booked:{visit.pk}", patient=patient, user=user,
                      context=visit_context(visit), channels=SMS_AND_EMAIL, link=link, due_at=now,
                      not_after=visit.start - BEFORE_VISIT)
    per_event = messages_enqueue(events=[booked, *visit_reminder_events(_reminded_visit(visit), now=now)])
    return [row for rows in per_event for row in rows]


def notify_visit_assigned(visit, *, provider):
    """A walk-in is seen now: urgent (quiet hours do not apply, the patient is in the building)."""
    _notify_about_visit(visit, kind="visit_assigned", title="You will be seen now",
                        body=f"{provider} will see you shortly.", outbox_key=f"visit_assigned:{visit.pk}", urgent=True)


def notify_visit_cancelled(visit, *, late, by_sms=False):
    """The patient hears that the visit is cancelled. When they cancelled it by text, the
    answer to their text says so: no second SMS, email only."""
    _notify_about_visit(visit, kind="visit_cancelled", title="Your visit was cancelled",
                        body=f"{visit.visit_type.name} on {visit_time_text(visit)} is cancelled.",
                        data={"late": late}, outbox_key=f"visit_cancelled:{visit.pk}",
                        channels=(Channel.EMAIL,) if by_sms else SMS_AND_EMAIL, not_after=visit.start - BEFORE_VISIT)


def notify_visit_rescheduled(visit):
    """Once per new start time: moving the visit twice tells the patient twice."""
    _notify_about_visit(visit, kind="visit_rescheduled", title="Your visit has moved",
                        body=f"{visit.visit_type.name} is now on {visit_time_text(visit)}.",
                        outbox_key=f"visit_rescheduled:{visit.pk}:{_stamp(visit.start)}",
                        not_after=visit.start - BEFORE_VISIT)


def reminders_sync(visit):
    """Reminder rows for the visit as it is now (apps/messaging/reminders.py): one per
    MESSAGING_REMINDER_OFFSETS_HOURS offset still ahead while PLANNED and in the future; a
    move cancels the old start's rows; any other status cancels them all."""
    return visit_reminders_schedule_many(visits=[_reminded_visit(visit)])[0]


def reminders_cancel(visit):
    return visit_reminders_cancel(visit_id=str(visit.pk))


def follow_up_enqueue(visit, *, now):
    """The post-visit follow-up, SCHEDULING_FOLLOW_UP_HOURS after completion (0: none), on
    every channel the patient allows, not urgent (quiet hours respected). Once per visit."""
    delay = settings.SCHEDULING_FOLLOW_UP_HOURS
    if not delay or delay <= 0:
        return []
    return message_enqueue(
        kind="follow_up", patient=visit.patient, context=visit_context(visit), link=visit_link(visit, staff=False),
        due_at=now + datetime.timedelta(hours=delay), dedupe_key=f"visit_follow_up:{visit.pk}",
    )
