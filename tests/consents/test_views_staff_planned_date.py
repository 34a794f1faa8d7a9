"""The planned surgery date on the staff pages (set when drafting, changed on the plan's page
until the theatre is booked, refused with its status and words after) and through the API
(PATCH with the date alone on an approved plan), and the portal's plan page showing it."""
import datetime

import pytest
from django.utils import timezone

from apps.consents.models import ProcedurePlan
from tests.conftest import api_keyed_client
from tests.consents.test_views_staff import lines_post

pytestmark = pytest.mark.django_db


def _in(days):
    return timezone.localdate() + datetime.timedelta(days=days)


def test_drafting_a_plan_with_a_planned_date(flow, client_for):
    flow.consult()
    client = client_for(flow.surgeon_user)

    response = client.post(f"/staff/surgery/patients/{flow.patient.pk}/plans/new/", {
        "consultation": str(flow.consultation.pk), "surgeon": str(flow.surgeon.pk), "notes": "",
        "planned_date": _in(30).isoformat(), **lines_post()})

    assert response.status_code == 302
    plan = ProcedurePlan.objects.get(patient=flow.patient)
    assert plan.planned_date == _in(30)
    page = client.get(response["Location"]).content.decode()
    assert f"{_in(30):%a} {_in(30).day} {_in(30):%b %Y}" in page and "Save the date" in page


def test_the_plan_page_changes_the_date_of_an_approved_plan(flow, client_for):
    plan = flow.approve()
    client = client_for(flow.surgeon_user)

    response = client.post(f"/staff/surgery/plans/{plan.pk}/planned-date/", {"date-planned_date": _in(21).isoformat()})

    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.planned_date, plan.status) == (_in(21), "APPROVED")
    assert f"Planned surgery date: {_in(21):%a %d %b %Y}." in client.get(response["Location"]).content.decode()

    cleared = client.post(f"/staff/surgery/plans/{plan.pk}/planned-date/", {"date-planned_date": ""})
    plan.refresh_from_db()
    assert cleared.status_code == 302 and plan.planned_date is None


@pytest.mark.parametrize("value, words", [
    ("2000-01-01", "Choose a planned date between today and"),
    ("0001-01-01", "Enter a date between the years"),
    ("not a date", "Enter a valid date."),
])
def test_a_bad_planned_date_is_a_400_on_the_page(flow, client_for, value, words):
    plan = flow.approve()

    response = client_for(flow.surgeon_user).post(f"/staff/surgery/plans/{plan.pk}/planned-date/",
                                                  {"date-planned_date": value})

    assert response.status_code == 400
    assert words in response.content.decode()
    plan.refresh_from_db()
    assert plan.planned_date is None


def test_once_the_theatre_is_booked_the_date_is_refused_with_409(flow, client_for):
    flow.book()

    response = client_for(flow.surgeon_user).post(f"/staff/surgery/plans/{flow.plan.pk}/planned-date/",
                                                  {"date-planned_date": _in(9).isoformat()})

    assert response.status_code == 409
    assert "The planned date can change until the theatre is booked." in response.content.decode()
    flow.plan.refresh_from_db()
    assert flow.plan.planned_date is None


def test_a_role_without_change_permission_cannot_set_it_and_another_patient_sees_404(flow, other_flow, client_for,
                                                                                    billing_user):
    plan = flow.approve()

    denied = client_for(billing_user).post(f"/staff/surgery/plans/{plan.pk}/planned-date/",
                                           {"date-planned_date": _in(9).isoformat()})
    portal = client_for(other_flow.patient.user).get(f"/portal/plans/{plan.pk}/")

    assert denied.status_code == 403 and portal.status_code == 404
    plan.refresh_from_db()
    assert plan.planned_date is None


def test_the_api_sets_the_date_alone_on_an_approved_plan_but_not_with_content(flow, api_key_factory):
    plan = flow.approve()
    api_client = api_keyed_client(api_key_factory("consents:read", "consents:write")[1])
    url = f"/api/v1/procedure-plans/{plan.pk}/"

    dated = api_client.patch(url, {"planned_date": _in(14).isoformat()}, format="json")
    frozen = api_client.patch(url, {"planned_date": _in(15).isoformat(), "notes": "x"}, format="json")
    bad = api_client.patch(url, {"planned_date": "9999-12-31"}, format="json")

    assert dated.status_code == 200 and dated.json()["planned_date"] == _in(14).isoformat()
    assert frozen.status_code == 409 and frozen.json()["code"] == "plan_frozen"
    assert bad.status_code == 400 and "planned_date" in bad.json()["extra"]["fields"]
    plan.refresh_from_db()
    assert plan.planned_date == _in(14)


def test_the_portal_plan_page_shows_the_planned_date(flow, client_for):
    plan = flow.approve()
    ProcedurePlan.objects.filter(pk=plan.pk).update(planned_date=_in(10))

    text = client_for(flow.patient.user).get(f"/portal/plans/{plan.pk}/").content.decode()

    assert f"planned for {_in(10):%a} {_in(10).day} {_in(10):%b %Y}" in text
