"""The staff requests board and the ORANGE review queue: who may open them, what they show
(order, tabs, severity text), the audit rows, and a fixed query count."""
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.scheduling.models import Severity, VisitRequest
from tests.factories import PortalPatientFactory
from tests.scheduling.factories import VisitRequestFactory
from tests.scheduling.staff_pages import (
    assert_login_redirect, assert_mfa_redirect, assert_portal_redirect, count_queries, reads_logged,
)

BOARD = "/staff/scheduling/requests/"
REVIEW = "/staff/scheduling/review/"


# --- permissions ----------------------------------------------------------------------------

def test_board_url_is_the_named_one():
    assert reverse("staff_scheduling_board") == BOARD


def test_the_section_address_opens_the_board(client_for, front_desk):
    response = client_for(front_desk).get("/staff/scheduling/")
    assert (response.status_code, response["Location"]) == (302, BOARD)
    board = client_for(front_desk).get("/staff/scheduling/", follow=True)
    assert board.status_code == 200
    assert "<h1>Visit requests</h1>" in board.content.decode()


def test_anonymous_is_sent_to_login(client):
    assert_login_redirect(client.get(BOARD))
    assert_login_redirect(client.get(REVIEW))


def test_a_patient_is_sent_to_the_portal(client_for, patient):
    client = client_for(patient.user)
    assert_portal_redirect(client.get(BOARD))
    assert_portal_redirect(client.get(REVIEW))


def test_staff_without_a_verified_second_factor_are_sent_to_mfa(client_for, front_desk):
    client = client_for(front_desk, verified=False)
    assert_mfa_redirect(client.get(BOARD))


@pytest.mark.parametrize("role,status", [
    ("front_desk", 200), ("nurse", 200), ("provider_user", 200), ("clinic_admin", 200), ("billing_user", 403),
])
def test_board_is_open_to_roles_that_view_visit_requests(request, client_for, role, status):
    user = request.getfixturevalue(role)

    response = client_for(user).get(BOARD)

    assert response.status_code == status
    heading = "<h1>Visit requests</h1>" if status == 200 else "<h1>You can't open this page</h1>"
    assert heading in response.content.decode()


@pytest.mark.parametrize("role", ["front_desk", "nurse", "billing_user"])
def test_review_queue_refuses_roles_without_the_review_permission(request, client_for, role):
    user = request.getfixturevalue(role)
    assert client_for(user).get(REVIEW).status_code == 403


def test_review_queue_refuses_a_reviewer_who_is_not_a_provider(client_for, clinic_admin, provider_user):
    # clinic_admin holds review_visitrequest; provider_user has the role but no Provider profile.
    assert client_for(clinic_admin).get(REVIEW).status_code == 403
    assert client_for(provider_user).get(REVIEW).status_code == 403


def test_review_queue_lists_unreviewed_orange_requests_for_a_provider(client_for, provider):
    waiting = VisitRequestFactory(severity=Severity.ORANGE, status=VisitRequest.Status.NEW)
    VisitRequestFactory(severity=Severity.ORANGE, reviewed_at=timezone.now())
    VisitRequestFactory(severity=Severity.YELLOW)
    response = client_for(provider.user).get(REVIEW)
    assert response.status_code == 200
    assert [r.pk for r in response.context["rows"]] == [waiting.pk]
    assert reads_logged("scheduling.visitrequest", [waiting.pk]) == {str(waiting.pk)}


def test_the_staff_nav_shows_scheduling_only_with_the_permission(client_for, front_desk, billing_user):
    assert f'href="{BOARD}"' in client_for(front_desk).get("/staff/").content.decode()
    assert f'href="{BOARD}"' not in client_for(billing_user).get("/staff/").content.decode()


def test_the_dashboard_has_scheduling_tiles_with_counts(client_for, front_desk):
    VisitRequestFactory(status=VisitRequest.Status.NEW)
    VisitRequestFactory(status=VisitRequest.Status.TRIAGED)
    html = client_for(front_desk).get("/staff/").content.decode()
    assert "New visit requests" in html and "Visits today" in html


# --- content --------------------------------------------------------------------------------

def _at(minutes_ago):
    return timezone.now() - datetime.timedelta(minutes=minutes_ago)


def test_scheduled_tab_orders_by_severity_then_arrival_and_names_the_severity(client_for, front_desk):
    green_old = VisitRequestFactory(severity=Severity.GREEN, created_at=_at(50))
    red = VisitRequestFactory(severity=Severity.RED, created_at=_at(5))
    yellow_new = VisitRequestFactory(severity=Severity.YELLOW, created_at=_at(1))
    yellow_old = VisitRequestFactory(severity=Severity.YELLOW, created_at=_at(30))
    awaiting = VisitRequestFactory(severity=Severity.ORANGE, status=VisitRequest.Status.AWAITING_PATIENT_CONFIRMATION,
                                   offer_expires_at=timezone.now() + datetime.timedelta(hours=4), created_at=_at(3))
    VisitRequestFactory(status=VisitRequest.Status.CANCELLED)
    VisitRequestFactory(status=VisitRequest.Status.CONVERTED_TO_VISIT)
    response = client_for(front_desk).get(BOARD)
    assert [r.pk for r in response.context["rows"]] == [red.pk, awaiting.pk, yellow_old.pk, yellow_new.pk, green_old.pk]
    html = response.content.decode()
    # Severity is written out, not only a colour.
    for text in ["RED · emergency", "ORANGE · review", "YELLOW · expedited", "GREEN · routine"]:
        assert text in html
    assert 'class="row-red"' in html


def test_walk_in_tab_shows_only_walk_ins_waiting(client_for, front_desk, location):
    walk_in = VisitRequestFactory(request_type=VisitRequest.Type.WALK_IN, location=location, status=VisitRequest.Status.NEW)
    VisitRequestFactory()  # scheduled
    response = client_for(front_desk).get(BOARD + "?tab=walk-in")
    assert [r.pk for r in response.context["rows"]] == [walk_in.pk]
    assert response.context["counts"]["walk_in"] == 1
    assert response.context["counts"]["scheduled"] == 1
    assert location.name in response.content.decode()


def test_every_row_shown_is_logged_as_a_read(client_for, front_desk):
    rows = [VisitRequestFactory() for _ in range(3)]
    client_for(front_desk).get(BOARD)
    assert reads_logged("scheduling.visitrequest", [r.pk for r in rows]) == {str(r.pk) for r in rows}


def test_the_partial_renders_only_the_board_for_live_refresh(client_for, front_desk):
    vr = VisitRequestFactory()
    response = client_for(front_desk).get(BOARD + "?partial=1")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-row-id="{vr.pk}"' in html
    assert "<html" not in html


def test_board_costs_the_same_number_of_queries_for_5_and_30_rows(client_for, front_desk, location):
    client = client_for(front_desk)
    client.get(BOARD)  # warm the session / permission caches alike for both runs

    def make(n):
        for i in range(n):
            VisitRequestFactory(patient=PortalPatientFactory(), severity=list(Severity.values)[i % 4])

    make(5)
    five = count_queries(client, BOARD)
    make(25)
    thirty = count_queries(client, BOARD)
    assert len(client.get(BOARD).context["rows"]) == 30
    assert five == thirty


def test_walk_in_tab_query_count_is_fixed(client_for, front_desk, location):
    client = client_for(front_desk)
    url = BOARD + "?tab=walk-in"
    client.get(url)  # the first request of a session does a few one-off writes
    for _ in range(5):
        VisitRequestFactory(request_type=VisitRequest.Type.WALK_IN, location=location)
    five = count_queries(client, url)
    for _ in range(25):
        VisitRequestFactory(request_type=VisitRequest.Type.WALK_IN, location=location)
    assert count_queries(client, url) == five


def test_the_walk_in_tab_shows_one_locations_queue(client_for, front_desk, location):
    from tests.scheduling.factories import LocationFactory

    elsewhere = LocationFactory()
    here = VisitRequestFactory(patient=PortalPatientFactory(), request_type=VisitRequest.Type.WALK_IN, location=location)
    there = VisitRequestFactory(patient=PortalPatientFactory(), request_type=VisitRequest.Type.WALK_IN, location=elsewhere)
    client = client_for(front_desk)

    everyone = client.get(BOARD, {"tab": "walk-in"})
    one = client.get(BOARD, {"tab": "walk-in", "location": str(location.pk)})
    partial = client.get(BOARD, {"tab": "walk-in", "location": str(location.pk), "partial": "1"})

    assert {vr.pk for vr in everyone.context["rows"]} == {here.pk, there.pk}
    assert [vr.pk for vr in one.context["rows"]] == [here.pk]
    assert f"location={location.pk}" in one.content.decode()  # the live refresh keeps the filter
    assert [vr.pk for vr in partial.context["rows"]] == [here.pk]


@pytest.mark.parametrize("value", ["not-a-location", "9" * 30])
def test_an_unknown_location_is_400_naming_it_and_shows_every_walk_in(client_for, front_desk, location, value):
    walk_in = VisitRequestFactory(patient=PortalPatientFactory(), request_type=VisitRequest.Type.WALK_IN, location=location)

    response = client_for(front_desk).get(BOARD, {"tab": "walk-in", "location": value})

    assert response.status_code == 400
    assert "Location:" in response.content.decode()
    assert [vr.pk for vr in response.context["rows"]] == [walk_in.pk]



def test_each_row_carries_its_patients_presence_marker_hidden_until_the_socket_says(client_for, front_desk):
    # static/js/staff_board.js fills the markers from the board socket's presence events (ids only).
    request = VisitRequestFactory(patient=PortalPatientFactory())

    html = client_for(front_desk).get(BOARD).content.decode()

    marker = (f'<span class="pill" data-presence-kind="patient" data-presence-id="{request.patient_id}" '
              'data-presence-label="Patient" hidden></span>')
    assert marker in html
