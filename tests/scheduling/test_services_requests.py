"""Visit requests: offers, accept/decline, expiry, walk-ins, waitlist."""
import datetime

import pytest
from django.utils import timezone

from apps.core.exceptions import InvalidTransition, ValidationFailed
from apps.scheduling import services
from apps.scheduling.exceptions import EmergencyCareRequired, OfferExpired, OfferNotOpen, SlotUnavailable
from apps.scheduling.models import Severity, Visit, VisitRequest, VisitSlot
from apps.scheduling.selectors import suggested_slots_for_request, triage_queue, walk_in_queue
from tests.scheduling.factories import PortalPatientFactory, VisitRequestFactory

S = VisitRequest.Status


def test_offer_holds_slots_until_the_deadline_and_notifies_the_patient(make_slot, make_request, front_desk, patient, settings):
    settings.SCHEDULING_OFFER_HOLD_HOURS = 24
    request = make_request()
    slots = [make_slot(hours_from_now=72 + i) for i in range(3)]
    before = timezone.now()

    services.visit_request_offer_slots(request=request, slots=slots, actor=front_desk)

    request.refresh_from_db()
    assert request.status == S.AWAITING_PATIENT_CONFIRMATION
    assert before + datetime.timedelta(hours=24) <= request.offer_expires_at <= timezone.now() + datetime.timedelta(hours=24)
    for slot in slots:
        slot.refresh_from_db()
        assert (slot.status, slot.held_for_request_id, slot.hold_kind) == ("HELD", request.pk, "OFFER")
        assert slot.held_until == request.offer_expires_at
        assert slot.events.get().request_id == request.pk
    assert patient.user.notifications.get().kind == "offer_made"


@pytest.mark.parametrize("count", [0, 6])
def test_offer_takes_one_to_five_slots(make_slot, make_request, front_desk, count):
    with pytest.raises(ValidationFailed):
        services.visit_request_offer_slots(request=make_request(), slots=[make_slot(72 + i) for i in range(count)], actor=front_desk)


def test_offer_is_all_or_nothing_when_one_slot_is_taken(make_slot, make_request, front_desk):
    free, taken = make_slot(72), make_slot(73, status="BLOCKED")
    request = make_request()
    with pytest.raises(SlotUnavailable) as info:
        services.visit_request_offer_slots(request=request, slots=[free, taken], actor=front_desk)
    assert info.value.status_code == 409
    free.refresh_from_db()
    request.refresh_from_db()
    assert (free.status, request.status) == ("FREE", S.TRIAGED)


def test_offer_needs_a_triaged_request(make_slot, make_request, front_desk):
    with pytest.raises(InvalidTransition):
        services.visit_request_offer_slots(request=make_request(status=S.NEW), slots=[make_slot()], actor=front_desk)


def test_offer_refuses_a_slot_the_visit_type_does_not_fit(make_slot, make_request, front_desk):
    with pytest.raises(services.SlotDoesNotFit):
        services.visit_request_offer_slots(request=make_request(), slots=[make_slot(mode="VIRTUAL")], actor=front_desk)


def test_yellow_is_offered_slots_within_48_hours_only(make_slot, make_request, front_desk):
    request = make_request(severity=Severity.YELLOW)
    with pytest.raises(ValidationFailed):
        services.visit_request_offer_slots(request=request, slots=[make_slot(hours_from_now=60)], actor=front_desk)
    soon = make_slot(hours_from_now=20)
    assert suggested_slots_for_request(request) == [soon]
    services.visit_request_offer_slots(request=request, slots=[soon], actor=front_desk)


def test_offer_hold_never_outlasts_the_slot_start(make_slot, make_request, front_desk):
    slot = make_slot(hours_from_now=3)
    services.visit_request_offer_slots(request=make_request(), slots=[slot], actor=front_desk)
    slot.refresh_from_db()
    assert slot.held_until == slot.start


def test_accept_books_one_releases_the_others_and_converts(make_slot, make_request, front_desk, patient):
    request = make_request()
    chosen, other = make_slot(72), make_slot(73)
    services.visit_request_offer_slots(request=request, slots=[chosen, other], actor=front_desk)

    visit = services.visit_request_accept_offer(request=request, slot=chosen, actor=patient.user)

    chosen.refresh_from_db(), other.refresh_from_db(), request.refresh_from_db()
    assert (chosen.status, other.status) == ("BOOKED", "FREE")
    assert (visit.status, visit.slot, visit.request) == (Visit.Status.PLANNED, chosen, request)
    assert request.status == S.CONVERTED_TO_VISIT
    assert visit.provider == chosen.provider and visit.start == chosen.start
    assert [e.to_status for e in request.events.all()] == ["AWAITING_PATIENT_CONFIRMATION", "CONVERTED_TO_VISIT"]
    assert patient.user.notifications.first().kind == "visit_booked"


def test_accepting_an_expired_offer_returns_409_before_the_job_ran(make_slot, make_request, front_desk, patient):
    request = make_request()
    slot = make_slot()
    services.visit_request_offer_slots(request=request, slots=[slot], actor=front_desk)
    later = timezone.now() + datetime.timedelta(hours=25)

    with pytest.raises(OfferExpired) as info:
        services.visit_request_accept_offer(request=request, slot=slot, actor=patient.user, now=later)

    assert info.value.status_code == 409
    assert "expired" in info.value.message
    slot.refresh_from_db()
    assert slot.status == "HELD"  # the job releases it; the accept changed nothing


def test_accepting_a_released_offer_returns_409(make_slot, make_request, front_desk, patient):
    request = make_request()
    slot = make_slot()
    services.visit_request_offer_slots(request=request, slots=[slot], actor=front_desk)
    services.visit_request_decline_offer(request=request, actor=patient.user)
    with pytest.raises(OfferNotOpen) as info:
        services.visit_request_accept_offer(request=request, slot=slot, actor=patient.user)
    assert info.value.status_code == 409


def test_accepting_a_slot_that_was_not_offered_returns_409(make_slot, make_request, front_desk, patient):
    request = make_request()
    services.visit_request_offer_slots(request=request, slots=[make_slot(72)], actor=front_desk)
    with pytest.raises(OfferNotOpen):
        services.visit_request_accept_offer(request=request, slot=make_slot(74), actor=patient.user)


def test_decline_releases_everything_and_tells_staff(make_slot, make_request, front_desk, nurse, patient):
    request = make_request()
    slots = [make_slot(72), make_slot(73)]
    services.visit_request_offer_slots(request=request, slots=slots, actor=front_desk)

    services.visit_request_decline_offer(request=request, actor=patient.user, reason="None of these work")

    request.refresh_from_db()
    assert request.status == S.TRIAGED and request.offer_expires_at is None
    assert set(VisitSlot.objects.filter(pk__in=[s.pk for s in slots]).values_list("status", flat=True)) == {"FREE"}
    assert front_desk.notifications.filter(kind="offer_declined").exists()
    assert nurse.notifications.filter(kind="offer_declined").exists()


def test_expiry_job_releases_holds_and_notifies_both_sides(make_slot, make_request, front_desk, patient):
    request = make_request()
    slots = [make_slot(72), make_slot(73)]
    services.visit_request_offer_slots(request=request, slots=slots, actor=front_desk)

    assert services.offers_expire() == {"offers_expired": 0, "slots_released": 0}
    result = services.offers_expire(now=timezone.now() + datetime.timedelta(hours=24, seconds=1))

    assert result == {"offers_expired": 1, "slots_released": 2}
    request.refresh_from_db()
    assert request.status == S.TRIAGED
    assert request.events.last().reason == "Offer expired"
    assert patient.user.notifications.filter(kind="offer_expired").exists()
    assert front_desk.notifications.filter(kind="offer_expired").exists()
    assert services.offers_expire(now=timezone.now() + datetime.timedelta(hours=25)) == {"offers_expired": 0, "slots_released": 0}


def test_partially_expired_offer_keeps_the_later_slots(make_slot, make_request, front_desk, patient):
    request = make_request()
    soon, later = make_slot(hours_from_now=2), make_slot(hours_from_now=72)
    services.visit_request_offer_slots(request=request, slots=[soon, later], actor=front_desk)

    result = services.offers_expire(now=timezone.now() + datetime.timedelta(hours=2, minutes=1))

    assert result == {"offers_expired": 0, "slots_released": 1}
    soon.refresh_from_db()
    request.refresh_from_db()
    assert soon.status == "FREE" and request.status == S.AWAITING_PATIENT_CONFIRMATION
    with pytest.raises(OfferNotOpen):
        services.visit_request_accept_offer(request=request, slot=soon, actor=patient.user)
    assert services.visit_request_accept_offer(request=request, slot=later, actor=patient.user).slot == later


def test_reminder_is_sent_once_before_the_deadline(make_slot, make_request, front_desk, patient, settings):
    settings.SCHEDULING_OFFER_REMINDER_MINUTES = 120
    request = make_request()
    services.visit_request_offer_slots(request=request, slots=[make_slot()], actor=front_desk)

    assert services.offers_remind_expiring() == 0
    in_23h = timezone.now() + datetime.timedelta(hours=23)
    assert services.offers_remind_expiring(now=in_23h) == 1
    assert services.offers_remind_expiring(now=in_23h + datetime.timedelta(minutes=1)) == 0
    assert list(patient.user.notifications.values_list("kind", flat=True)) == ["offer_expiring_soon", "offer_made"]


def test_cancel_request(make_request, patient, front_desk):
    request = make_request(status=S.NEW)
    services.visit_request_cancel(request=request, actor=patient.user, reason="Feeling better")
    request.refresh_from_db()
    assert request.status == S.CANCELLED
    assert front_desk.notifications.filter(kind="request_cancelled").exists()
    with pytest.raises(InvalidTransition):
        services.visit_request_cancel(request=request, actor=patient.user)


# --- walk-ins -------------------------------------------------------------------------------

def test_walk_in_queue_orders_by_severity_then_arrival(location, front_desk):
    now = timezone.now()
    green_first = VisitRequestFactory(request_type="WALK_IN", location=location, severity="GREEN", created_at=now - datetime.timedelta(minutes=30))
    yellow = VisitRequestFactory(request_type="WALK_IN", location=location, severity="YELLOW", created_at=now - datetime.timedelta(minutes=5))
    orange = VisitRequestFactory(request_type="WALK_IN", location=location, severity="ORANGE", created_at=now - datetime.timedelta(minutes=1))
    green_later = VisitRequestFactory(request_type="WALK_IN", location=location, severity="GREEN", status="NEW", created_at=now)
    VisitRequestFactory(request_type="WALK_IN", location=location, severity="RED", status="CANCELLED")
    VisitRequestFactory(severity="RED")  # scheduled: not in the walk-in queue

    assert list(walk_in_queue(location=location)) == [orange, yellow, green_first, green_later]


def test_triage_queue_puts_yellow_ahead_of_older_green(make_request):
    green = make_request(created_at=timezone.now() - datetime.timedelta(days=1))
    yellow = make_request(severity=Severity.YELLOW)
    assert list(triage_queue()) == [yellow, green]


def test_assign_immediate_creates_a_checked_in_visit_now_and_notifies(patient, location, provider, visit_type, front_desk):
    outcome = services.visit_request_create_walk_in(patient=patient, location=location, reason="Sprained ankle", visit_type=visit_type)

    visit = services.visit_request_assign_immediate(request=outcome.request, provider=provider, actor=front_desk)

    request = VisitRequest.objects.get(pk=outcome.request.pk)
    assert request.status == S.CONVERTED_TO_VISIT
    assert [e.to_status for e in request.events.all()] == ["NEW", "TRIAGED", "CONVERTED_TO_VISIT"]
    assert (visit.slot, visit.is_walk_in, visit.provider, visit.status) == (None, True, provider, Visit.Status.CHECKED_IN)
    assert abs((visit.start - timezone.now()).total_seconds()) < 60
    assert visit.end - visit.start == datetime.timedelta(minutes=visit_type.duration_minutes)
    assert patient.user.notifications.filter(kind="visit_assigned").exists()


def test_red_walk_in_cannot_be_assigned(patient, location, provider, visit_type, front_desk, default_triage_rules):
    outcome = services.visit_request_create_walk_in(patient=patient, location=location, symptoms=["chest pain"], visit_type=visit_type)
    assert outcome.emergency
    with pytest.raises(EmergencyCareRequired):
        services.visit_request_assign_immediate(request=outcome.request, provider=provider, actor=front_desk)


def test_walk_in_needs_a_location(patient):
    with pytest.raises(ValidationFailed):
        services.visit_request_create(patient=patient, request_type="WALK_IN")


# --- waitlist -------------------------------------------------------------------------------

@pytest.fixture
def booked_visit(make_slot, make_request, front_desk, other_patient):
    slot = make_slot(hours_from_now=72)
    request = make_request(patient=other_patient)
    services.visit_request_offer_slots(request=request, slots=[slot], actor=front_desk)
    return services.visit_request_accept_offer(request=request, slot=slot, actor=other_patient.user)


def test_cancelled_slot_is_offered_to_the_best_waiting_request(booked_visit, make_request, front_desk):
    old_green = make_request(patient=PortalPatientFactory(), created_at=timezone.now() - datetime.timedelta(days=3))
    yellow_wrong_mode = make_request(patient=PortalPatientFactory(), severity=Severity.YELLOW, preferred_mode="VIRTUAL")
    red = make_request(patient=PortalPatientFactory(), severity=Severity.RED)
    orange_unreviewed = make_request(patient=PortalPatientFactory(), severity=Severity.ORANGE)
    new_green = make_request(patient=PortalPatientFactory())

    services.visit_cancel(visit=booked_visit, actor=front_desk, reason="Provider request")

    slot = VisitSlot.objects.get(pk=booked_visit.slot_id)
    assert (slot.status, slot.hold_kind, slot.held_for_request_id) == ("HELD", "WAITLIST", old_green.pk)
    old_green.refresh_from_db()
    assert old_green.status == S.AWAITING_PATIENT_CONFIRMATION
    assert old_green.patient.user.notifications.filter(kind="offer_made").exists()
    for other in (yellow_wrong_mode, red, orange_unreviewed, new_green):
        other.refresh_from_db()
        assert other.status == S.TRIAGED


def test_expired_waitlist_offer_goes_to_the_next_request(booked_visit, make_request, front_desk, settings):
    first = make_request(patient=PortalPatientFactory(), created_at=timezone.now() - datetime.timedelta(days=2))
    second = make_request(patient=PortalPatientFactory(), created_at=timezone.now() - datetime.timedelta(days=1))
    services.visit_cancel(visit=booked_visit, actor=front_desk)

    services.offers_expire(now=timezone.now() + datetime.timedelta(hours=settings.SCHEDULING_WAITLIST_HOLD_HOURS, minutes=1))

    first.refresh_from_db(), second.refresh_from_db()
    assert first.status == S.TRIAGED
    assert second.status == S.AWAITING_PATIENT_CONFIRMATION
    slot = VisitSlot.objects.get(pk=booked_visit.slot_id)
    assert slot.held_for_request_id == second.pk

    # and once everyone had it, it stays FREE
    services.visit_request_decline_offer(request=second, actor=second.patient.user)
    slot.refresh_from_db()
    assert slot.status == "FREE"


def test_waitlist_respects_preferred_dates(booked_visit, make_request, front_desk):
    slot = booked_visit.slot
    local_day = slot.start.astimezone(slot.location.tzinfo).date()
    other_day = make_request(patient=PortalPatientFactory(), preferred_dates=[(local_day + datetime.timedelta(days=1)).isoformat()],
                             created_at=timezone.now() - datetime.timedelta(days=5))
    that_day = make_request(patient=PortalPatientFactory(), preferred_dates=[local_day.isoformat()])
    services.visit_cancel(visit=booked_visit, actor=front_desk)
    other_day.refresh_from_db(), that_day.refresh_from_db()
    assert (other_day.status, that_day.status) == (S.TRIAGED, S.AWAITING_PATIENT_CONFIRMATION)
