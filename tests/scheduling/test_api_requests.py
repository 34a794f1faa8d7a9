"""/api/v1/visit-requests/: creation with triage (RED answers at once), the list and its
filters, triage, review, overrides, offers, accept/decline, walk-ins, cancel."""
import datetime

import pytest
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.scheduling import services
from apps.scheduling.models import RequestEvent, Visit, VisitRequest, VisitSlot
from tests.factories import PortalPatientFactory
from tests.scheduling.api_support import API, assert_error, book, count_queries, desk, integrator, random_id, session  # noqa: F401
from tests.scheduling.factories import LocationFactory, ProviderFactory, VisitRequestFactory

pytestmark = pytest.mark.django_db

REQUESTS = f"{API}/visit-requests/"


def url(visit_request, verb=""):
    return f"{REQUESTS}{visit_request.pk}/" + (f"{verb}/" if verb else "")


@pytest.fixture
def nurse_client(nurse):
    return session(nurse)


# --- create ---------------------------------------------------------------------------------

def test_a_scheduled_request_is_created_and_triaged(desk, patient, visit_type, default_triage_rules, front_desk):
    preferred = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()  # within the booking horizon
    response = desk.post(REQUESTS, {"patient": str(patient.pk), "reason": "Annual check", "symptoms": ["mild cough"],
                                    "visit_type": str(visit_type.pk), "preferred_dates": [preferred]}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["severity"], body["request_type"]) == ("NEW", "GREEN", "SCHEDULED")
    assert body["outcome"] == {"emergency": False, "instructions": "", "can_self_book": True}
    created = VisitRequest.objects.get(pk=body["id"])
    assert created.created_by == front_desk and created.preferred_dates == [preferred]
    assert AccessLog.objects.filter(action="create", object_id=str(created.pk)).count() == 1


def test_a_red_request_answers_201_with_the_emergency_outcome(integrator, patient, default_triage_rules, make_slot):
    response = integrator.post(REQUESTS, {"patient": str(patient.pk), "symptoms": ["Chest pain since noon"]}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["severity"] == "RED"
    assert body["outcome"]["emergency"] is True and "911" in body["outcome"]["instructions"]
    assert body["outcome"]["can_self_book"] is False
    assert not Visit.objects.exists()
    # and nothing can be scheduled for it
    created = VisitRequest.objects.get(pk=body["id"])
    services.visit_request_triage(request=created, actor=None)
    assert_error(integrator.post(url(created, "offer"), {"slots": [str(make_slot().pk)]}, format="json"), 400,
                 "emergency_care_required")


def test_a_walk_in_needs_a_location(desk, patient):
    body = assert_error(desk.post(REQUESTS, {"patient": str(patient.pk), "request_type": "WALK_IN"}, format="json"), 400,
                        "validation_error")

    assert "location" in body["extra"]["fields"]
    assert not VisitRequest.objects.exists()


def test_a_walk_in_joins_the_queue(desk, patient, location):
    response = desk.post(REQUESTS, {"patient": str(patient.pk), "request_type": "WALK_IN", "location": str(location.pk)},
                         format="json")

    assert response.status_code == 201
    assert (response.json()["request_type"], response.json()["preferred_mode"]) == ("WALK_IN", "IN_PERSON")


@pytest.mark.parametrize("body, field", [
    ({}, "patient"),
    ({"patient": random_id()}, "patient"),
    ({"patient": "PATIENT", "symptoms": "cough"}, "symptoms"),
    ({"patient": "PATIENT", "preferred_dates": ["next week"]}, "preferred_dates"),
    ({"patient": "PATIENT", "request_type": "URGENT"}, "request_type"),
    ({"patient": "PATIENT", "visit_type": random_id()}, "visit_type"),
])
def test_bad_request_input_is_400_with_the_field(desk, patient, body, field):
    body = {k: (str(patient.pk) if v == "PATIENT" else v) for k, v in body.items()}

    error = assert_error(desk.post(REQUESTS, body, format="json"), 400, "validation_error")

    assert field in error["extra"]["fields"]
    assert not VisitRequest.objects.exists()


# --- read -----------------------------------------------------------------------------------

def test_list_filters_and_audits_one_row_per_request_shown(integrator, patient, other_patient, make_request, location):
    green = make_request()
    red_new = make_request(severity="RED", status="NEW")
    walk_in = make_request(patient=other_patient, request_type="WALK_IN", location=location)

    def listed(**params):
        return [r["id"] for r in integrator.get(REQUESTS, params).json()["results"]]

    assert listed() == [str(green.pk), str(red_new.pk), str(walk_in.pk)]
    assert listed(status="NEW") == [str(red_new.pk)]
    assert listed(severity="RED") == [str(red_new.pk)]
    assert listed(type="WALK_IN") == [str(walk_in.pk)]
    assert listed(patient=str(other_patient.pk)) == [str(walk_in.pk)]
    reads = AccessLog.objects.filter(action="read", object_type="scheduling.visitrequest")
    assert reads.count() == 3 + 1 + 1 + 1 + 1
    assert set(reads.values_list("patient_id", flat=True)) == {patient.pk, other_patient.pk}


def test_the_walk_in_queue_of_one_location(integrator, patient, other_patient, make_request, location):
    elsewhere = LocationFactory()
    here = make_request(patient=patient, request_type="WALK_IN", location=location)
    make_request(patient=other_patient, request_type="WALK_IN", location=elsewhere)
    make_request()

    response = integrator.get(REQUESTS, {"type": "WALK_IN", "location": str(location.pk)})

    assert [r["id"] for r in response.json()["results"]] == [str(here.pk)]
    assert integrator.get(REQUESTS, {"location": random_id()}).json()["results"] == []


@pytest.mark.parametrize("params, field", [({"status": "LOST"}, "status"), ({"severity": "BLUE"}, "severity"),
                                           ({"type": "X"}, "type"), ({"patient": "x"}, "patient"),
                                           ({"location": "x"}, "location"), ({"location": ""}, "location")])
def test_bad_list_filters_are_400(integrator, params, field):
    assert field in assert_error(integrator.get(REQUESTS, params), 400)["extra"]["fields"]


def test_list_costs_a_fixed_number_of_queries(integrator, visit_type, location):
    integrator.get(REQUESTS)

    def make(n):
        for i in range(n):
            VisitRequestFactory(visit_type=visit_type, location=location if i % 2 else None)

    make(5)
    small, _ = count_queries(lambda: integrator.get(REQUESTS, {"page_size": 5}))
    make(45)
    large, response = count_queries(lambda: integrator.get(REQUESTS, {"page_size": 50}))

    assert len(response.json()["results"]) == 50
    assert small == large
    assert large <= 4  # key, count, page, one audit INSERT


def test_list_for_a_staff_session_costs_the_same_for_5_and_50(desk, visit_type):
    desk.get(REQUESTS)
    VisitRequestFactory.create_batch(5, visit_type=visit_type)
    small, _ = count_queries(lambda: desk.get(REQUESTS, {"page_size": 5}))
    VisitRequestFactory.create_batch(45, visit_type=visit_type)
    large, _ = count_queries(lambda: desk.get(REQUESTS, {"page_size": 50}))

    assert small == large


def test_one_request_is_audited(integrator, make_request):
    visit_request = make_request()

    response = integrator.get(url(visit_request))

    assert response.status_code == 200 and response.json()["id"] == str(visit_request.pk)
    assert AccessLog.objects.filter(action="read", object_id=str(visit_request.pk), patient_id=visit_request.patient_id).count() == 1


ACTIONS = ["triage", "review", "override-severity", "offer", "accept", "decline", "assign-immediate", "cancel"]


@pytest.mark.parametrize("verb", ["", *ACTIONS])
def test_an_unknown_request_is_404(clinic_admin, verb, make_slot, provider):
    body = {"override-severity": {"severity": "RED", "reason": "x"}, "offer": {"slots": [str(make_slot().pk)]},
            "accept": {"slot": random_id()}, "assign-immediate": {"provider": str(provider.pk)}}.get(verb, {})
    ProviderFactory(user=clinic_admin)  # so review reaches the lookup
    client = session(clinic_admin)
    target = f"{REQUESTS}{random_id()}/" + (f"{verb}/" if verb else "")

    response = client.post(target, body, format="json") if verb else client.get(target)

    assert_error(response, 404, "not_found")


def test_a_malformed_id_is_404(integrator):
    assert integrator.get(f"{REQUESTS}not-a-uuid/").status_code == 404


# --- triage, review, override ---------------------------------------------------------------

def test_triage_moves_new_to_triaged_with_an_override(nurse_client, make_request, nurse, visit_type):
    visit_request = make_request(status="NEW", visit_type=None)

    response = nurse_client.post(url(visit_request, "triage"), {"severity": "YELLOW", "reason": "Fever three days",
                                                                "visit_type": str(visit_type.pk)}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["severity"], body["computed_severity"]) == ("TRIAGED", "YELLOW", "GREEN")
    assert (body["severity_override_reason"], body["visit_type"]) == ("Fever three days", str(visit_type.pk))
    visit_request.refresh_from_db()
    assert visit_request.triaged_by == nurse


def test_triaging_twice_is_409(nurse_client, make_request):
    visit_request = make_request()  # already TRIAGED

    assert_error(nurse_client.post(url(visit_request, "triage"), {}, format="json"), 409, "invalid_transition")


def test_an_override_at_triage_needs_a_reason(nurse_client, make_request):
    visit_request = make_request(status="NEW")

    body = assert_error(nurse_client.post(url(visit_request, "triage"), {"severity": "ORANGE"}, format="json"), 400)

    assert "reason" in body["extra"]["fields"]
    visit_request.refresh_from_db()
    assert (visit_request.status, visit_request.severity) == ("NEW", "GREEN")


def test_override_severity_keeps_the_reason(nurse_client, make_request, nurse):
    visit_request = make_request()

    response = nurse_client.post(url(visit_request, "override-severity"), {"severity": "ORANGE", "reason": "Worse today"},
                                 format="json")

    assert response.status_code == 200
    assert (response.json()["severity"], response.json()["needs_review"]) == ("ORANGE", True)
    event = RequestEvent.objects.get(request=visit_request, kind="severity")
    assert (event.actor, event.reason, event.data) == (nurse, "Worse today", {"from": "GREEN", "to": "ORANGE"})


def test_override_severity_without_reason_is_400(nurse_client, make_request):
    visit_request = make_request()

    body = assert_error(nurse_client.post(url(visit_request, "override-severity"), {"severity": "RED"}, format="json"), 400)

    assert "reason" in body["extra"]["fields"]


def test_override_severity_of_a_closed_request_is_409(nurse_client, make_request):
    visit_request = make_request(status="CANCELLED")

    assert_error(nurse_client.post(url(visit_request, "override-severity"), {"severity": "RED", "reason": "x"}, format="json"),
                 409, "invalid_transition")


def test_review_of_a_closed_request_is_409(make_request):
    provider = ProviderFactory()
    visit_request = make_request(status="CANCELLED", severity="ORANGE")

    assert_error(session(provider.user).post(url(visit_request, "review"), {}, format="json"), 409, "invalid_transition")


def test_review_with_a_bad_severity_is_400(make_request):
    provider = ProviderFactory()
    visit_request = make_request(severity="ORANGE")

    assert "severity" in assert_error(session(provider.user).post(url(visit_request, "review"), {"severity": "PURPLE"},
                                                                  format="json"), 400)["extra"]["fields"]


# --- offers ---------------------------------------------------------------------------------

def test_offer_holds_the_slots_until_the_deadline(desk, make_request, make_slot):
    visit_request, slots = make_request(), [make_slot(hours_from_now=h) for h in (30, 31)]

    response = desk.post(url(visit_request, "offer"), {"slots": [str(s.pk) for s in slots], "hold_hours": 2}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "AWAITING_PATIENT_CONFIRMATION"
    deadline = datetime.datetime.fromisoformat(response.json()["offer_expires_at"])
    assert abs((deadline - timezone.now()) - datetime.timedelta(hours=2)) < datetime.timedelta(minutes=1)
    assert set(VisitSlot.objects.filter(held_for_request=visit_request).values_list("status", flat=True)) == {"HELD"}


def test_offer_with_a_deadline(desk, make_request, make_slot):
    visit_request, slot = make_request(), make_slot()
    until = (timezone.now() + datetime.timedelta(hours=5)).replace(microsecond=0)

    response = desk.post(url(visit_request, "offer"), {"slots": [str(slot.pk)], "hold_until": until.isoformat()}, format="json")

    assert response.status_code == 200
    assert abs(datetime.datetime.fromisoformat(response.json()["offer_expires_at"]) - until) < datetime.timedelta(seconds=2)


def test_offering_a_taken_slot_is_409_and_holds_nothing(desk, make_request, make_slot, book):
    visit_request, free, taken = make_request(), make_slot(hours_from_now=30), make_slot(hours_from_now=31)
    book(taken, PortalPatientFactory())

    assert_error(desk.post(url(visit_request, "offer"), {"slots": [str(free.pk), str(taken.pk)]}, format="json"), 409,
                 "slot_unavailable")

    free.refresh_from_db()
    visit_request.refresh_from_db()
    assert (free.status, visit_request.status) == ("FREE", "TRIAGED")


def test_offering_an_unknown_slot_is_409(desk, make_request):
    assert_error(desk.post(url(make_request(), "offer"), {"slots": [random_id()]}, format="json"), 409, "slot_unavailable")


@pytest.mark.parametrize("body, field", [({"slots": []}, "slots"), ({"slots": "x"}, "slots"), ({"slots": ["S"] * 6}, "slots"),
                                         ({"slots": ["S"], "hold_hours": 0}, "hold_hours"),
                                         ({"slots": ["S"], "hold_until": "2001-01-01T00:00:00Z"}, "hold_until")])
def test_bad_offers_are_400(desk, make_request, make_slot, body, field):
    slot = make_slot()
    body = {k: ([str(slot.pk) if s == "S" else s for s in v] if isinstance(v, list) else v) for k, v in body.items()}

    assert field in assert_error(desk.post(url(make_request(), "offer"), body, format="json"), 400)["extra"]["fields"]


def test_offering_for_an_unreviewed_orange_request_is_409(desk, make_request, make_slot):
    visit_request = make_request(severity="ORANGE")

    assert_error(desk.post(url(visit_request, "offer"), {"slots": [str(make_slot().pk)]}, format="json"), 409,
                 "provider_review_required")


def test_offering_twice_is_409(desk, make_request, make_slot):
    visit_request = make_request()
    desk.post(url(visit_request, "offer"), {"slots": [str(make_slot(hours_from_now=30).pk)]}, format="json")

    assert_error(desk.post(url(visit_request, "offer"), {"slots": [str(make_slot(hours_from_now=31).pk)]}, format="json"), 409,
                 "invalid_transition")


@pytest.fixture
def offered(make_request, make_slot, front_desk):
    visit_request, slots = make_request(), [make_slot(hours_from_now=h) for h in (30, 31)]
    services.visit_request_offer_slots(request=visit_request, slots=slots, actor=front_desk)
    return visit_request, slots


def test_accept_books_one_slot_and_releases_the_others(desk, offered):
    visit_request, (chosen, other) = offered

    response = desk.post(url(visit_request, "accept"), {"slot": str(chosen.pk)}, format="json")

    assert response.status_code == 201
    assert (response.json()["slot"], response.json()["status"]) == (str(chosen.pk), "PLANNED")
    chosen.refresh_from_db()
    other.refresh_from_db()
    visit_request.refresh_from_db()
    assert (chosen.status, other.status, visit_request.status) == ("BOOKED", "FREE", "CONVERTED_TO_VISIT")


def test_accepting_a_slot_that_was_not_offered_is_409(desk, offered, make_slot):
    visit_request, _ = offered

    assert_error(desk.post(url(visit_request, "accept"), {"slot": str(make_slot(hours_from_now=40).pk)}, format="json"), 409,
                 "offer_not_open")
    assert not Visit.objects.exists()


def test_accepting_an_expired_offer_returns_409(desk, make_request, make_slot, front_desk):
    visit_request, slot = make_request(), make_slot()
    services.visit_request_offer_slots(request=visit_request, slots=[slot], actor=front_desk, hold_hours=1,
                                       now=timezone.now() - datetime.timedelta(hours=2))

    assert_error(desk.post(url(visit_request, "accept"), {"slot": str(slot.pk)}, format="json"), 409, "offer_expired")


def test_accept_without_a_slot_is_400(desk, offered):
    assert "slot" in assert_error(desk.post(url(offered[0], "accept"), {}, format="json"), 400)["extra"]["fields"]


def test_decline_releases_everything(desk, offered):
    visit_request, slots = offered

    response = desk.post(url(visit_request, "decline"), {"reason": "None suit"}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "TRIAGED"
    assert set(VisitSlot.objects.filter(pk__in=[s.pk for s in slots]).values_list("status", flat=True)) == {"FREE"}


def test_declining_without_an_open_offer_is_409(desk, make_request):
    assert_error(desk.post(url(make_request(), "decline"), {}, format="json"), 409, "offer_not_open")


# --- walk-ins and cancel --------------------------------------------------------------------

@pytest.fixture
def walk_in(patient, location, visit_type):
    return VisitRequestFactory(patient=patient, request_type="WALK_IN", location=location, visit_type=visit_type, status="NEW")


def test_assign_immediate_creates_a_checked_in_visit(desk, walk_in, provider):
    response = desk.post(url(walk_in, "assign-immediate"), {"provider": str(provider.pk)}, format="json")

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["is_walk_in"], response.json()["slot"]) == ("CHECKED_IN", True, None)
    walk_in.refresh_from_db()
    assert walk_in.status == "CONVERTED_TO_VISIT"


def test_assigning_a_scheduled_request_is_400(desk, make_request, provider):
    assert_error(desk.post(url(make_request(), "assign-immediate"), {"provider": str(provider.pk)}, format="json"), 400,
                 "validation_error")


def test_assigning_a_red_walk_in_is_refused(desk, walk_in, provider):
    walk_in.severity = "RED"
    walk_in.save()

    assert_error(desk.post(url(walk_in, "assign-immediate"), {"provider": str(provider.pk)}, format="json"), 400,
                 "emergency_care_required")
    assert not Visit.objects.exists()


def test_assigning_twice_is_409(desk, walk_in, provider):
    desk.post(url(walk_in, "assign-immediate"), {"provider": str(provider.pk)}, format="json")

    assert_error(desk.post(url(walk_in, "assign-immediate"), {"provider": str(provider.pk)}, format="json"), 409,
                 "invalid_transition")
    assert Visit.objects.count() == 1


def test_assign_needs_a_known_provider(desk, walk_in):
    assert "provider" in assert_error(desk.post(url(walk_in, "assign-immediate"), {"provider": random_id()}, format="json"),
                                      400)["extra"]["fields"]


def test_cancel_a_request(desk, make_request):
    visit_request = make_request()

    response = desk.post(url(visit_request, "cancel"), {"reason": "Feeling better"}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("CANCELLED", "Feeling better")


def test_cancelling_twice_is_409(desk, make_request):
    visit_request = make_request(status="CANCELLED")

    assert_error(desk.post(url(visit_request, "cancel"), {}, format="json"), 409, "invalid_transition")


def test_an_integrator_cancel_does_not_alert_the_desk_as_a_patient_cancel(integrator, make_request, front_desk, notifications):
    visit_request = make_request()

    assert integrator.post(url(visit_request, "cancel"), {}, format="json").status_code == 200
    assert "request_cancelled" not in notifications(front_desk)


def test_cancel_with_a_too_long_reason_is_400(desk, make_request):
    assert "reason" in assert_error(desk.post(url(make_request(), "cancel"), {"reason": "x" * 301}, format="json"),
                                    400)["extra"]["fields"]
