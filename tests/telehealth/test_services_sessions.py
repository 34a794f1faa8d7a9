"""The session follows its VIRTUAL visit, and the visit moves with the session through
scheduling's own services."""
import datetime

import pytest
from django.utils import timezone

from apps.core.exceptions import InvalidTransition
from apps.scheduling.models import Mode, Visit
from apps.scheduling.services import visit_cancel, visit_reschedule
from apps.telehealth import services
from apps.telehealth.exceptions import NotYetOpen, SessionClosed
from apps.telehealth.models import SessionEvent, TelehealthSession, WaitingRoomEntry
from tests.consents.factories import verified
from tests.factories import StaffFactory
from tests.scheduling.factories import SlotFactory
from tests.telehealth.factories import admitted, in_call, session_for, virtual_visit, waiting

pytestmark = pytest.mark.django_db
S = TelehealthSession.Status


def test_booking_a_virtual_visit_creates_one_scheduled_session_with_an_event(patient):
    visit = virtual_visit(patient)
    session = TelehealthSession.objects.get(visit=visit)
    assert session.status == S.SCHEDULED
    assert (session.patient_id, session.provider_id) == (visit.patient_id, visit.provider_id)
    assert (session.scheduled_start, session.scheduled_end) == (visit.start, visit.end)
    assert session.modifier == "95" and session.video_provider == ""
    assert len(session.room_name) >= 20
    assert list(SessionEvent.objects.filter(session=session).values_list("from_status", "to_status")) == [("", "SCHEDULED")]


def test_an_in_person_visit_gets_no_session(patient):
    from tests.scheduling.factories import ProviderFactory, VisitTypeFactory
    from apps.scheduling.services import visit_book_for_patient

    provider = ProviderFactory()
    visit_type = VisitTypeFactory(mode=Mode.IN_PERSON)
    provider.visit_types.add(visit_type)
    slot = SlotFactory(provider=provider, mode=Mode.IN_PERSON)
    visit_book_for_patient(patient=patient, slot=slot, visit_type=visit_type, actor=StaffFactory())
    assert TelehealthSession.objects.count() == 0


def test_the_session_is_unique_per_visit_in_the_database(patient):
    from django.db import IntegrityError, transaction

    session = session_for(patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        TelehealthSession.objects.create(visit=session.visit, patient=session.patient, provider=session.provider,
                                         scheduled_start=session.scheduled_start, scheduled_end=session.scheduled_end)


def test_cancelling_the_visit_cancels_the_session_and_a_waiting_entry(patient):
    session = session_for(patient, minutes_ahead=5)
    entry = waiting(session)
    visit_cancel(visit=session.visit, actor=StaffFactory(), reason="Clinic closed")
    session.refresh_from_db()
    entry.refresh_from_db()
    assert session.status == S.CANCELLED
    assert entry.status == WaitingRoomEntry.Status.LEFT


def test_rescheduling_the_visit_moves_the_session(patient):
    session = session_for(patient, minutes_ahead=60 * 48)
    new_start = session.scheduled_start + datetime.timedelta(days=1)
    new_slot = SlotFactory(provider=session.provider, location=session.visit.location, mode=Mode.VIRTUAL, start=new_start,
                           end=new_start + datetime.timedelta(minutes=30))
    visit_reschedule(visit=session.visit, new_slot=new_slot, actor=StaffFactory())
    session.refresh_from_db()
    assert session.scheduled_start == new_start


def test_the_waiting_room_refuses_before_it_opens_with_the_opening_time(patient):
    session = session_for(patient, minutes_ahead=60)
    with pytest.raises(NotYetOpen) as refused:
        services.waiting_room_enter(session=session, actor=patient.user)
    assert refused.value.code == "waiting_room_not_open" and refused.value.status_code == 409
    assert refused.value.extra["opens_at"] == (session.scheduled_start - datetime.timedelta(minutes=15)).isoformat()
    assert not WaitingRoomEntry.objects.exists()


def test_entering_creates_the_room_with_the_builtin_provider_and_moves_the_session_to_waiting(patient):
    session = session_for(patient)
    entry = services.waiting_room_enter(session=session, actor=patient.user)
    again = services.waiting_room_enter(session=session, actor=patient.user)
    session.refresh_from_db()
    assert again.pk == entry.pk  # a reload or a second tab is the same stay
    assert session.status == S.WAITING and session.video_provider == "BUILTIN" and session.provider_fallbacks == []


def test_admission_checks_the_visit_in_and_sets_place_of_service_10_at_home(patient):
    session = admitted(session_for(patient), at_home=True)
    visit = Visit.objects.get(pk=session.visit_id)
    assert visit.status == Visit.Status.CHECKED_IN
    assert (session.patient_state, session.place_of_service) == ("NY", "10")


def test_place_of_service_is_02_when_the_patient_is_not_at_home(patient):
    session = admitted(session_for(patient), at_home=False)
    assert session.place_of_service == "02"


def test_start_and_end_move_the_visit_through_scheduling_and_keep_quality(patient):
    session = in_call(session_for(patient))
    assert session.status == S.IN_PROGRESS and session.actual_start is not None
    assert Visit.objects.get(pk=session.visit_id).status == Visit.Status.IN_PROGRESS
    provider = verified(session.provider.user)
    services.session_save_quality(session=session, actor=provider, metrics={"rtt_ms": 31.5, "packet_loss_pct": 0.2,
                                                                            "bitrate_kbps": 900, "bogus": "x"})
    services.session_save_quality(session=session, actor=patient.user, metrics={"rtt_ms": 33, "bytes_received": 12345})
    services.session_end(session=session, actor=provider)
    session.refresh_from_db()
    assert session.status == S.COMPLETED and session.actual_end is not None
    assert Visit.objects.get(pk=session.visit_id).status == Visit.Status.COMPLETED
    assert session.quality["provider"]["rtt_ms"] == 31.5 and "bogus" not in session.quality["provider"]
    assert session.quality["patient"]["bytes_received"] == 12345
    transitions = list(SessionEvent.objects.filter(session=session).exclude(from_status="").values_list("from_status", "to_status"))
    assert ("WAITING", "IN_PROGRESS") in transitions and ("IN_PROGRESS", "COMPLETED") in transitions


def test_technical_issues_end_the_session_and_leave_the_visit_for_rebooking(patient):
    session = in_call(session_for(patient))
    services.session_mark_technical_issues(session=session, actor=verified(session.provider.user), reason="No audio")
    session.refresh_from_db()
    assert session.status == S.TECHNICAL_ISSUES and session.end_reason == "No audio"
    assert Visit.objects.get(pk=session.visit_id).status == Visit.Status.IN_PROGRESS
    with pytest.raises(InvalidTransition):
        services.session_end(session=session, actor=verified(session.provider.user))


def test_a_closed_session_refuses_the_waiting_room(patient):
    session = session_for(patient)
    visit_cancel(visit=session.visit, actor=StaffFactory())
    session.refresh_from_db()
    with pytest.raises(SessionClosed):
        services.waiting_room_enter(session=session, actor=patient.user)


def test_leaving_sends_the_session_back_to_scheduled_and_a_return_is_a_new_stay(patient):
    session = session_for(patient)
    first = waiting(session)
    services.waiting_room_leave(session=session, actor=patient.user)
    session.refresh_from_db()
    first.refresh_from_db()
    assert first.status == WaitingRoomEntry.Status.LEFT and session.status == S.SCHEDULED
    second = services.waiting_room_enter(session=session, actor=patient.user)
    assert second.pk != first.pk and second.status == WaitingRoomEntry.Status.WAITING


def test_the_device_check_verdict_names_what_failed(patient):
    session = session_for(patient)
    services.waiting_room_enter(session=session, actor=patient.user)
    entry = services.waiting_room_device_check(session=session, actor=patient.user,
                                               data={"camera": False, "microphone": True, "rtt_ms": 5000})
    assert entry.device_ok is False and entry.device_check["problems"] == ["camera", "connection"]
    entry = services.waiting_room_device_check(session=session, actor=patient.user,
                                               data={"camera": True, "microphone": True, "rtt_ms": 30, "download_kbps": 5000})
    assert entry.device_ok is True


def test_running_late_is_stored_for_the_waiting_patient(patient, provider_user):
    session = session_for(patient)
    waiting(session)
    entry = services.waiting_room_running_late(session=session, actor=verified(provider_user), minutes=15)
    assert "15 minutes" in entry.late_message and entry.late_notified_at <= timezone.now()
