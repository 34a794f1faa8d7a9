"""Direct booking: list free times, hold one, confirm (idempotent), a taken time is 409."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.scheduling.models import Severity, Visit, VisitRequest, VisitSlot
from tests.scheduling.factories import ProviderFactory, VisitTypeFactory
from tests.scheduling.portal_support import STAFF_ROLES

pytestmark = pytest.mark.django_db

BOOK = "/portal/schedule/book/"


def day_of(slot):
    return slot.start.astimezone(slot.location.tzinfo).date().isoformat()


def search(client, slot, visit_type, **extra):
    return client.get(BOOK, {"visit_type": visit_type.pk, "day": day_of(slot), **extra})


def hold(client, slot, visit_type, **extra):
    return client.post(BOOK, {"slot": slot.pk, "visit_type": visit_type.pk, **extra})


def confirm_url(slot):
    return f"/portal/schedule/book/{slot.pk}/confirm/"


def key_from(response):
    content = response.content.decode()
    marker = 'name="idempotency_key" value="'
    start = content.index(marker) + len(marker)
    return content[start:content.index('"', start)]


# --- access -------------------------------------------------------------------------------

def test_anonymous_is_sent_to_login(client, make_slot):
    slot = make_slot()

    assert client.get(BOOK)["Location"].startswith("/accounts/login/")
    assert client.get(confirm_url(slot))["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_are_redirected(request, client_for, role):
    assert client_for(request.getfixturevalue(role)).get(BOOK)["Location"] == "/staff/"


# --- listing ------------------------------------------------------------------------------

def test_the_free_times_of_the_day_are_listed(client_for, patient, make_slot, visit_type):
    slot = make_slot(hours_from_now=72)
    taken = make_slot(hours_from_now=73, status=VisitSlot.Status.BLOCKED)

    response = search(client_for(patient.user), slot, visit_type)

    content = response.content.decode()
    assert response.status_code == 200
    assert f'value="{slot.pk}"' in content
    assert str(taken.pk) not in content
    assert slot.start.astimezone(slot.location.tzinfo).tzname() in content


def test_without_a_query_the_page_lists_tomorrow(client_for, patient, visit_type, provider):
    response = client_for(patient.user).get(BOOK)

    assert response.status_code == 200
    assert "Show free times" in response.content.decode()


def test_only_self_bookable_visit_types_are_offered(client_for, patient, visit_type, provider):
    hidden = VisitTypeFactory(name="Surgical consult", self_bookable=False)
    provider.visit_types.add(hidden)

    content = client_for(patient.user).get(BOOK).content.decode()

    assert visit_type.name in content
    assert "Surgical consult" not in content


def test_a_day_without_times_points_to_the_next_free_one(client_for, patient, make_slot, visit_type):
    later = make_slot(hours_from_now=24 * 6)
    day = (later.start - datetime.timedelta(days=3)).astimezone(later.location.tzinfo).date()

    response = client_for(patient.user).get(BOOK, {"visit_type": visit_type.pk, "day": day.isoformat()})

    content = response.content.decode()
    assert "No free times on this day." in content
    assert f"day={day_of(later)}" in content


def test_listing_costs_the_same_queries_for_many_slots(client_for, patient, make_slot, visit_type, location):
    client = client_for(patient.user)
    first = make_slot(hours_from_now=72)
    client.get(BOOK)
    with CaptureQueriesContext(connection) as few:
        search(client, first, visit_type)
    for i in range(1, 12):
        other = ProviderFactory(offers=[visit_type])
        make_slot(hours_from_now=72, provider=other)

    with CaptureQueriesContext(connection) as many:
        response = search(client, first, visit_type)

    assert response.content.decode().count("slot-button") >= 12
    assert len(many.captured_queries) == len(few.captured_queries)


# --- hold and confirm ---------------------------------------------------------------------

def test_choosing_a_time_holds_it_and_shows_the_countdown(client_for, patient, make_slot, visit_type):
    slot = make_slot()
    client = client_for(patient.user)

    response = hold(client, slot, visit_type)

    assert response.status_code == 302
    assert response["Location"] == confirm_url(slot)
    slot.refresh_from_db()
    assert slot.status == VisitSlot.Status.HELD and slot.held_for_patient == patient
    page = client.get(confirm_url(slot))
    assert page.status_code == 200
    assert "min left" in page.content.decode()


def test_confirming_books_the_visit(client_for, patient, make_slot, visit_type):
    slot = make_slot()
    client = client_for(patient.user)
    hold(client, slot, visit_type)
    key = key_from(client.get(confirm_url(slot)))

    response = client.post(confirm_url(slot), {"idempotency_key": key})

    visit = Visit.objects.get(patient=patient)
    assert response["Location"] == f"/portal/schedule/visits/{visit.pk}/"
    assert visit.slot == slot and visit.idempotency_key == key
    slot.refresh_from_db()
    assert slot.status == VisitSlot.Status.BOOKED


def test_a_double_submit_returns_the_same_visit(client_for, patient, make_slot, visit_type):
    slot = make_slot()
    client = client_for(patient.user)
    hold(client, slot, visit_type)
    key = key_from(client.get(confirm_url(slot)))

    first = client.post(confirm_url(slot), {"idempotency_key": key})
    second = client.post(confirm_url(slot), {"idempotency_key": key})

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Visit.objects.filter(patient=patient).count() == 1


def test_a_time_someone_else_holds_answers_409_with_a_way_back(client_for, patient, other_patient, make_slot, visit_type):
    slot = make_slot()
    hold(client_for(other_patient.user), slot, visit_type)

    response = hold(client_for(patient.user), slot, visit_type, back=f"{BOOK}?day={day_of(slot)}")

    content = response.content.decode()
    assert response.status_code == 409
    assert "That time was just taken" in content
    assert "Choose another time" in content and f'href="{BOOK}?day={day_of(slot)}"' in content


def test_confirming_after_the_hold_was_lost_answers_409(client_for, patient, make_slot, visit_type):
    slot = make_slot()
    client = client_for(patient.user)
    hold(client, slot, visit_type)
    key = key_from(client.get(confirm_url(slot)))
    VisitSlot.objects.filter(pk=slot.pk).update(held_until=timezone.now() - datetime.timedelta(minutes=1))

    response = client.post(confirm_url(slot), {"idempotency_key": key})

    assert response.status_code == 409
    assert "hold on this time has expired" in response.content.decode()
    assert not Visit.objects.exists()


def test_another_patients_hold_cannot_be_seen_or_confirmed(client_for, patient, other_patient, make_slot, visit_type):
    slot = make_slot()
    hold(client_for(patient.user), slot, visit_type)
    other = client_for(other_patient.user)

    page = other.get(confirm_url(slot))
    post = other.post(confirm_url(slot), {"idempotency_key": "portal-x"})

    assert page.status_code == 409 and post.status_code == 409
    assert not Visit.objects.exists()


def test_releasing_the_hold_frees_the_time(client_for, patient, make_slot, visit_type):
    slot = make_slot()
    client = client_for(patient.user)
    hold(client, slot, visit_type)

    response = client.post(f"/portal/schedule/book/{slot.pk}/release/")

    assert response.status_code == 302
    slot.refresh_from_db()
    assert slot.status == VisitSlot.Status.FREE


def test_a_visit_type_that_is_not_self_bookable_cannot_be_held(client_for, patient, make_slot, provider):
    not_online = VisitTypeFactory(self_bookable=False)
    provider.visit_types.add(not_online)
    slot = make_slot()

    response = hold(client_for(patient.user), slot, not_online)

    assert response.status_code == 404
    slot.refresh_from_db()
    assert slot.status == VisitSlot.Status.FREE


def test_booking_for_a_green_request_converts_it(client_for, patient, make_slot, make_request, visit_type):
    request = make_request(visit_type=None)
    slot = make_slot()
    client = client_for(patient.user)
    assert str(request.pk) in search(client, slot, visit_type, request=request.pk).content.decode()
    hold(client, slot, visit_type, request=request.pk)

    client.post(confirm_url(slot), {"idempotency_key": "portal-abc"})

    request.refresh_from_db()
    assert request.status == VisitRequest.Status.CONVERTED_TO_VISIT
    assert Visit.objects.get(patient=patient).request == request


def test_another_patients_request_cannot_be_used_for_booking(client_for, other_patient, make_slot, make_request, visit_type):
    request = make_request()
    slot = make_slot()

    client = client_for(other_patient.user)
    assert search(client, slot, visit_type, request=request.pk).status_code == 404
    assert hold(client, slot, visit_type, request=request.pk).status_code == 404


def test_an_open_red_request_blocks_online_booking(client_for, patient, make_slot, make_request, visit_type):
    make_request(severity=Severity.RED, status=VisitRequest.Status.NEW)
    slot = make_slot()
    client = client_for(patient.user)

    page = search(client, slot, visit_type)
    response = hold(client, slot, visit_type)

    assert "Seek emergency care now" in page.content.decode()
    assert f'value="{slot.pk}"' not in page.content.decode()
    assert response.status_code == 400
    assert "Seek emergency care now" in response.content.decode()


@pytest.mark.parametrize("hours_from_now, warned", [(6, True), (72, False)])
def test_a_time_inside_the_cancellation_window_is_flagged_before_confirming(
        client_for, patient, make_slot, visit_type, settings, hours_from_now, warned):
    settings.SCHEDULING_CANCELLATION_WINDOW_HOURS = 24
    slot = make_slot(hours_from_now=hours_from_now)
    client = client_for(patient.user)
    hold(client, slot, visit_type)

    page = client.get(confirm_url(slot)).content.decode()

    assert ("less than 24 hours away: once you confirm, you cannot cancel or move it online" in page) is warned
