"""Two-way SMS C/YES and X/CANCEL, end to end: a signed Twilio webhook, scheduling's handlers
(apps/scheduling/sms_actions.py, the default settings), the visit confirmed or cancelled
within the cancellation window, and one answer SMS delivered to the local outbox."""
import datetime
import itertools

import pytest
from django.utils import timezone

from apps.messaging.models import Channel, InboundSms, OutboundMessage, SmsOutboxEntry
from apps.scheduling import services
from apps.scheduling.models import Visit, VisitEvent, VisitSlot
from apps.scheduling.services._common import local_text
from tests.factories import PatientFactory
from tests.messaging.outbox_helpers import no_kick, run_due, signed_post, twilio_settings  # noqa: F401
from tests.scheduling.factories import LocationFactory, ProviderFactory, SlotFactory, VisitTypeFactory

pytestmark = pytest.mark.usefixtures("no_kick", "twilio_settings")
INBOUND = "/webhooks/twilio/sms/"
_sid = itertools.count()


@pytest.fixture
def location(db):
    return LocationFactory(name="Main Street", phone="+12125550199")


@pytest.fixture
def visit_type(db):
    return VisitTypeFactory()


@pytest.fixture
def book(location, visit_type, front_desk):
    """book(patient, hours_from_now) -> a PLANNED visit booked by the front desk."""
    provider = ProviderFactory(offers=[visit_type])

    def make(patient, hours_from_now=72):
        start = (timezone.now() + datetime.timedelta(hours=hours_from_now)).replace(second=0, microsecond=0)
        slot = SlotFactory(provider=provider, location=location, start=start, end=start + datetime.timedelta(minutes=30))
        return services.visit_book_for_patient(patient=patient, slot=slot, visit_type=visit_type, actor=front_desk)

    return make


def text(client, patient, body, sid=None):
    params = {"MessageSid": sid or f"SMin{next(_sid)}", "From": patient.phone, "To": "+12125550100", "Body": body,
              "AccountSid": "AC" + "0" * 32}
    response = signed_post(client, INBOUND, params)
    assert response.status_code == 200 and b"<Response></Response>" in response.content  # answered through the outbox
    return InboundSms.objects.get(sid=params["MessageSid"])


def answer(inbound):
    """Deliver what is due; the answer SMS the patient got for `inbound`."""
    run_due()
    return SmsOutboxEntry.objects.get(message_id=inbound.reply_id).body


def test_scheduling_answers_messagings_sms_hooks():
    from apps.messaging import reminders, two_way
    from apps.scheduling import selectors, sms_actions

    assert two_way.sms_confirm.receivers == (sms_actions.sms_confirm_next_visit,)
    assert two_way.sms_cancel.receivers == (sms_actions.sms_cancel_next_visit,)
    assert reminders.reminder_visit_check.receivers == (selectors.visit_reminder_wanted,)


@pytest.mark.parametrize("body", ["C", "yes", "Confirm."])
def test_c_confirms_the_next_visit_and_answers_with_its_time(client, patient, book, location, body):
    later = book(patient, hours_from_now=120)
    visit = book(patient, hours_from_now=72)

    inbound = text(client, patient, body)

    visit.refresh_from_db()
    later.refresh_from_db()
    assert visit.confirmed_at is not None and later.confirmed_at is None and visit.status == Visit.Status.PLANNED
    assert VisitEvent.objects.filter(visit=visit, reason="Confirmed by the patient", data__source="sms").count() == 1
    reply = answer(inbound)
    assert "is confirmed" in reply and local_text(visit.start, location) in reply and "Main Street" in reply
    assert inbound.action == "confirm" and inbound.status == InboundSms.Status.PROCESSED


def test_confirming_twice_keeps_the_first_confirmation(client, patient, book):
    visit = book(patient)
    text(client, patient, "C")
    visit.refresh_from_db()
    first = visit.confirmed_at

    second = text(client, patient, "YES")

    visit.refresh_from_db()
    assert visit.confirmed_at == first and "is confirmed" in answer(second)
    assert VisitEvent.objects.filter(visit=visit, reason="Confirmed by the patient").count() == 1


def test_c_without_an_upcoming_visit_says_so(client, patient):
    assert "could not find an upcoming visit to confirm" in answer(text(client, patient, "C"))


@pytest.mark.parametrize("body", ["X", "cancel"])
def test_x_cancels_the_next_visit_outside_the_window(client, patient, book, location, front_desk, body):
    visit = book(patient, hours_from_now=72)

    inbound = text(client, patient, body)

    visit.refresh_from_db()
    assert visit.status == Visit.Status.CANCELLED and not visit.late_cancel and visit.cancelled_by == patient.user
    assert VisitSlot.objects.get(pk=visit.slot_id).status == VisitSlot.Status.FREE
    reply = answer(inbound)
    assert "is cancelled" in reply and local_text(visit.start, location) in reply
    # The answer is the confirmation: the cancel notice goes by email only, no second SMS.
    assert sorted(OutboundMessage.objects.filter(kind="visit_cancelled").values_list("channel", flat=True)) == [Channel.EMAIL]
    assert [e.body for e in SmsOutboxEntry.objects.filter(to=patient.phone) if "cancel" in e.body] == [reply]
    assert not OutboundMessage.objects.filter(kind="visit_reminder", status=OutboundMessage.Status.PENDING).exists()
    assert front_desk.notifications.filter(kind="visit_cancelled").exists()


def test_x_inside_the_cancellation_window_is_refused_with_the_clinic_phone(client, patient, book, location, settings):
    visit = book(patient, hours_from_now=settings.SCHEDULING_CANCELLATION_WINDOW_HOURS - 2)

    inbound = text(client, patient, "X")

    visit.refresh_from_db()
    assert visit.status == Visit.Status.PLANNED
    reply = answer(inbound)
    assert location.phone in reply and "cannot be cancelled by text" in reply
    assert OutboundMessage.objects.filter(kind="visit_reminder", status=OutboundMessage.Status.PENDING).exists()


def test_x_works_for_a_patient_without_a_portal_login(client, book):
    offline = PatientFactory()
    visit = book(offline, hours_from_now=72)

    inbound = text(client, offline, "X")

    visit.refresh_from_db()
    assert visit.status == Visit.Status.CANCELLED and visit.cancelled_by is None
    assert "is cancelled" in answer(inbound)


def test_c_works_for_a_patient_without_a_portal_login(client, book):
    offline = PatientFactory()
    visit = book(offline)

    text(client, offline, "C")

    visit.refresh_from_db()
    assert visit.confirmed_at is not None


def test_a_replayed_webhook_acts_and_answers_once(client, patient, book):
    later = book(patient, hours_from_now=120)
    visit = book(patient, hours_from_now=72)

    text(client, patient, "X", sid="SMreplay")
    text(client, patient, "X", sid="SMreplay")

    visit.refresh_from_db()
    later.refresh_from_db()
    assert visit.status == Visit.Status.CANCELLED and later.status == Visit.Status.PLANNED
    assert OutboundMessage.objects.filter(kind__startswith="sms_reply").count() == 1


def test_another_patients_visit_is_never_touched(client, patient, other_patient, book):
    theirs = book(other_patient)

    inbound = text(client, patient, "X")

    theirs.refresh_from_db()
    assert theirs.status == Visit.Status.PLANNED
    assert "could not find an upcoming visit to cancel" in answer(inbound)


def test_the_day_schedule_shows_the_confirmation(client, client_for, patient, book, front_desk, location):
    visit = book(patient, hours_from_now=72)
    day = visit.start.astimezone(location.tzinfo).date().isoformat()
    staff = client_for(front_desk)
    assert '<span class="pill">Confirmed</span>' not in staff.get("/staff/scheduling/day/", {"provider": visit.provider_id, "date": day}).content.decode()

    text(client, patient, "C")

    page = staff.get("/staff/scheduling/day/", {"provider": visit.provider_id, "date": day})
    assert page.status_code == 200
    assert '<span class="pill">Confirmed</span>' in page.content.decode()
