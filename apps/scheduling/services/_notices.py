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

from apps.messaging.models import Channel
from apps.messaging.outbox import message_enqueue
from apps.messaging.reminders import visit_reminders_cancel, visit_reminders_schedule
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


def notify_visit_booked(visit):
    """Portal notification + SMS/email "your visit is booked" (once per visit)."""
    _notify_about_visit(visit, kind="visit_booked", title="Your visit is booked",
                        body=f"{visit.visit_type.name} on {visit_time_text(visit)}.",
                        outbox_key=f"visit_booked:{visit.pk}", not_after=visit.start - BEFORE_VISIT)


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
    return visit_reminders_schedule(
        visit_id=str(visit.pk), patient=visit.patient, start_at=visit.start, status=visit.status,
        location_name=visit_context(visit)["location_name"], visit_time=visit_time_text(visit),
    )


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
