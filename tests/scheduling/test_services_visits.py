"""Direct booking, the visit lifecycle, cancellation window, rescheduling."""
import datetime

import pytest
from django.utils import timezone

from apps.core.exceptions import InvalidTransition, NotFound
from apps.scheduling import services
from apps.scheduling.exceptions import (
    CancellationWindowClosed, EmergencyCareRequired, HoldExpired, IdempotencyKeyReused, NotAllowed, SlotUnavailable,
)
from apps.scheduling.models import Severity, Visit, VisitRequest, VisitSlot
from apps.scheduling.selectors import attendance_counts, slots_with_two_active_visits
from tests.scheduling.factories import VisitTypeFactory

V = Visit.Status


def test_hold_then_confirm_books_the_slot(make_slot, patient, visit_type, settings):
    settings.SCHEDULING_DIRECT_HOLD_MINUTES = 5
    slot = make_slot()
    held = services.booking_hold(patient=patient, slot=slot, visit_type=visit_type, actor=patient.user)
    assert held.status == "HELD" and held.hold_kind == "DIRECT"
    assert held.held_until - timezone.now() <= datetime.timedelta(minutes=5)

    visit = services.booking_confirm(patient=patient, slot=slot, hold_token=held.hold_token, visit_type=visit_type,
                                     idempotency_key="k1", actor=patient.user)

    slot.refresh_from_db()
    assert slot.status == "BOOKED" and slot.hold_token is None
    assert (visit.status, visit.patient, visit.slot) == (V.PLANNED, patient, slot)
    assert [(e.from_status, e.to_status) for e in slot.events.all()] == [("FREE", "HELD"), ("HELD", "BOOKED")]
    assert patient.user.notifications.get().kind == "visit_booked"


def test_repeated_confirm_with_the_same_key_returns_the_same_visit(make_slot, patient, visit_type):
    slot = make_slot()
    held = services.booking_hold(patient=patient, slot=slot, visit_type=visit_type)
    first = services.booking_confirm(patient=patient, slot=slot, hold_token=held.hold_token, visit_type=visit_type, idempotency_key="abc")
    again = services.booking_confirm(patient=patient, slot=slot, hold_token=held.hold_token, visit_type=visit_type, idempotency_key="abc")
    assert again.pk == first.pk
    assert Visit.objects.count() == 1


def test_one_step_booking_is_idempotent(make_slot, patient, visit_type):
    slot = make_slot()
    first = services.booking_create(patient=patient, slot=slot, visit_type=visit_type, idempotency_key="key-1")
    again = services.booking_create(patient=patient, slot=slot, visit_type=visit_type, idempotency_key="key-1")
    assert again.pk == first.pk
    with pytest.raises(IdempotencyKeyReused):
        services.booking_create(patient=patient, slot=make_slot(80), visit_type=visit_type, idempotency_key="key-1")


def test_booking_a_taken_slot_returns_409(make_slot, patient, other_patient, visit_type):
    slot = make_slot()
    services.booking_create(patient=patient, slot=slot, visit_type=visit_type)
    with pytest.raises(SlotUnavailable) as info:
        services.booking_create(patient=other_patient, slot=slot, visit_type=visit_type)
    assert info.value.status_code == 409 and info.value.code == "slot_unavailable"
    assert not slots_with_two_active_visits().exists()


def test_confirming_an_expired_hold_returns_409(make_slot, patient, visit_type):
    slot = make_slot()
    held = services.booking_hold(patient=patient, slot=slot, visit_type=visit_type)
    with pytest.raises(HoldExpired):
        services.booking_confirm(patient=patient, slot=slot, hold_token=held.hold_token, visit_type=visit_type,
                                 now=timezone.now() + datetime.timedelta(minutes=6))
    services.offers_expire(now=timezone.now() + datetime.timedelta(minutes=6))
    slot.refresh_from_db()
    assert slot.status == "FREE"
    with pytest.raises(HoldExpired):
        services.booking_confirm(patient=patient, slot=slot, hold_token=held.hold_token, visit_type=visit_type)


def test_someone_elses_hold_cannot_be_confirmed(make_slot, patient, other_patient, visit_type):
    slot = make_slot()
    held = services.booking_hold(patient=patient, slot=slot, visit_type=visit_type)
    with pytest.raises(SlotUnavailable):
        services.booking_confirm(patient=other_patient, slot=slot, hold_token=held.hold_token, visit_type=visit_type)


def test_release_frees_the_hold(make_slot, patient, visit_type):
    slot = make_slot()
    held = services.booking_hold(patient=patient, slot=slot, visit_type=visit_type)
    assert services.booking_release(patient=patient, slot=slot, hold_token=held.hold_token) is True
    assert services.booking_release(patient=patient, slot=slot, hold_token=held.hold_token) is False
    slot.refresh_from_db()
    assert slot.status == "FREE"


def test_only_self_bookable_types(make_slot, patient, provider):
    staff_only = VisitTypeFactory(self_bookable=False)
    provider.visit_types.add(staff_only)
    with pytest.raises(NotAllowed) as info:
        services.booking_create(patient=patient, slot=make_slot(), visit_type=staff_only)
    assert info.value.code == "not_self_bookable"


@pytest.mark.parametrize("severity,error", [
    (Severity.RED, EmergencyCareRequired), (Severity.ORANGE, NotAllowed), (Severity.YELLOW, NotAllowed),
])
def test_only_green_requests_self_book(make_slot, make_request, patient, visit_type, severity, error):
    request = make_request(severity=severity, reviewed_at=timezone.now())
    with pytest.raises(error):
        services.booking_create(patient=patient, slot=make_slot(), visit_type=visit_type, request=request)


def test_open_red_request_blocks_any_self_booking(make_slot, make_request, patient, visit_type):
    make_request(severity=Severity.RED, status="NEW")
    with pytest.raises(EmergencyCareRequired):
        services.booking_hold(patient=patient, slot=make_slot(), visit_type=visit_type)


def test_green_request_is_converted_by_self_booking(make_slot, patient, visit_type):
    request = services.visit_request_create(patient=patient, reason="Checkup").request
    visit = services.booking_create(patient=patient, slot=make_slot(), visit_type=visit_type, request=request)
    request.refresh_from_db()
    assert request.status == VisitRequest.Status.CONVERTED_TO_VISIT
    assert visit.request == request
    assert [e.to_status for e in request.events.all()] == ["NEW", "TRIAGED", "CONVERTED_TO_VISIT"]


def test_virtual_visit_needs_a_provider_licensed_in_the_patients_state(make_slot, patient, provider):
    video = VisitTypeFactory(mode="VIRTUAL")
    provider.visit_types.add(video)
    patient.state = "CA"
    patient.save()
    with pytest.raises(services.SlotDoesNotFit):
        services.booking_create(patient=patient, slot=make_slot(mode="VIRTUAL"), visit_type=video)
    patient.state = "NY"
    patient.save()
    services.booking_create(patient=patient, slot=make_slot(80, mode="VIRTUAL"), visit_type=video)


# --- lifecycle ------------------------------------------------------------------------------

@pytest.fixture
def planned(make_slot, patient, visit_type):
    return services.booking_create(patient=patient, slot=make_slot(hours_from_now=72), visit_type=visit_type)


def test_visit_runs_through_its_lifecycle_with_events(planned, front_desk, provider):
    services.visit_check_in(visit=planned, actor=front_desk)
    services.visit_start(visit=planned, actor=provider.user)
    visit = services.visit_complete(visit=planned, actor=provider.user)
    assert visit.status == V.COMPLETED and visit.checked_in_at and visit.started_at and visit.completed_at
    assert [e.to_status for e in visit.events.all()] == ["PLANNED", "CHECKED_IN", "IN_PROGRESS", "COMPLETED"]


def test_visit_cannot_skip_states(planned, provider):
    with pytest.raises(InvalidTransition):
        services.visit_complete(visit=planned, actor=provider.user)


def test_no_show_only_after_start_and_is_counted(planned, front_desk, patient):
    with pytest.raises(Exception) as info:
        services.visit_mark_no_show(visit=planned, actor=front_desk)
    assert info.value.status_code == 409
    services.visit_mark_no_show(visit=planned, actor=front_desk, now=planned.start + datetime.timedelta(minutes=20))
    assert attendance_counts(patient) == {"late_cancels": 0, "no_shows": 1}


def test_patient_cancels_outside_the_window(planned, patient, front_desk):
    services.visit_cancel(visit=planned, actor=patient.user, reason="Travelling")
    planned.refresh_from_db()
    assert planned.status == V.CANCELLED and planned.late_cancel is False
    assert planned.slot.status == "FREE"
    assert patient.user.notifications.filter(kind="visit_cancelled").exists()
    assert front_desk.notifications.filter(kind="visit_cancelled").exists()


def test_patient_cannot_cancel_inside_the_window(planned, patient, settings):
    settings.SCHEDULING_CANCELLATION_WINDOW_HOURS = 24
    inside = planned.start - datetime.timedelta(hours=2)
    with pytest.raises(CancellationWindowClosed) as info:
        services.visit_cancel(visit=planned, actor=patient.user, now=inside)
    assert info.value.code == "inside_cancellation_window"
    planned.refresh_from_db()
    assert planned.status == V.PLANNED


def test_staff_cancel_inside_the_window_is_recorded_as_late(planned, front_desk, patient):
    services.visit_cancel(visit=planned, actor=front_desk, reason="Patient phoned", now=planned.start - datetime.timedelta(hours=2))
    planned.refresh_from_db()
    assert planned.late_cancel is True and planned.cancelled_by == front_desk
    assert planned.events.last().data == {"late": True, "by_staff": True}
    assert attendance_counts(patient) == {"late_cancels": 1, "no_shows": 0}


def test_another_patient_cannot_cancel(planned, other_patient):
    with pytest.raises(NotFound):
        services.visit_cancel(visit=planned, actor=other_patient.user)


def test_reschedule_moves_the_visit_atomically(planned, make_slot, patient):
    old_slot = planned.slot
    new_slot = make_slot(hours_from_now=96)

    visit = services.visit_reschedule(visit=planned, new_slot=new_slot, actor=patient.user)

    old_slot.refresh_from_db(), new_slot.refresh_from_db()
    assert (old_slot.status, new_slot.status) == ("FREE", "BOOKED")
    assert (visit.slot, visit.start) == (new_slot, new_slot.start)
    assert visit.events.last().data["from_slot"] == str(old_slot.pk)
    assert patient.user.notifications.filter(kind="visit_rescheduled").exists()


def test_reschedule_to_a_taken_slot_changes_nothing(planned, make_slot, patient, other_patient, visit_type):
    taken = make_slot(hours_from_now=96)
    services.booking_create(patient=other_patient, slot=taken, visit_type=visit_type)
    with pytest.raises(SlotUnavailable):
        services.visit_reschedule(visit=planned, new_slot=taken, actor=patient.user)
    planned.refresh_from_db()
    assert planned.slot.status == "BOOKED" and planned.status == V.PLANNED
    assert VisitSlot.objects.filter(status="BOOKED").count() == 2


def test_patient_cannot_reschedule_inside_the_window(planned, make_slot, patient):
    with pytest.raises(CancellationWindowClosed):
        services.visit_reschedule(visit=planned, new_slot=make_slot(100), actor=patient.user,
                                  now=planned.start - datetime.timedelta(hours=1))
