"""Scheduling outcomes reach the patient through the messaging outbox: SMS and email by their
preferences (and in-app in the portal), in the event's transaction, once per event, with
PHI-free words; appointment reminders follow the visit (booked, moved, cancelled, no-show);
the follow-up after a completed visit; the clinic's own booking of any visit type."""
import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.utils import timezone

from apps.core.demo import seed_demo
from apps.messaging.delivery import outbox_claim_due, outbox_send_claimed
from apps.messaging.models import Channel, Notification, OutboundMessage, SmsOutboxEntry
from apps.scheduling import services
from apps.scheduling.demo import seed_upcoming_visit
from apps.scheduling.exceptions import EmergencyCareRequired, NotAllowed, ReviewRequired
from apps.scheduling.models import Mode, Severity, Visit, VisitRequest, VisitSlot
from apps.scheduling.services._common import local_text
from apps.scheduling.services._notices import notify_visit_booked, reminders_sync
from tests.factories import PatientFactory
from tests.messaging.outbox_helpers import no_kick, run_due  # noqa: F401
from tests.scheduling.api_support import API, assert_error, desk, integrator  # noqa: F401
from tests.scheduling.factories import VisitRequestFactory, VisitTypeFactory

pytestmark = pytest.mark.usefixtures("no_kick")
S = OutboundMessage.Status
NY = zoneinfo.ZoneInfo("America/New_York")
REASON = "Embarrassing rash on the left knee"


def rows(kind, patient=None, **filters):
    qs = OutboundMessage.objects.filter(kind=kind, **filters)
    if patient is not None:
        qs = qs.filter(patient=patient)
    return list(qs.order_by("channel", "due_at"))


def channels(kind, patient=None, **filters):
    return sorted(r.channel for r in rows(kind, patient, **filters))


def reminder_offsets(visit, status=S.PENDING, channel=Channel.SMS):
    return sorted(visit.start - r.due_at for r in rows("visit_reminder", visit.patient, status=status, channel=channel,
                                                       dedupe_key__startswith=f"visit_reminder:{visit.pk}:"))


H48, H2 = datetime.timedelta(hours=48), datetime.timedelta(hours=2)


@pytest.fixture
def offline_patient(db):
    """A patient registered by staff, with no portal login."""
    return PatientFactory()


@pytest.fixture
def booked(patient, make_slot, visit_type):
    """book(hours_from_now=72, who=patient) -> a visit booked by the patient (direct booking)."""

    def book(hours_from_now=72, who=None):
        return services.booking_create(patient=who or patient, slot=make_slot(hours_from_now=hours_from_now),
                                       visit_type=visit_type)

    return book


def quiet_now(patient, *, hours_after=2):
    """Give the patient quiet hours from an hour ago until `hours_after` from now (their tz)."""
    tz = zoneinfo.ZoneInfo(patient.timezone)
    local = timezone.now().astimezone(tz)
    patient.quiet_hours_start = (local - datetime.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    patient.quiet_hours_end = (local + datetime.timedelta(hours=hours_after)).time().replace(second=0, microsecond=0)
    patient.save()
    return patient.quiet_hours_end


# --- booking notices ------------------------------------------------------------------------

def test_a_booking_queues_sms_and_email_with_phi_free_words(patient, make_slot, visit_type, location, make_request):
    request = make_request(reason=REASON, symptoms=["rash"])

    visit = services.booking_create(patient=patient, slot=make_slot(), visit_type=visit_type, request=request)

    sms, email = (rows("visit_booked", patient, channel=c)[0] for c in (Channel.SMS, Channel.EMAIL))
    assert (sms.to, email.to) == (patient.phone, patient.email)
    when = local_text(visit.start, location)  # the location's timezone, e.g. "Tue 24 Nov 2026, 10:00 EST"
    assert when in sms.body and location.name in sms.body and when in email.body
    assert sms.link == f"/portal/schedule/visits/{visit.pk}/"
    for row in (sms, email):
        assert "rash" not in row.body.lower() and "knee" not in row.body.lower() and "GREEN" not in row.body
        assert row.status == S.PENDING and not row.urgent
    assert Notification.objects.filter(recipient=patient.user, kind="visit_booked").count() == 1


def test_a_patient_without_a_portal_login_still_gets_sms_and_email(offline_patient, make_slot, visit_type, front_desk):
    visit = services.visit_book_for_patient(patient=offline_patient, slot=make_slot(), visit_type=visit_type, actor=front_desk)

    assert channels("visit_booked", offline_patient) == [Channel.EMAIL, Channel.SMS]
    assert reminder_offsets(visit) == [H2, H48]
    assert channels("visit_reminder", offline_patient) == [Channel.EMAIL, Channel.EMAIL, Channel.SMS, Channel.SMS]
    assert not Notification.objects.exists()


def test_channels_follow_the_patients_preferences(patient, booked):
    patient.sms_opt_in = False
    patient.save()

    booked()

    assert channels("visit_booked", patient) == [Channel.EMAIL]
    assert Channel.SMS not in channels("visit_reminder", patient)


def test_quiet_hours_delay_a_booking_notice(patient, booked):
    end = quiet_now(patient)

    booked(hours_from_now=96)

    sms = rows("visit_booked", patient, channel=Channel.SMS)[0]
    assert sms.due_at > timezone.now() + datetime.timedelta(hours=1)
    assert sms.due_at.astimezone(zoneinfo.ZoneInfo(patient.timezone)).time() == end


def test_quiet_hours_never_push_a_notice_past_the_visit(patient, booked):
    quiet_now(patient, hours_after=5)

    booked(hours_from_now=3)  # the end of quiet hours is after the visit: send now

    assert rows("visit_booked", patient, channel=Channel.SMS)[0].due_at <= timezone.now()


def test_a_retried_service_queues_nothing_new(patient, booked, make_slot, visit_type):
    slot = make_slot()
    visit = services.booking_create(patient=patient, slot=slot, visit_type=visit_type, idempotency_key="k1")
    before = OutboundMessage.objects.count()

    assert services.booking_create(patient=patient, slot=slot, visit_type=visit_type, idempotency_key="k1") == visit
    notify_visit_booked(visit)  # the event handled again
    reminders_sync(visit)

    assert OutboundMessage.objects.count() == before == 2 + 6  # notice (sms, email) + 2 reminders x 3 channels


# --- offers ---------------------------------------------------------------------------------

def test_an_offer_queues_the_deadline_not_the_reason(patient, make_request, make_slot, front_desk, location):
    request = make_request(reason=REASON)

    services.visit_request_offer_slots(request=request, slots=[make_slot(30), make_slot(40)], actor=front_desk)

    request.refresh_from_db()
    sms = rows("offer_made", patient, channel=Channel.SMS)[0]
    assert local_text(request.offer_expires_at, location) in sms.body
    assert "knee" not in sms.body and channels("offer_made", patient) == [Channel.EMAIL, Channel.SMS]
    assert sms.link == f"/portal/schedule/requests/{request.pk}/"


def test_offer_expiring_soon_and_expired_are_queued_once(patient, make_request, make_slot, front_desk, settings):
    request = make_request()
    services.visit_request_offer_slots(request=request, slots=[make_slot(30)], actor=front_desk)
    request.refresh_from_db()
    deadline = request.offer_expires_at

    soon = deadline - datetime.timedelta(minutes=settings.SCHEDULING_OFFER_REMINDER_MINUTES - 5)
    assert services.offers_remind_expiring(now=soon) == 1
    assert services.offers_remind_expiring(now=soon) == 0
    assert channels("offer_expiring_soon", patient) == [Channel.EMAIL, Channel.SMS]
    assert "released at" in rows("offer_expiring_soon", patient, channel=Channel.SMS)[0].body

    services.offers_expire(now=deadline + datetime.timedelta(seconds=1))
    services.offers_expire(now=deadline + datetime.timedelta(seconds=2))
    assert channels("offer_expired", patient) == [Channel.EMAIL, Channel.SMS]


def test_accepting_an_offer_books_with_notice_and_reminders(patient, make_request, make_slot, front_desk):
    request = make_request()
    slot = make_slot(72)
    services.visit_request_offer_slots(request=request, slots=[slot], actor=front_desk)

    visit = services.visit_request_accept_offer(request=request, slot=slot, actor=patient.user)

    assert channels("visit_booked", patient) == [Channel.EMAIL, Channel.SMS]
    assert reminder_offsets(visit) == [H2, H48]


def test_a_freed_slot_offered_to_the_waitlist_is_texted_and_booked_with_reminders(patient, other_patient, booked, visit_type,
                                                                                    front_desk):
    visit = booked(hours_from_now=72, who=other_patient)
    waiting = VisitRequestFactory(patient=patient, visit_type=visit_type)

    services.visit_cancel(visit=visit, actor=front_desk)

    waiting.refresh_from_db()
    assert waiting.status == VisitRequest.Status.AWAITING_PATIENT_CONFIRMATION
    assert channels("offer_made", patient) == [Channel.EMAIL, Channel.SMS]
    mine = services.visit_request_accept_offer(request=waiting, slot=visit.slot, actor=patient.user)
    assert reminder_offsets(mine) == [H2, H48]


def test_assigning_a_walk_in_texts_at_once_even_in_quiet_hours(patient, provider, location, visit_type, front_desk):
    quiet_now(patient)
    walk_in = VisitRequestFactory(patient=patient, request_type=VisitRequest.Type.WALK_IN, location=location,
                                  visit_type=visit_type)

    services.visit_request_assign_immediate(request=walk_in, provider=provider, actor=front_desk)

    sms = rows("visit_assigned", patient, channel=Channel.SMS)[0]
    assert sms.urgent and sms.due_at <= timezone.now() and location.name in sms.body
    assert not rows("visit_reminder", patient)  # it starts now


# --- reminders follow the visit -------------------------------------------------------------

def test_offsets_already_past_get_no_reminder(patient, booked):
    visit = booked(hours_from_now=5)
    assert reminder_offsets(visit) == [H2]


def test_cancelling_cancels_the_reminders_and_tells_the_patient(patient, booked, front_desk):
    visit = booked()

    services.visit_cancel(visit=visit, actor=front_desk, reason="Provider ill")

    assert reminder_offsets(visit) == [] and len(reminder_offsets(visit, status=S.CANCELLED)) == 2
    assert channels("visit_cancelled", patient) == [Channel.EMAIL, Channel.SMS]
    assert "Provider ill" not in rows("visit_cancelled", patient, channel=Channel.SMS)[0].body


def test_rescheduling_moves_the_reminders(patient, booked, make_slot, front_desk, location):
    visit = booked(hours_from_now=72)
    Visit.objects.filter(pk=visit.pk).update(confirmed_at=timezone.now())
    new_slot = make_slot(hours_from_now=120)

    moved = services.visit_reschedule(visit=visit, new_slot=new_slot, actor=front_desk)

    assert reminder_offsets(moved) == [H2, H48]
    assert all(r.due_at > timezone.now() + datetime.timedelta(hours=60)
               for r in rows("visit_reminder", patient, status=S.PENDING))
    assert len(rows("visit_reminder", patient, status=S.CANCELLED)) == 6
    sms = rows("visit_rescheduled", patient, channel=Channel.SMS)[0]
    assert local_text(new_slot.start, location) in sms.body
    moved.refresh_from_db()
    assert moved.confirmed_at is None  # the confirmation was of the old time


def test_a_no_show_cancels_what_is_left(patient, booked, front_desk):
    visit = booked(hours_from_now=72)

    services.visit_mark_no_show(visit=visit, actor=front_desk, now=visit.start + datetime.timedelta(minutes=20))

    assert reminder_offsets(visit) == []


def test_a_reminder_claimed_before_the_cancel_is_not_sent(patient, booked, front_desk):
    visit = booked(hours_from_now=3)
    due = visit.start - H2 + datetime.timedelta(minutes=1)
    token, claimed = outbox_claim_due(now=due)
    assert {m.kind for m in OutboundMessage.objects.filter(pk__in=claimed)} >= {"visit_reminder"}

    services.visit_cancel(visit=visit, actor=front_desk)  # the sender already holds the rows

    statuses = {outbox_send_claimed(message_id=pk, token=token) for pk in claimed
                if OutboundMessage.objects.get(pk=pk).kind == "visit_reminder"}
    assert statuses == {S.CANCELLED}
    assert not SmsOutboxEntry.objects.filter(body__icontains="reminder").exists()


def test_a_cancelled_visit_gets_no_reminder_from_the_worker(patient, booked, front_desk):
    visit = booked(hours_from_now=3)
    services.visit_cancel(visit=visit, actor=front_desk)

    run_due(now=visit.start)

    assert not SmsOutboxEntry.objects.filter(body__icontains="reminder").exists()
    assert SmsOutboxEntry.objects.filter(body__icontains="cancelled").count() == 1


def test_the_reminder_goes_out_on_time(patient, booked, location):
    visit = booked(hours_from_now=3)
    run_due()  # the booking notice

    run_due(now=visit.start - H2 + datetime.timedelta(seconds=1))

    texts = list(SmsOutboxEntry.objects.filter(to=patient.phone).order_by("created_at").values_list("body", flat=True))
    assert len(texts) == 2 and "booked" in texts[0] and "reminder" in texts[1]
    assert local_text(visit.start, location) in texts[1] and "Reply C to confirm" in texts[1]


# --- follow-up ------------------------------------------------------------------------------

def test_completing_a_visit_queues_the_follow_up_a_day_later(patient, booked, front_desk):
    visit = booked()
    for step in (services.visit_check_in, services.visit_start, services.visit_complete):
        step(visit=visit, actor=front_desk)

    follow_ups = rows("follow_up", patient)
    assert sorted(r.channel for r in follow_ups) == [Channel.EMAIL, Channel.IN_APP, Channel.SMS]
    assert all(not r.urgent and abs(r.due_at - timezone.now() - datetime.timedelta(hours=24)) < datetime.timedelta(minutes=1)
               for r in follow_ups)
    assert reminder_offsets(visit) == []  # checked in: the reminders were cancelled


def test_the_follow_up_respects_quiet_hours(patient, booked, front_desk):
    end = quiet_now(patient)  # the same hours tomorrow
    visit = booked()
    for step in (services.visit_check_in, services.visit_start, services.visit_complete):
        step(visit=visit, actor=front_desk)

    sms = rows("follow_up", patient, channel=Channel.SMS)[0]
    assert sms.due_at.astimezone(zoneinfo.ZoneInfo(patient.timezone)).time() == end
    assert sms.due_at > timezone.now() + datetime.timedelta(hours=24)


def test_no_follow_up_when_turned_off(patient, booked, front_desk, settings):
    settings.SCHEDULING_FOLLOW_UP_HOURS = 0
    visit = booked()
    for step in (services.visit_check_in, services.visit_start, services.visit_complete):
        step(visit=visit, actor=front_desk)
    assert not rows("follow_up", patient)


# --- the clinic books any visit type --------------------------------------------------------

@pytest.fixture
def staff_only(provider):
    visit_type = VisitTypeFactory(self_bookable=False, name="New patient visit (staff only)")
    provider.visit_types.add(visit_type)
    return visit_type


def test_a_patient_cannot_book_a_staff_only_type_themselves(patient, make_slot, staff_only):
    with pytest.raises(NotAllowed):
        services.booking_create(patient=patient, slot=make_slot(), visit_type=staff_only, actor=patient.user)
    with pytest.raises(NotAllowed):
        services.visit_book_for_patient(patient=patient, slot=make_slot(80), visit_type=staff_only, actor=patient.user)


def test_the_front_desk_books_a_staff_only_type_through_the_api(desk, patient, make_slot, staff_only, front_desk):
    slot = make_slot()

    response = desk.post(f"{API}/visits/", {"patient": str(patient.pk), "slot": str(slot.pk), "visit_type": str(staff_only.pk)},
                         format="json", HTTP_IDEMPOTENCY_KEY="desk-1")
    again = desk.post(f"{API}/visits/", {"patient": str(patient.pk), "slot": str(slot.pk), "visit_type": str(staff_only.pk)},
                      format="json", HTTP_IDEMPOTENCY_KEY="desk-1")

    assert response.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == response.json()["id"]
    visit = Visit.objects.get()
    assert visit.created_by == front_desk and visit.visit_type == staff_only
    assert channels("visit_booked", patient) == [Channel.EMAIL, Channel.SMS]  # once, despite the replay
    assert reminder_offsets(visit) == [H2, H48]


def test_an_integrator_books_a_staff_only_type_for_a_yellow_request(integrator, patient, make_slot, staff_only, make_request):
    request = make_request(severity=Severity.YELLOW, visit_type=None)

    response = integrator.post(f"{API}/visits/", {"patient": str(patient.pk), "slot": str(make_slot().pk),
                                                  "visit_type": str(staff_only.pk), "request": str(request.pk)}, format="json")

    assert response.status_code == 201, response.json()
    request.refresh_from_db()
    assert request.status == VisitRequest.Status.CONVERTED_TO_VISIT and request.visit_type == staff_only


def test_the_clinic_cannot_book_for_a_patient_with_an_open_red_request(integrator, patient, make_slot, staff_only,
                                                                       make_request):
    make_request(severity=Severity.RED)
    slot = make_slot()

    assert_error(integrator.post(f"{API}/visits/", {"patient": str(patient.pk), "slot": str(slot.pk),
                                                    "visit_type": str(staff_only.pk)}, format="json"),
                 400, "emergency_care_required")
    slot.refresh_from_db()
    assert slot.status == VisitSlot.Status.FREE and not OutboundMessage.objects.exists()


def test_the_clinic_cannot_book_an_orange_request_before_review(patient, make_slot, staff_only, make_request, front_desk):
    request = make_request(severity=Severity.ORANGE)
    with pytest.raises(ReviewRequired):
        services.visit_book_for_patient(patient=patient, slot=make_slot(), visit_type=staff_only, actor=front_desk,
                                        request=request)


def test_the_clinic_books_only_types_the_slot_suits(integrator, patient, make_slot, provider):
    video = VisitTypeFactory(self_bookable=False, mode=Mode.VIRTUAL)
    provider.visit_types.add(video)

    assert_error(integrator.post(f"{API}/visits/", {"patient": str(patient.pk), "slot": str(make_slot().pk),
                                                    "visit_type": str(video.pk)}, format="json"), 400, "slot_does_not_fit")


def test_red_is_refused_at_the_service_too(patient, make_slot, staff_only, make_request):
    make_request(severity=Severity.RED)
    with pytest.raises(EmergencyCareRequired):
        services.visit_book_for_patient(patient=patient, slot=make_slot(), visit_type=staff_only, for_clinic=True)


# --- staff pages show a patient's confirmation ----------------------------------------------

def test_the_visit_page_shows_the_confirmation(client_for, front_desk, booked):
    visit = booked()
    services.visit_confirm(visit=visit, actor=None, as_patient=visit.patient)

    page = client_for(front_desk).get(f"/staff/scheduling/visits/{visit.pk}/")

    assert page.status_code == 200 and "By the patient" in page.content.decode()


# --- the demo --------------------------------------------------------------------------------

def test_the_demo_books_a_visit_whose_reminder_reaches_the_local_sms_outbox(db, settings):
    """seed_demo books patient@clinic.test about 2.5 h ahead when the clinic is open (the next
    free slot otherwise); the worker's delivery run then puts the notice in the local SMS
    outbox at once and the 2 h reminder at its time."""
    settings.MESSAGING_SMS_BACKEND = ""  # no Twilio credentials: the local outbox
    seed_demo()
    seed_demo()  # idempotent: still the same visits

    # Planned in-person visits: the telehealth demo adds a video visit, billing a completed one.
    visits = list(Visit.objects.filter(patient__user__email="patient@clinic.test").exclude(mode="VIRTUAL").filter(status="PLANNED").order_by("start"))
    # The one with reminders soon, and one far enough ahead to change; when the soon one is
    # itself past the cancellation window (seeded on a Friday evening: Monday morning), it is
    # both, and the demo books no second one.
    window_end = timezone.now() + datetime.timedelta(hours=settings.SCHEDULING_CANCELLATION_WINDOW_HOURS)
    assert len(visits) == (1 if visits[0].start > window_end else 2)
    assert visits[-1].start > window_end
    visit = visits[0]
    assert visit.start > timezone.now() + datetime.timedelta(hours=2)
    run_due()
    notices = SmsOutboxEntry.objects.filter(to=visit.patient.phone).values_list("body", flat=True)
    # One "booked" text per demo visit (other apps' demo data text the patient too: a lab result...).
    assert len([body for body in notices if "booked" in body]) >= 2
    run_due(now=visit.start - H2 + datetime.timedelta(seconds=1))
    texts = list(SmsOutboxEntry.objects.filter(to=visit.patient.phone).values_list("body", flat=True))
    assert len(texts) >= 2 and any("reminder" in t for t in texts)  # 2 h (and 48 h when booked that far ahead)


def test_during_clinic_hours_the_demo_visit_is_two_and_a_half_hours_ahead(db):
    seed_demo()
    # A weekday morning next week, 10:00 in the clinic's timezone: Dr. Shah works 08:00-17:00.
    local = timezone.now().astimezone(NY) + datetime.timedelta(days=7)
    local = local - datetime.timedelta(days=local.weekday()) + datetime.timedelta(days=2)  # a Wednesday
    morning = local.replace(hour=10, minute=0, second=0, microsecond=0)

    seed_upcoming_visit(now=morning)

    visit = Visit.objects.filter(patient__user__email="patient@clinic.test").order_by("-start").first()
    assert visit.start == morning + datetime.timedelta(hours=2, minutes=30)
    assert reminder_offsets(visit) == [H2, H48]


def test_the_demo_patient_can_cancel_or_reschedule_their_later_demo_visit_online(db, client_for):
    seed_demo()
    later = Visit.objects.filter(patient__user__email="patient@clinic.test").order_by("-start").first()
    assert later.start - timezone.now() > datetime.timedelta(hours=settings.SCHEDULING_CANCELLATION_WINDOW_HOURS)

    client = client_for(later.patient.user)
    cancel = client.get(f"/portal/schedule/visits/{later.pk}/cancel/")
    reschedule = client.get(f"/portal/schedule/visits/{later.pk}/reschedule/")

    assert cancel.status_code == 200 and 'name="reason"' in cancel.content.decode()
    assert reschedule.status_code == 200 and "inside_cancellation_window" not in reschedule.content.decode()
    assert "inside_cancellation_window" not in cancel.content.decode()
