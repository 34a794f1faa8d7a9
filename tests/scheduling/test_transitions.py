"""Scheduling's state changes go through core's transition helper: event rows with the base
fields (who, from, to, why, data, when), one audit entry per request or visit move (none for
slots), and a move the table refuses answers 409 invalid_transition in the API and on the
pages, changing nothing."""
import datetime

import pytest
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.core.transitions import TransitionEvent
from apps.scheduling import services
from apps.scheduling.models import RequestEvent, SlotEvent, Visit, VisitEvent, VisitRequest, VisitSlot
from tests.scheduling.api_support import API, assert_error, desk  # noqa: F401 (desk is a fixture)

pytestmark = pytest.mark.django_db

BASE_FIELDS = {"actor", "actor_label", "from_status", "to_status", "reason", "data", "at"}


def updates_of(obj):
    return list(AccessLog.objects.filter(action="update", object_id=str(obj.pk)).order_by("at", "id")
                .values_list("detail", flat=True))


# --- the models -------------------------------------------------------------------------------

@pytest.mark.parametrize("model,event_model,subject,extra", [
    (VisitSlot, SlotEvent, "slot", {"request", "retirement"}),
    (VisitRequest, RequestEvent, "request", {"kind"}),
    (Visit, VisitEvent, "visit", set()),
])
def test_each_event_model_is_a_transition_event_with_its_own_fields(model, event_model, subject, extra):
    fields = {f.name for f in event_model._meta.get_fields() if f.concrete}

    assert issubclass(event_model, TransitionEvent)
    assert model.EVENT_MODEL == f"scheduling.{event_model.__name__}"
    assert event_model.SUBJECT_FIELD == subject
    assert fields == BASE_FIELDS | {"id", subject} | extra
    assert event_model._meta.ordering == ["at", "id"]


def test_slots_are_not_audited_requests_and_visits_are():
    assert VisitSlot.AUDIT_TRANSITIONS is False
    assert getattr(VisitRequest, "AUDIT_TRANSITIONS", True) is True
    assert getattr(Visit, "AUDIT_TRANSITIONS", True) is True


# --- event rows and audit entries -----------------------------------------------------------

def test_a_booking_writes_slot_and_visit_events_with_the_base_fields(patient, make_slot, visit_type):
    slot = make_slot()

    visit = services.booking_create(patient=patient, slot=slot, visit_type=visit_type, actor=patient.user)

    slot_events = list(SlotEvent.objects.filter(slot=slot).values(
        "from_status", "to_status", "actor", "actor_label", "reason", "data", "request"))
    assert slot_events == [  # one move, FREE -> BOOKED, under the slot's lock
        {"from_status": "FREE", "to_status": "BOOKED", "actor": patient.user.pk, "actor_label": "",
         "reason": "Booked by the patient", "data": {}, "request": None},
    ]
    created = visit.events.get()
    assert (created.from_status, created.to_status, created.actor, created.reason) == ("", "PLANNED", patient.user,
                                                                                       "Booked by the patient")
    assert created.at <= timezone.now()
    assert AccessLog.objects.filter(action="create", object_id=str(visit.pk)).count() == 1
    assert updates_of(slot) == []  # slots are not audited


def test_a_request_move_writes_one_event_and_one_audit_entry(make_request, nurse, visit_type):
    visit_request = make_request(status=VisitRequest.Status.NEW)

    services.visit_request_triage(request=visit_request, actor=nurse, reason="Looks routine")

    event = visit_request.events.get()
    assert (event.kind, event.from_status, event.to_status, event.actor, event.reason) == (
        RequestEvent.Kind.STATUS, "NEW", "TRIAGED", nurse, "Looks routine")
    assert updates_of(visit_request) == [{"status": "TRIAGED"}]  # the audit listener's, once


def test_a_severity_override_is_an_event_of_its_kind_not_a_move(make_request, nurse):
    visit_request = make_request()

    services.visit_request_override_severity(request=visit_request, actor=nurse, severity="YELLOW", reason="Fever")

    event = visit_request.events.get()
    assert (event.kind, event.from_status, event.to_status, event.data) == (
        RequestEvent.Kind.SEVERITY, "TRIAGED", "TRIAGED", {"from": "GREEN", "to": "YELLOW"})
    assert updates_of(visit_request) == [{"severity": "YELLOW"}]


def test_a_visit_lifecycle_writes_an_event_per_move(patient, make_slot, visit_type, front_desk, provider_user):
    visit = services.booking_create(patient=patient, slot=make_slot(), visit_type=visit_type)

    services.visit_check_in(visit=visit, actor=front_desk)
    services.visit_start(visit=visit, actor=provider_user)
    services.visit_complete(visit=visit, actor=provider_user)

    moves = list(visit.events.values_list("from_status", "to_status", "actor"))
    assert moves == [("", "PLANNED", None), ("PLANNED", "CHECKED_IN", front_desk.pk),
                     ("CHECKED_IN", "IN_PROGRESS", provider_user.pk), ("IN_PROGRESS", "COMPLETED", provider_user.pk)]
    assert updates_of(visit) == [{"status": "CHECKED_IN"}, {"status": "IN_PROGRESS"}, {"status": "COMPLETED"}]


def test_the_expiry_sweep_moves_requests_and_slots_through_the_table(make_request, make_slot, front_desk):
    visit_request = make_request()
    slot = make_slot()
    services.visit_request_offer_slots(request=visit_request, slots=[slot], actor=front_desk, hold_hours=1)
    later = timezone.now() + datetime.timedelta(hours=2)

    result = services.offers_expire(now=later)

    assert result == {"offers_expired": 1, "slots_released": 1}
    expired = visit_request.events.order_by("-at", "-id").first()
    assert (expired.from_status, expired.to_status, expired.reason, expired.actor) == (
        "AWAITING_PATIENT_CONFIRMATION", "TRIAGED", "Offer expired", None)
    released = SlotEvent.objects.filter(slot=slot).order_by("-at", "-id").first()
    assert (released.from_status, released.to_status, released.request_id) == ("HELD", "FREE", visit_request.pk)
    assert updates_of(visit_request)[-1] == {"status": "TRIAGED", "offer": "expired"}
    slot.refresh_from_db()
    assert (slot.status, slot.hold_kind, slot.held_for_request_id) == ("FREE", "", None)


# --- refusals ---------------------------------------------------------------------------------

@pytest.fixture
def planned(patient, make_slot, visit_type):
    return services.booking_create(patient=patient, slot=make_slot(), visit_type=visit_type)


def test_a_refused_move_answers_409_invalid_transition_in_the_api(desk, planned):
    events, updates = VisitEvent.objects.count(), len(updates_of(planned))

    body = assert_error(desk.post(f"{API}/visits/{planned.pk}/start/", format="json"), 409, "invalid_transition")

    assert body["message"] == "A visit cannot go from PLANNED to IN_PROGRESS."
    assert body["extra"] == {"from": "PLANNED", "to": "IN_PROGRESS"}
    planned.refresh_from_db()
    assert planned.status == Visit.Status.PLANNED
    assert (VisitEvent.objects.count(), len(updates_of(planned))) == (events, updates)


def test_a_refused_slot_move_answers_409_invalid_transition_in_the_api(desk, make_slot):
    slot = make_slot()

    body = assert_error(desk.post(f"{API}/slots/{slot.pk}/unblock/", {}, format="json"), 409, "invalid_transition")

    assert body["message"] == "A visit slot cannot go from FREE to FREE."
    assert not SlotEvent.objects.filter(slot=slot).exists()


def test_a_refused_move_answers_409_on_the_staff_visit_page(client_for, front_desk, planned):
    response = client_for(front_desk).post(f"/staff/scheduling/visits/{planned.pk}/start/")

    assert response.status_code == 409
    assert "A visit cannot go from PLANNED to IN_PROGRESS. (409 invalid_transition)" in response.content.decode()
    planned.refresh_from_db()
    assert planned.status == Visit.Status.PLANNED


def test_a_refused_move_answers_409_on_the_portal_request_page(client_for, patient, make_request):
    visit_request = make_request(status=VisitRequest.Status.CONVERTED_TO_VISIT)

    response = client_for(patient.user).post(f"/portal/schedule/requests/{visit_request.pk}/cancel/")

    content = response.content.decode()
    assert response.status_code == 409
    assert 'data-code="invalid_transition"' in content
    assert "A visit request cannot go from CONVERTED_TO_VISIT to CANCELLED." in content
    assert "This request cannot be cancelled" in content
    visit_request.refresh_from_db()
    assert visit_request.status == VisitRequest.Status.CONVERTED_TO_VISIT
