"""/api/v1/providers/, /visit-types/ and /slots/: search, generation, blocking."""
import datetime

import pytest
from django.utils import timezone

from apps.scheduling.models import Mode, SlotEvent, VisitSlot
from tests.scheduling.api_support import API, assert_error, book, count_queries, desk, integrator, random_id  # noqa: F401
from tests.scheduling.factories import LocationFactory, ProviderFactory, SlotFactory, VisitTypeFactory, WindowFactory

pytestmark = pytest.mark.django_db

SLOTS = f"{API}/slots/"


def ids(response):
    return [row["id"] for row in response.json()["results"]]


# --- reference data -------------------------------------------------------------------------

def test_providers_lists_active_providers_with_their_visit_types(integrator, provider, visit_type):
    ProviderFactory(is_active=False)

    response = integrator.get(f"{API}/providers/")

    assert response.status_code == 200
    assert [(p["id"], p["visit_type_ids"]) for p in response.json()["results"]] == [(str(provider.pk), [str(visit_type.pk)])]
    assert response.json()["results"][0]["name"] == provider.user.full_name


def test_providers_cost_a_fixed_number_of_queries(integrator, visit_type):
    integrator.get(f"{API}/providers/")
    ProviderFactory.create_batch(3, offers=[visit_type])
    small, _ = count_queries(lambda: integrator.get(f"{API}/providers/"))
    ProviderFactory.create_batch(10, offers=[visit_type, VisitTypeFactory()])
    large, response = count_queries(lambda: integrator.get(f"{API}/providers/"))

    assert response.json()["count"] == 13
    assert small == large


def test_visit_types_lists_active_types(integrator, visit_type):
    VisitTypeFactory(is_active=False)

    response = integrator.get(f"{API}/visit-types/")

    assert response.status_code == 200
    assert [v["id"] for v in response.json()["results"]] == [str(visit_type.pk)]
    assert response.json()["results"][0]["mode"] == "IN_PERSON"


# --- search ---------------------------------------------------------------------------------

def test_search_answers_free_future_slots_in_start_order(integrator, make_slot):
    later_slot, soon = make_slot(hours_from_now=50), make_slot(hours_from_now=30)
    make_slot(hours_from_now=40, status=VisitSlot.Status.BLOCKED)
    make_slot(hours_from_now=-2)

    response = integrator.get(SLOTS)

    assert response.status_code == 200
    assert ids(response) == [str(soon.pk), str(later_slot.pk)]
    assert response.json()["results"][0]["status"] == "FREE"


def test_search_defaults_to_seven_days_and_honours_the_range(integrator, make_slot):
    inside, outside = make_slot(hours_from_now=24), make_slot(hours_from_now=24 * 9)
    start = (timezone.now() + datetime.timedelta(days=8)).isoformat()

    assert ids(integrator.get(SLOTS)) == [str(inside.pk)]
    assert ids(integrator.get(SLOTS, {"start": start})) == [str(outside.pk)]


def test_search_filters_by_provider_location_mode_and_visit_type(integrator, make_slot, provider, visit_type):
    mine = make_slot()
    other_provider = ProviderFactory(offers=[visit_type])
    theirs = make_slot(hours_from_now=73, provider=other_provider)
    elsewhere = make_slot(hours_from_now=74, location=LocationFactory())
    virtual = make_slot(hours_from_now=75, mode=Mode.VIRTUAL)
    not_offered = make_slot(hours_from_now=76, provider=ProviderFactory())

    assert str(theirs.pk) not in ids(integrator.get(SLOTS, {"provider": str(provider.pk)}))
    assert ids(integrator.get(SLOTS, {"location": str(elsewhere.location_id)})) == [str(elsewhere.pk)]
    assert ids(integrator.get(SLOTS, {"mode": "VIRTUAL"})) == [str(virtual.pk)]
    fits = ids(integrator.get(SLOTS, {"visit_type": str(visit_type.pk)}))
    assert str(mine.pk) in fits and str(theirs.pk) in fits
    assert str(virtual.pk) not in fits and str(not_offered.pk) not in fits


@pytest.mark.parametrize("params, field", [
    ({"start": "2030-01-01T00:00:00Z", "end": "2030-02-15T00:00:00Z"}, "end"),
    ({"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"}, "end"),
    ({"start": "tomorrow"}, "start"),
    ({"visit_type": random_id()}, "visit_type"),
    ({"provider": "not-a-uuid"}, "provider"),
    ({"mode": "TELEPATHY"}, "mode"),
])
def test_bad_search_parameters_are_400_with_the_field(integrator, params, field):
    body = assert_error(integrator.get(SLOTS, params), 400, "validation_error")

    assert field in body["extra"]["fields"]


def test_search_costs_a_fixed_number_of_queries(integrator, provider, location, visit_type):
    def slots(n, offset):
        base = (timezone.now() + datetime.timedelta(days=1)).replace(second=0, microsecond=0)
        for i in range(n):
            start = base + datetime.timedelta(minutes=30 * (offset + i))
            SlotFactory(provider=ProviderFactory(offers=[visit_type]) if i % 2 else provider, location=location, start=start,
                        end=start + datetime.timedelta(minutes=30))

    integrator.get(SLOTS)
    slots(5, 0)
    small, small_response = count_queries(lambda: integrator.get(SLOTS, {"page_size": 5, "visit_type": str(visit_type.pk)}))
    slots(45, 5)
    large, large_response = count_queries(lambda: integrator.get(SLOTS, {"page_size": 50, "visit_type": str(visit_type.pk)}))

    assert len(small_response.json()["results"]) == 5
    assert len(large_response.json()["results"]) == 50
    assert small == large
    assert large <= 4  # key, visit type, count, page


def test_one_slot(integrator, make_slot):
    slot = make_slot()

    assert integrator.get(f"{SLOTS}{slot.pk}/").json()["id"] == str(slot.pk)
    assert_error(integrator.get(f"{SLOTS}{random_id()}/"), 404, "not_found")


# --- generation -----------------------------------------------------------------------------

def test_generate_materialises_slots_once(integrator, provider, location):
    WindowFactory(provider=provider, location=location, weekday=timezone.localdate().weekday(),
                  start_time=datetime.time(9), end_time=datetime.time(12))
    url = f"{SLOTS}generate/"

    first = integrator.post(url, {"days": 14}, format="json")
    second = integrator.post(url, {"days": 14}, format="json")

    assert first.status_code == 200 and first.json()["created"] >= 6
    assert second.json() == {"created": 0, "blocked": 0, "retired": 0}
    assert VisitSlot.objects.filter(provider=provider).count() == first.json()["created"]


@pytest.mark.parametrize("body, field", [({"days": 0}, "days"), ({"days": "many"}, "days"), ({"providers": [random_id()]}, "providers")])
def test_generate_refuses_bad_input(integrator, body, field):
    body = assert_error(integrator.post(f"{SLOTS}generate/", body, format="json"), 400, "validation_error")

    assert field in body["extra"]["fields"]


# --- blocking -------------------------------------------------------------------------------

def test_blocking_and_unblocking_a_slot(desk, make_slot, front_desk):
    slot = make_slot()

    blocked = desk.post(f"{SLOTS}{slot.pk}/block/", {"reason": "Room closed"}, format="json")
    unblocked = desk.post(f"{SLOTS}{slot.pk}/unblock/", {}, format="json")

    assert blocked.status_code == 200 and blocked.json()["status"] == "BLOCKED"
    assert unblocked.status_code == 200 and unblocked.json()["status"] == "FREE"
    events = list(SlotEvent.objects.filter(slot=slot).values_list("to_status", "reason", "actor"))
    assert events == [("BLOCKED", "Room closed", front_desk.pk), ("FREE", "Unblocked by staff", front_desk.pk)]


def test_blocking_a_blocked_slot_is_409(integrator, make_slot):
    slot = make_slot(status=VisitSlot.Status.BLOCKED)

    assert_error(integrator.post(f"{SLOTS}{slot.pk}/block/", {}, format="json"), 409, "invalid_transition")
    assert not SlotEvent.objects.filter(slot=slot).exists()


def test_blocking_a_booked_slot_is_409(integrator, make_slot, book):
    slot = make_slot()
    book(slot)

    assert_error(integrator.post(f"{SLOTS}{slot.pk}/block/", {}, format="json"), 409, "invalid_transition")
    slot.refresh_from_db()
    assert slot.status == "BOOKED"


def test_unblocking_a_free_slot_is_409(integrator, make_slot):
    slot = make_slot()

    assert_error(integrator.post(f"{SLOTS}{slot.pk}/unblock/", {}, format="json"), 409, "invalid_transition")


@pytest.mark.parametrize("verb", ["block", "unblock"])
def test_blocking_an_unknown_slot_is_404(integrator, verb):
    assert_error(integrator.post(f"{SLOTS}{random_id()}/{verb}/", {}, format="json"), 404, "not_found")


def test_a_too_long_block_reason_is_400(integrator, make_slot):
    slot = make_slot()

    body = assert_error(integrator.post(f"{SLOTS}{slot.pk}/block/", {"reason": "x" * 301}, format="json"), 400)

    assert "reason" in body["extra"]["fields"]
    slot.refresh_from_db()
    assert slot.status == "FREE"
