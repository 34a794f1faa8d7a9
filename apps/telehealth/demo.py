"""The telehealth app's demo: a video visit for the demo patient starting a few minutes from
now with the demo's virtual provider, so a newcomer can open the waiting room at once (it opens
TELEHEALTH_WAITING_ROOM_OPENS_MINUTES before), pass the device check, sign the telehealth
consent, and be admitted from the live queue in a second browser."""
import datetime

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import User
from apps.core import demo
from apps.patients.models import Patient
from apps.scheduling.models import Location, Mode, Provider, VisitSlot, VisitType
from apps.scheduling.services import visit_book_for_patient
from apps.telehealth.models import TelehealthSession

DEMO_PATIENT = "patient@clinic.test"
DEMO_PROVIDER = "np.ortiz@clinic.test"
DEMO_VISIT_TYPE = "Video follow-up"
DEMO_AHEAD_MINUTES = 10


def _start(now):
    """A few minutes ahead, on a 5-minute mark."""
    ahead = now + datetime.timedelta(minutes=DEMO_AHEAD_MINUTES)
    return ahead.replace(minute=ahead.minute - ahead.minute % 5, second=0, microsecond=0) + datetime.timedelta(minutes=5)


@demo.contribute(order=70)
def seed_video_visit(now=None):
    """Book the demo patient's video visit (a VIRTUAL slot of the virtual provider made for it),
    unless they already have an open video visit that has not ended."""
    now = now or timezone.now()
    patient = Patient.objects.filter(user__email=DEMO_PATIENT).first()
    provider = Provider.objects.filter(user__email=DEMO_PROVIDER).first()
    visit_type = VisitType.objects.filter(name=DEMO_VISIT_TYPE, mode=Mode.VIRTUAL).first()
    desk = User.objects.filter(email="frontdesk@clinic.test").first()
    location = Location.objects.order_by("name").first()
    if None in (patient, provider, visit_type, desk, location):
        return []
    open_one = TelehealthSession.objects.filter(patient=patient, status__in=TelehealthSession.OPEN_STATUSES,
                                                scheduled_end__gt=now).order_by("scheduled_start").first()
    if open_one is not None:
        return [f"video visit: {DEMO_PATIENT} already has one at {timezone.localtime(open_one.scheduled_start):%H:%M}"]
    start = _start(now)
    slot = VisitSlot.objects.filter(provider=provider, start=start).first()
    if slot is None:
        slot = VisitSlot.objects.create(provider=provider, location=location, start=start, mode=Mode.VIRTUAL,
                                        end=start + datetime.timedelta(minutes=visit_type.duration_minutes))
    elif slot.status != VisitSlot.Status.FREE or slot.mode != Mode.VIRTUAL:
        return [f"video visit: the demo provider is busy at {timezone.localtime(start):%H:%M}; run seed_demo again later"]
    visit_book_for_patient(patient=patient, slot=slot, visit_type=visit_type, actor=desk, idempotency_key=f"demo-video-{slot.pk}")
    opens = start - datetime.timedelta(minutes=settings.TELEHEALTH_WAITING_ROOM_OPENS_MINUTES)
    return [f"video visit: {DEMO_PATIENT} with {provider} at {timezone.localtime(start):%H:%M} "
            f"(waiting room open from {timezone.localtime(opens):%H:%M}: /portal/telehealth/)"]


@demo.summary(order=70)
def telehealth_summary():
    return [f"Video visit: sign in as {DEMO_PATIENT} and open Video visits; admit from /staff/telehealth/queue/ "
            f"as {DEMO_PROVIDER} in a second browser (built-in WebRTC: no vendor account)."]
