"""The scheduling app's demo records: a location, visit types, three providers with weekly
availability and generated slots, and an upcoming visit for the demo patient."""
import datetime

from django.conf import settings
from django.utils import timezone

from apps.accounts.demo import demo_staff_user
from apps.accounts.models import User
from apps.core import demo
from apps.patients.models import Patient
from apps.scheduling.models import AvailabilityWindow, Location, Provider, Visit, VisitSlot, VisitType
from apps.scheduling.services import slots_generate, visit_book_for_patient

DEMO_LOCATION = "Riverside Clinic — Main Street"

VISIT_TYPES = [
    # name, minutes, mode, self-bookable, billing codes
    ("New patient visit", 30, "IN_PERSON", False, ["99203"]),
    ("Follow-up visit", 30, "IN_PERSON", True, ["99213"]),
    ("Video follow-up", 30, "VIRTUAL", True, ["99213"]),
    ("Surgical consultation", 30, "IN_PERSON", False, ["99204"]),
]
DEMO_PROVIDERS = [
    # email, name, specialty, credentials, weekdays (0 = Monday), hours, mode
    ("provider@clinic.test", "Dr. Priya Shah", "Family medicine", "MD", [0, 1, 2, 3, 4], ("08:00", "17:00"), "IN_PERSON"),
    ("dr.lee@clinic.test", "Dr. Daniel Lee", "General surgery", "MD, FACS", [1, 3], ("09:00", "16:00"), "IN_PERSON"),
    ("np.ortiz@clinic.test", "Camila Ortiz", "Family medicine", "NP", [0, 2, 4], ("10:00", "18:00"), "VIRTUAL"),
]


@demo.contribute(order=30)
def seed_scheduling():
    """A location, visit types, three providers with weekly availability, and 60 days of slots."""
    location, _ = Location.objects.get_or_create(
        name=DEMO_LOCATION,
        defaults={"timezone": "America/New_York", "address": "100 Main Street, Springfield", "phone": "+12125550100"},
    )
    out = [f"location: {location.name} ({location.timezone})"]
    types = {}
    for name, minutes, mode, self_bookable, codes in VISIT_TYPES:
        types[name], _ = VisitType.objects.get_or_create(
            name=name,
            defaults={"duration_minutes": minutes, "mode": mode, "self_bookable": self_bookable, "default_billing_codes": codes},
        )
    for email, name, specialty, credentials, weekdays, (start, end), mode in DEMO_PROVIDERS:
        user = demo_staff_user(email, name, "provider")
        provider, created = Provider.objects.get_or_create(
            user=user, defaults={"specialty": specialty, "credentials": credentials, "licensed_states": ["NY", "NJ", "CT"]}
        )
        if created:
            wanted = [t for t in types.values() if t.mode == mode]
            if specialty == "General surgery":
                wanted.append(types["Surgical consultation"])
            provider.visit_types.set(wanted)
            for weekday in weekdays:
                AvailabilityWindow.objects.create(
                    provider=provider, weekday=weekday, location=location, mode=mode,
                    start_time=datetime.time.fromisoformat(start), end_time=datetime.time.fromisoformat(end),
                    effective_from=datetime.date.today() - datetime.timedelta(days=1),
                )
        out.append(f"provider: {name} ({specialty}, {mode.lower().replace('_', ' ')})")
    result = slots_generate()
    out.append(f"slots: {result.created} new for the next {settings.SCHEDULING_HORIZON_DAYS} days")
    return out


# The demo visit of patient@clinic.test: about 2.5 h ahead, so the booking notice reaches the
# local SMS outbox (/staff/messages/outbox/) at once and the 2 h reminder within the hour.
DEMO_VISIT_PATIENT = "patient@clinic.test"
DEMO_VISIT_TYPE = "Follow-up visit"
DEMO_VISIT_AHEAD = datetime.timedelta(hours=2, minutes=30)


def _demo_booking():
    """(the demo patient, the demo visit type, the front-desk user who books), or None."""
    patient = Patient.objects.filter(user__email=DEMO_VISIT_PATIENT).first()
    visit_type = VisitType.objects.filter(name=DEMO_VISIT_TYPE, is_active=True).first()
    desk = User.objects.filter(email="frontdesk@clinic.test").first()
    if patient is None or visit_type is None or desk is None:
        return None
    return patient, visit_type, desk


@demo.contribute(order=40)
def seed_upcoming_visit(now=None):
    """Book one upcoming visit for the demo patient, through the clinic's own booking service
    (so its SMS/email notice and reminders are queued like any booking), unless they already
    have a planned visit ahead. The FREE in-person slot nearest to 2.5 h from now, within 2 h 10
    min and 6 h; outside clinic hours (nights, weekends) there is none, and the next free slot
    after that is booked instead: its notice still shows at once, its reminders at their
    times (2 h, and 48 h when that far ahead)."""
    now = now or timezone.now()
    found = _demo_booking()
    if found is None:
        return []
    patient, visit_type, desk = found
    ahead = Visit.objects.for_patient(patient).upcoming(now).order_by("start").first()
    if ahead is not None:
        return [f"visit: {DEMO_VISIT_PATIENT} already has one at {timezone.localtime(ahead.start):%a %d %b %H:%M}"]
    target = now + DEMO_VISIT_AHEAD
    candidates = VisitSlot.objects.free().filter(
        mode=visit_type.mode, provider__is_active=True, provider__visit_types=visit_type,
        start__gte=now + datetime.timedelta(hours=2, minutes=10),
    )
    near = sorted(candidates.filter(start__lte=now + datetime.timedelta(hours=6)), key=lambda s: abs(s.start - target))
    slot = near[0] if near else candidates.order_by("start").first()
    if slot is None:
        return [f"visit: no free slot to book for {DEMO_VISIT_PATIENT}"]
    visit = visit_book_for_patient(patient=patient, slot=slot, visit_type=visit_type, actor=desk,
                                   idempotency_key=f"demo-{slot.pk}")
    return [f"visit: {DEMO_VISIT_PATIENT} booked for {timezone.localtime(visit.start):%a %d %b %H:%M} "
            "(notice and reminders in /staff/messages/outbox/)"]


# A second demo visit, far enough ahead (outside the cancellation window) that the demo patient
# can try cancelling and rescheduling it online.
DEMO_CHANGEABLE_AHEAD = datetime.timedelta(days=4)


@demo.contribute(order=41)
def seed_changeable_visit(now=None):
    """Book the demo patient's second visit, about four days ahead, unless they already have
    a planned visit beyond the cancellation window (SCHEDULING_CANCELLATION_WINDOW_HOURS)."""
    now = now or timezone.now()
    found = _demo_booking()
    if found is None:
        return []
    patient, visit_type, desk = found
    window_end = now + datetime.timedelta(hours=settings.SCHEDULING_CANCELLATION_WINDOW_HOURS)
    if Visit.objects.for_patient(patient).upcoming(now).filter(start__gt=window_end).exists():
        return []
    slot = VisitSlot.objects.free().filter(
        mode=visit_type.mode, provider__is_active=True, provider__visit_types=visit_type,
        start__gte=now + DEMO_CHANGEABLE_AHEAD,
    ).order_by("start").first()
    if slot is None:
        return [f"visit: no free slot for {DEMO_VISIT_PATIENT}'s changeable visit"]
    visit = visit_book_for_patient(patient=patient, slot=slot, visit_type=visit_type, actor=desk,
                                   idempotency_key=f"demo-{slot.pk}")
    return [f"visit: {DEMO_VISIT_PATIENT} also booked for {timezone.localtime(visit.start):%a %d %b %H:%M} "
            "(far enough ahead to cancel or reschedule online)"]


@demo.summary(order=30)
def providers_summary():
    return [f"Providers: {', '.join(p[0] for p in DEMO_PROVIDERS)}"]
