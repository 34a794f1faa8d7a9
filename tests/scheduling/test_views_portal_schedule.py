"""/portal/schedule/: the patient's visits, requests and offers."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.scheduling.models import Severity, Visit, VisitRequest
from tests.scheduling.factories import SlotFactory, VisitRequestFactory
from tests.scheduling.portal_support import STAFF_ROLES, book, offer

pytestmark = pytest.mark.django_db

URL = "/portal/schedule/"


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={URL}"


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_are_redirected_to_the_staff_pages(request, client_for, role):
    response = client_for(request.getfixturevalue(role)).get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_the_portal_nav_links_to_the_schedule(client_for, patient):
    response = client_for(patient.user).get("/portal/")

    assert f'href="{URL}"' in response.content.decode()


def test_an_empty_schedule_renders(client_for, patient):
    response = client_for(patient.user).get(URL)

    assert response.status_code == 200
    assert "No upcoming visits" in response.content.decode()


def test_visits_are_shown_in_the_location_timezone_with_its_abbreviation(client_for, patient, make_slot, visit_type, location):
    location.timezone = "America/Los_Angeles"
    location.save()
    slot = make_slot(hours_from_now=72)
    book(patient, slot, visit_type)

    content = client_for(patient.user).get(URL).content.decode()

    local = slot.start.astimezone(location.tzinfo)
    hour = local.hour % 12 or 12
    assert f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'} {local.tzname()}" in content
    assert local.tzname() in ("PST", "PDT")


def test_upcoming_past_pending_and_offers_are_listed(client_for, patient, make_slot, make_request, visit_type, front_desk):
    upcoming = book(patient, make_slot(hours_from_now=72), visit_type)
    past = book(patient, make_slot(hours_from_now=96), visit_type)
    Visit.objects.filter(pk=past.pk).update(start=timezone.now() - datetime.timedelta(days=3),
                                            end=timezone.now() - datetime.timedelta(days=3, minutes=-30))
    pending = make_request(reason="Knee hurts")
    offered = make_request(reason="Check-up")
    offer(offered, [make_slot(hours_from_now=120)], front_desk)

    content = client_for(patient.user).get(URL).content.decode()

    assert f"/portal/schedule/visits/{upcoming.pk}/" in content
    assert f"/portal/schedule/visits/{past.pk}/" in content
    assert f"/portal/schedule/requests/{pending.pk}/" in content
    assert f"/portal/schedule/requests/{offered.pk}/offer/" in content
    assert "left" in content  # the deadline countdown
    assert content.index("Upcoming visits") < content.index(f"/portal/schedule/visits/{upcoming.pk}/") < content.index("Past and cancelled")


def test_another_patients_visits_and_requests_are_not_shown(client_for, patient, other_patient, make_slot, visit_type, make_request):
    theirs = book(other_patient, make_slot(), visit_type)
    their_request = make_request(patient=other_patient)

    content = client_for(patient.user).get(URL).content.decode()

    assert str(theirs.pk) not in content
    assert str(their_request.pk) not in content


def test_an_open_red_request_shows_the_emergency_instructions(client_for, patient, make_request):
    make_request(severity=Severity.RED, status=VisitRequest.Status.NEW)

    content = client_for(patient.user).get(URL).content.decode()

    assert "Seek emergency care now" in content
    assert "911" in content


def test_viewing_the_schedule_writes_one_audit_row_per_visit_and_request(client_for, patient, make_slot, visit_type, make_request):
    visit = book(patient, make_slot(), visit_type)
    request = make_request()
    before = AccessLog.objects.filter(action="read").count()

    client_for(patient.user).get(URL)

    rows = AccessLog.objects.filter(action="read").order_by("id")[before:]
    assert {(r.object_type, r.object_id) for r in rows} == {("scheduling.visit", str(visit.pk)), ("scheduling.visitrequest", str(request.pk))}
    assert all(r.patient_id == patient.pk and r.actor_user_id == patient.user_id for r in rows)


def _arrange(patient, visit_type, provider, location, front_desk, n):
    """n upcoming visits, n past visits, n pending requests and n open offers (2 slots each)."""
    base = timezone.now() + datetime.timedelta(days=2)
    slots = iter(SlotFactory(provider=provider, location=location, start=base + datetime.timedelta(hours=i))
                 for i in range(10_000))
    for _ in range(n):
        book(patient, next(slots), visit_type)
        past = book(patient, next(slots), visit_type)
        Visit.objects.filter(pk=past.pk).update(start=timezone.now() - datetime.timedelta(days=5), end=timezone.now() - datetime.timedelta(days=5, minutes=-30))
        VisitRequestFactory(patient=patient, visit_type=visit_type)
        offer(VisitRequestFactory(patient=patient, visit_type=visit_type), [next(slots), next(slots)], front_desk)


def _count_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_the_schedule_costs_a_fixed_number_of_queries(client_for, patient, visit_type, provider, location, front_desk):
    client = client_for(patient.user)
    _arrange(patient, visit_type, provider, location, front_desk, 1)
    client.get(URL)  # the first page view of a session also writes the session
    small, _ = _count_queries(client)

    _arrange(patient, visit_type, provider, location, front_desk, 6)
    large, response = _count_queries(client)

    assert large == small
    assert response.content.decode().count("/offer/") >= 7


def test_the_schedule_stays_under_a_query_budget(client_for, patient, visit_type, provider, location, front_desk):
    client = client_for(patient.user)
    _arrange(patient, visit_type, provider, location, front_desk, 3)
    client.get(URL)

    count, _ = _count_queries(client)

    # session + user + patient, 4 reads (upcoming, past count + page, requests + held slots),
    # one audit insert, the bell's unread count, a savepoint or two.
    assert count <= 14


def test_past_visits_are_paginated(client_for, patient, visit_type, provider, location, front_desk):
    _arrange(patient, visit_type, provider, location, front_desk, 12)

    content = client_for(patient.user).get(URL + "?page=2").content.decode()

    assert "Page 2 of 2" in content
