"""/api/v1/visits/: booking with an Idempotency-Key, the list and its filters, the lifecycle,
cancel and reschedule."""
import datetime

import pytest
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.scheduling import services
from apps.scheduling.models import IdempotencyRecord, Visit, VisitEvent, VisitSlot
from tests.factories import PortalPatientFactory
from tests.scheduling.api_support import API, assert_error, book, count_queries, desk, integrator, random_id  # noqa: F401
from tests.scheduling.factories import ProviderFactory, VisitTypeFactory

pytestmark = pytest.mark.django_db

VISITS = f"{API}/visits/"


def url(visit, verb=""):
    return f"{VISITS}{visit.pk}/" + (f"{verb}/" if verb else "")


def booking(patient, slot, visit_type):
    return {"patient": str(patient.pk), "slot": str(slot.pk), "visit_type": str(visit_type.pk)}


# --- booking --------------------------------------------------------------------------------

def test_booking_a_free_slot(desk, patient, make_slot, visit_type, front_desk):
    slot = make_slot()

    response = desk.post(VISITS, booking(patient, slot, visit_type), format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["slot"], body["patient"]) == ("PLANNED", str(slot.pk), str(patient.pk))
    slot.refresh_from_db()
    assert slot.status == "BOOKED"
    visit = Visit.objects.get(pk=body["id"])
    assert visit.created_by == front_desk
    assert AccessLog.objects.filter(action="create", object_id=str(visit.pk)).count() == 1
    assert "Idempotent-Replayed" not in response.headers


def test_booking_a_taken_slot_is_409_and_writes_nothing(integrator, patient, other_patient, make_slot, visit_type, book):
    slot = make_slot()
    book(slot, other_patient)
    events = VisitEvent.objects.count()

    assert_error(integrator.post(VISITS, booking(patient, slot, visit_type), format="json"), 409, "slot_unavailable")

    assert Visit.objects.count() == 1 and VisitEvent.objects.count() == events


def test_booking_an_unknown_slot_is_409(integrator, patient, visit_type):
    assert_error(integrator.post(VISITS, {"patient": str(patient.pk), "slot": random_id(), "visit_type": str(visit_type.pk)},
                                 format="json"), 409, "slot_unavailable")


def test_booking_a_past_slot_is_409(integrator, patient, make_slot, visit_type):
    assert_error(integrator.post(VISITS, booking(patient, make_slot(hours_from_now=-1), visit_type), format="json"), 409,
                 "slot_unavailable")


def test_booking_a_slot_the_visit_type_does_not_fit_is_400(integrator, patient, make_slot, visit_type):
    slot = make_slot(provider=ProviderFactory())  # does not offer the type

    assert_error(integrator.post(VISITS, booking(patient, slot, visit_type), format="json"), 400, "slot_does_not_fit")
    slot.refresh_from_db()
    assert slot.status == "FREE"


def test_the_clinic_may_book_a_type_that_is_not_self_bookable(integrator, patient, make_slot, provider):
    # Integrators and staff book for the clinic (visit_book_for_patient); only the patient's own
    # booking is limited to self-bookable types (tests/scheduling/test_messaging_wiring.py).
    staff_only = VisitTypeFactory(self_bookable=False)
    provider.visit_types.add(staff_only)

    response = integrator.post(VISITS, booking(patient, make_slot(), staff_only), format="json")

    assert response.status_code == 201 and response.json()["visit_type"] == str(staff_only.pk)


def test_booking_an_inactive_type_is_400(integrator, patient, make_slot, provider):
    retired = VisitTypeFactory(self_bookable=False, is_active=False)
    provider.visit_types.add(retired)

    assert_error(integrator.post(VISITS, booking(patient, make_slot(), retired), format="json"), 400, "slot_does_not_fit")
    assert not Visit.objects.exists()


@pytest.mark.parametrize("drop, field", [("patient", "patient"), ("slot", "slot"), ("visit_type", "visit_type")])
def test_booking_without_a_field_is_400(integrator, patient, make_slot, visit_type, drop, field):
    body = booking(patient, make_slot(), visit_type)
    body.pop(drop)

    assert field in assert_error(integrator.post(VISITS, body, format="json"), 400)["extra"]["fields"]
    assert not Visit.objects.exists()


@pytest.mark.parametrize("field", ["patient", "visit_type", "request"])
def test_booking_with_an_unknown_reference_is_400(integrator, patient, make_slot, visit_type, field):
    body = {**booking(patient, make_slot(), visit_type), field: random_id()}

    assert field in assert_error(integrator.post(VISITS, body, format="json"), 400)["extra"]["fields"]


def test_booking_for_a_green_request_converts_it(integrator, patient, make_slot, visit_type, make_request):
    visit_request = make_request()

    response = integrator.post(VISITS, {**booking(patient, make_slot(), visit_type), "request": str(visit_request.pk)},
                               format="json")

    assert response.status_code == 201 and response.json()["request"] == str(visit_request.pk)
    visit_request.refresh_from_db()
    assert visit_request.status == "CONVERTED_TO_VISIT"


# --- Idempotency-Key ------------------------------------------------------------------------

def test_a_repeated_booking_with_the_same_key_returns_the_same_visit(integrator, patient, make_slot, visit_type):
    slot = make_slot()
    body = booking(patient, slot, visit_type)

    first = integrator.post(VISITS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    second = integrator.post(VISITS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    third = integrator.post(VISITS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    assert (first.status_code, second.status_code, third.status_code) == (201, 201, 201)
    assert first.json() == second.json() == third.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Visit.objects.count() == 1
    assert AccessLog.objects.filter(action="read", object_id=first.json()["id"]).count() == 2


def test_the_same_key_for_another_slot_is_422_and_books_nothing(integrator, patient, make_slot, visit_type):
    integrator.post(VISITS, booking(patient, make_slot(hours_from_now=30), visit_type), format="json", HTTP_IDEMPOTENCY_KEY="k")
    other = make_slot(hours_from_now=31)

    response = integrator.post(VISITS, booking(patient, other, visit_type), format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert_error(response, 422, "idempotency_key_reused")
    assert "Idempotent-Replayed" not in response.headers
    other.refresh_from_db()
    assert other.status == "FREE" and Visit.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_the_same_key_for_another_visit_type_is_422(integrator, patient, make_slot, visit_type, provider):
    slot = make_slot()
    integrator.post(VISITS, booking(patient, slot, visit_type), format="json", HTTP_IDEMPOTENCY_KEY="k")
    other_type = VisitTypeFactory()
    provider.visit_types.add(other_type)

    assert_error(integrator.post(VISITS, booking(patient, slot, other_type), format="json", HTTP_IDEMPOTENCY_KEY="k"), 422,
                 "idempotency_key_reused")
    assert Visit.objects.count() == 1


def test_a_refused_booking_is_saved_and_replayed_with_its_status_and_body(integrator, patient, other_patient, make_slot,
                                                                          visit_type, book):
    slot = make_slot()
    theirs = book(slot, other_patient)
    body = booking(patient, slot, visit_type)

    first = integrator.post(VISITS, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    services.visit_cancel(visit=theirs, actor=None, for_clinic=True)  # the slot is FREE again
    again = integrator.post(VISITS, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")

    assert_error(first, 409, "slot_unavailable")
    assert "Idempotent-Replayed" not in first.headers
    assert (again.status_code, again.json()) == (409, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    slot.refresh_from_db()
    assert slot.status == "FREE" and not Visit.objects.filter(patient=patient).exists()


def test_a_replay_answers_the_first_body_even_after_the_visit_changed(integrator, patient, make_slot, visit_type):
    body = booking(patient, make_slot(), visit_type)
    first = integrator.post(VISITS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-7")
    visit = Visit.objects.get(pk=first.json()["id"])
    services.visit_cancel(visit=visit, actor=None, for_clinic=True)  # and its slot is FREE again

    again = integrator.post(VISITS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-7")

    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (201, "true")
    assert again.content == first.content  # the same document, byte for byte (status PLANNED)
    assert Visit.objects.filter(patient=patient).count() == 1
    assert VisitSlot.objects.get(pk=body["slot"]).status == "FREE"


def test_keys_belong_to_the_caller_and_the_patient(integrator, desk, patient, other_patient, make_slot, visit_type):
    mine = integrator.post(VISITS, booking(patient, make_slot(hours_from_now=30), visit_type), format="json",
                           HTTP_IDEMPOTENCY_KEY="k")
    for_another_patient = integrator.post(VISITS, booking(other_patient, make_slot(hours_from_now=31), visit_type),
                                          format="json", HTTP_IDEMPOTENCY_KEY="k")
    by_another_caller = desk.post(VISITS, booking(patient, make_slot(hours_from_now=32), visit_type), format="json",
                                  HTTP_IDEMPOTENCY_KEY="k")

    assert [r.status_code for r in (mine, for_another_patient, by_another_caller)] == [201, 201, 201]
    assert not any("Idempotent-Replayed" in r.headers for r in (mine, for_another_patient, by_another_caller))
    assert len({r.json()["id"] for r in (mine, for_another_patient, by_another_caller)}) == 3


def test_a_request_refused_before_it_runs_saves_nothing(integrator, patient, make_slot, visit_type):
    slot = make_slot()

    bad = integrator.post(VISITS, {"patient": str(patient.pk), "slot": "not-a-uuid", "visit_type": str(visit_type.pk)},
                          format="json", HTTP_IDEMPOTENCY_KEY="k")
    good = integrator.post(VISITS, booking(patient, slot, visit_type), format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert_error(bad, 400, "validation_error")
    assert good.status_code == 201 and "Idempotent-Replayed" not in good.headers


def test_the_api_key_is_kept_in_the_idempotency_record_not_on_the_visit(integrator, patient, make_slot, visit_type):
    response = integrator.post(VISITS, booking(patient, make_slot(), visit_type), format="json", HTTP_IDEMPOTENCY_KEY="k-9")

    visit = Visit.objects.get(pk=response.json()["id"])
    saved = IdempotencyRecord.objects.get()
    assert (saved.key, saved.visit, saved.patient, saved.status_code) == ("k-9", visit, patient, 201)
    assert visit.idempotency_key == ""  # the portal's own key space stays the portal's


def test_without_a_key_a_repeat_is_a_conflict(integrator, patient, make_slot, visit_type):
    body = booking(patient, make_slot(), visit_type)
    integrator.post(VISITS, body, format="json")

    assert_error(integrator.post(VISITS, body, format="json"), 409, "slot_unavailable")
    assert not IdempotencyRecord.objects.exists()


def test_an_over_long_key_is_400(integrator, patient, make_slot, visit_type):
    body = assert_error(integrator.post(VISITS, booking(patient, make_slot(), visit_type), format="json",
                                        HTTP_IDEMPOTENCY_KEY="k" * 256), 400)

    assert "Idempotency-Key" in body["extra"]["fields"]
    assert not Visit.objects.exists()


def test_a_key_of_255_characters_is_accepted(integrator, patient, make_slot, visit_type):
    response = integrator.post(VISITS, booking(patient, make_slot(), visit_type), format="json",
                               HTTP_IDEMPOTENCY_KEY="k" * 255)

    assert response.status_code == 201


# --- read -----------------------------------------------------------------------------------

def test_list_filters_by_patient_provider_and_date(integrator, patient, other_patient, make_slot, book, visit_type):
    mine = book(make_slot(hours_from_now=30))
    theirs = book(make_slot(hours_from_now=80), other_patient)
    elsewhere_provider = ProviderFactory(offers=[visit_type])
    third = book(make_slot(hours_from_now=31, provider=elsewhere_provider))

    def listed(**params):
        return [v["id"] for v in integrator.get(VISITS, params).json()["results"]]

    assert listed() == [str(mine.pk), str(third.pk), str(theirs.pk)]
    assert listed(patient=str(other_patient.pk)) == [str(theirs.pk)]
    assert listed(provider=str(elsewhere_provider.pk)) == [str(third.pk)]
    day = timezone.localtime(theirs.start).date().isoformat()
    assert listed(date=day) == [str(theirs.pk)]
    assert AccessLog.objects.filter(action="read", object_type="scheduling.visit").count() == 3 + 1 + 1 + 1


@pytest.mark.parametrize("params, field", [({"date": "soon"}, "date"), ({"patient": "x"}, "patient"), ({"provider": "1"}, "provider")])
def test_bad_visit_filters_are_400(integrator, params, field):
    assert field in assert_error(integrator.get(VISITS, params), 400)["extra"]["fields"]


def test_list_costs_a_fixed_number_of_queries(integrator, visit_type, location):
    integrator.get(VISITS)
    providers = [ProviderFactory(offers=[visit_type]) for _ in range(3)]
    base = timezone.now() + datetime.timedelta(days=2)

    def make(n, offset):
        for i in range(n):
            start = base + datetime.timedelta(minutes=30 * (offset + i))
            Visit.objects.create(patient=PortalPatientFactory(), provider=providers[i % 3], visit_type=visit_type,
                                 location=location, mode="IN_PERSON", start=start, end=start + datetime.timedelta(minutes=30),
                                 is_walk_in=True)

    make(5, 0)
    small, _ = count_queries(lambda: integrator.get(VISITS, {"page_size": 5}))
    make(45, 5)
    large, response = count_queries(lambda: integrator.get(VISITS, {"page_size": 50}))

    assert len(response.json()["results"]) == 50
    assert small == large
    assert large <= 4  # key, count, page, one audit INSERT


def test_one_visit_is_audited(integrator, make_slot, book):
    visit = book(make_slot())

    response = integrator.get(url(visit))

    assert response.status_code == 200 and response.json()["id"] == str(visit.pk)
    assert AccessLog.objects.filter(action="read", object_id=str(visit.pk), patient_id=visit.patient_id).count() == 1


@pytest.mark.parametrize("verb", ["", "check-in", "start", "complete", "cancel", "no-show", "reschedule"])
def test_an_unknown_visit_is_404(integrator, verb, make_slot):
    target = f"{VISITS}{random_id()}/" + (f"{verb}/" if verb else "")
    body = {"slot": str(make_slot().pk)} if verb == "reschedule" else {}

    response = integrator.post(target, body, format="json") if verb else integrator.get(target)

    assert_error(response, 404, "not_found")


# --- lifecycle ------------------------------------------------------------------------------

def test_check_in_start_complete(desk, make_slot, book):
    visit = book(make_slot())

    statuses = [desk.post(url(visit, verb), format="json").json()["status"] for verb in ("check-in", "start", "complete")]

    assert statuses == ["CHECKED_IN", "IN_PROGRESS", "COMPLETED"]
    assert list(VisitEvent.objects.filter(visit=visit).values_list("to_status", flat=True)) == [
        "PLANNED", "CHECKED_IN", "IN_PROGRESS", "COMPLETED"]


@pytest.mark.parametrize("verb", ["start", "complete"])
def test_skipping_a_step_is_409(desk, make_slot, book, verb):
    visit = book(make_slot())

    assert_error(desk.post(url(visit, verb), format="json"), 409, "invalid_transition")
    visit.refresh_from_db()
    assert visit.status == "PLANNED"


def test_checking_in_twice_is_409(desk, make_slot, book):
    visit = book(make_slot())
    desk.post(url(visit, "check-in"), format="json")

    assert_error(desk.post(url(visit, "check-in"), format="json"), 409, "invalid_transition")


def test_no_show_before_the_start_is_409(desk, make_slot, book):
    visit = book(make_slot())

    assert_error(desk.post(url(visit, "no-show"), format="json"), 409, "too_early_for_no_show")


def test_no_show_after_the_start(desk, make_slot, book):
    visit = book(make_slot())
    Visit.objects.filter(pk=visit.pk).update(start=timezone.now() - datetime.timedelta(hours=1),
                                             end=timezone.now() - datetime.timedelta(minutes=30))

    response = desk.post(url(visit, "no-show"), format="json")

    assert response.status_code == 200 and response.json()["status"] == "NO_SHOW"


def test_cancel_frees_the_slot(desk, make_slot, book):
    slot = make_slot(hours_from_now=72)
    visit = book(slot)

    response = desk.post(url(visit, "cancel"), {"reason": "Travelling"}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["late_cancel"], response.json()["cancel_reason"]) == (
        "CANCELLED", False, "Travelling")
    slot.refresh_from_db()
    assert slot.status == "FREE"


def test_an_integrator_may_cancel_late_as_the_clinic(integrator, make_slot, book):
    visit = book(make_slot(hours_from_now=3))

    response = integrator.post(url(visit, "cancel"), {}, format="json")

    assert response.status_code == 200 and response.json()["late_cancel"] is True


def test_cancelling_twice_is_409(desk, make_slot, book):
    visit = book(make_slot())
    desk.post(url(visit, "cancel"), format="json")

    assert_error(desk.post(url(visit, "cancel"), format="json"), 409, "invalid_transition")


def test_cancel_with_a_too_long_reason_is_400(desk, make_slot, book):
    visit = book(make_slot())

    assert "reason" in assert_error(desk.post(url(visit, "cancel"), {"reason": "x" * 301}, format="json"), 400)["extra"]["fields"]
    visit.refresh_from_db()
    assert visit.status == "PLANNED"


# --- reschedule -----------------------------------------------------------------------------

def test_reschedule_moves_the_visit_atomically(integrator, make_slot, book):
    old, new = make_slot(hours_from_now=30), make_slot(hours_from_now=50)
    visit = book(old)

    response = integrator.post(url(visit, "reschedule"), {"slot": str(new.pk)}, format="json")

    assert response.status_code == 200
    assert (response.json()["slot"], response.json()["start"]) == (str(new.pk), new.start.astimezone(
        timezone.get_current_timezone()).isoformat())
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == ("FREE", "BOOKED")


def test_rescheduling_to_a_taken_slot_is_409_and_changes_nothing(integrator, make_slot, book, other_patient):
    old, taken = make_slot(hours_from_now=30), make_slot(hours_from_now=50)
    visit = book(old)
    book(taken, other_patient)

    assert_error(integrator.post(url(visit, "reschedule"), {"slot": str(taken.pk)}, format="json"), 409, "slot_unavailable")

    visit.refresh_from_db()
    old.refresh_from_db()
    assert (visit.slot_id, old.status) == (old.pk, "BOOKED")


def test_rescheduling_a_cancelled_visit_is_409(integrator, make_slot, book):
    visit = book(make_slot(hours_from_now=30))
    integrator.post(url(visit, "cancel"), format="json")

    assert_error(integrator.post(url(visit, "reschedule"), {"slot": str(make_slot(hours_from_now=50).pk)}, format="json"), 409,
                 "invalid_transition")


@pytest.mark.parametrize("body", [{}, {"slot": "tomorrow"}])
def test_reschedule_without_a_slot_is_400(integrator, make_slot, book, body):
    visit = book(make_slot())

    assert "slot" in assert_error(integrator.post(url(visit, "reschedule"), body, format="json"), 400)["extra"]["fields"]


def test_held_slots_are_not_offered_for_booking(integrator, patient, make_slot, visit_type, make_request, front_desk):
    slot = make_slot()
    services.visit_request_offer_slots(request=make_request(patient=PortalPatientFactory()), slots=[slot], actor=front_desk)

    assert_error(integrator.post(VISITS, booking(patient, slot, visit_type), format="json"), 409, "slot_unavailable")
    assert VisitSlot.objects.get(pk=slot.pk).status == "HELD"
