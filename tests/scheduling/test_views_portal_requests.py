"""The request pages: the two choices, the request form, the triage outcome, cancelling."""
import datetime

import pytest
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.scheduling.models import Severity, Visit, VisitRequest, VisitSlot
from tests.scheduling.portal_support import STAFF_ROLES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_triage_rules")]

START = "/portal/schedule/request/"
FUTURE = "/portal/schedule/request/future/"
WALK_IN = "/portal/schedule/request/walk-in/"

NO_EMERGENCY = {f"q_{k}": "no" for k in ("chest_pain", "trouble_breathing", "stroke_signs", "severe_bleeding", "suicidal_thoughts")}


def future_data(**overrides):
    data = {"reason": "Knee pain after running", "symptoms": ["Back or joint pain"], **NO_EMERGENCY}
    data.update(overrides)
    return data


def detail_url(request):
    return f"/portal/schedule/requests/{request.pk}/"


# --- who gets in --------------------------------------------------------------------------

@pytest.mark.parametrize("url", [START, FUTURE, WALK_IN])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("role", STAFF_ROLES)
@pytest.mark.parametrize("url", [START, FUTURE, WALK_IN])
def test_staff_are_redirected_to_the_staff_pages(request, client_for, role, url):
    response = client_for(request.getfixturevalue(role)).get(url)

    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_the_start_page_offers_walk_in_and_future_visit(client_for, patient):
    content = client_for(patient.user).get(START).content.decode()

    assert "I need to be seen today (walk-in)" in content
    assert "Request a future visit" in content
    assert f'href="{WALK_IN}"' in content and f'href="{FUTURE}"' in content


@pytest.mark.parametrize("url", [FUTURE, WALK_IN])
def test_the_forms_render_with_the_triage_questions(client_for, patient, location, url):
    response = client_for(patient.user).get(url)

    content = response.content.decode()
    assert response.status_code == 200
    for key in ("chest_pain", "trouble_breathing", "stroke_signs", "severe_bleeding", "suicidal_thoughts", "fever", "worsening"):
        assert f'name="q_{key}"' in content
    assert 'name="pain_scale"' in content and 'name="temperature_f"' in content
    assert ('name="preferred_date_3"' in content) == (url == FUTURE)


# --- the outcome --------------------------------------------------------------------------

def test_a_red_answer_shows_emergency_instructions_and_schedules_nothing(client_for, patient, location, front_desk, notifications):
    client = client_for(patient.user)

    response = client.post(FUTURE, future_data(q_chest_pain="yes"), follow=True)

    request = VisitRequest.objects.get(patient=patient)
    assert request.severity == Severity.RED
    content = response.content.decode()
    assert response.status_code == 200
    assert "Seek emergency care now" in content
    assert "Call 911" in content and "emergency department" in content
    assert "Book a time now" not in content
    assert not Visit.objects.filter(patient=patient).exists()
    assert not VisitSlot.objects.filter(status=VisitSlot.Status.HELD).exists()
    assert "triage_red_alert" in notifications(front_desk)


def test_a_red_keyword_in_the_free_text_is_red_too(client_for, patient):
    client_for(patient.user).post(FUTURE, future_data(other_symptoms="slurred speech since this morning"))

    assert VisitRequest.objects.get(patient=patient).severity == Severity.RED


def test_the_emergency_questions_must_be_answered(client_for, patient):
    data = future_data()
    del data["q_chest_pain"]

    response = client_for(patient.user).post(FUTURE, data)

    assert response.status_code == 400
    assert "Please answer yes or no." in response.content.decode()
    assert not VisitRequest.objects.exists()


def test_a_green_request_offers_direct_booking(client_for, patient, visit_type, provider):
    client = client_for(patient.user)

    response = client.post(FUTURE, future_data(preferred_date_1=(timezone.localdate() + datetime.timedelta(days=3)).isoformat(),
                                               preferred_mode="IN_PERSON"))

    request = VisitRequest.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == detail_url(request)
    assert request.severity == Severity.GREEN
    assert request.preferred_mode == "IN_PERSON" and len(request.preferred_dates) == 1
    content = client.get(detail_url(request)).content.decode()
    assert "Book a time now" in content
    assert f"/portal/schedule/book/?request={request.pk}" in content


def test_a_yellow_request_says_times_come_within_48_hours(client_for, patient):
    client = client_for(patient.user)

    response = client.post(FUTURE, future_data(symptoms=["Vomiting"]), follow=True)

    assert VisitRequest.objects.get(patient=patient).severity == Severity.YELLOW
    assert "within 48 hours" in response.content.decode()


def test_an_orange_request_says_a_provider_reviews_it_first(client_for, patient):
    client = client_for(patient.user)

    response = client.post(FUTURE, future_data(temperature_f="104"), follow=True)

    request = VisitRequest.objects.get(patient=patient)
    assert request.severity == Severity.ORANGE
    assert request.answers["temperature_c"] == 40.0
    assert "A provider will review your answers first" in response.content.decode()
    assert "Book a time now" not in response.content.decode()


def test_a_walk_in_joins_the_queue_at_the_location(client_for, patient, location):
    client = client_for(patient.user)

    response = client.post(WALK_IN, {**future_data(), "location": location.pk}, follow=True)

    request = VisitRequest.objects.get(patient=patient)
    assert request.request_type == VisitRequest.Type.WALK_IN
    assert request.location == location
    assert "walk-in queue" in response.content.decode()


def test_a_walk_in_needs_a_location(client_for, patient, location):
    response = client_for(patient.user).post(WALK_IN, future_data())

    assert response.status_code == 400
    assert not VisitRequest.objects.exists()


def test_preferred_dates_must_be_ahead(client_for, patient):
    response = client_for(patient.user).post(FUTURE, future_data(preferred_date_1="2020-01-01"))

    assert response.status_code == 400
    assert not VisitRequest.objects.exists()


# --- the request page ---------------------------------------------------------------------

def test_the_request_page_renders_for_the_owner_and_is_audited(client_for, patient, make_request):
    request = make_request(reason="Sore shoulder")

    response = client_for(patient.user).get(detail_url(request))

    assert response.status_code == 200
    assert "Sore shoulder" in response.content.decode()
    assert AccessLog.objects.filter(action="read", object_type="scheduling.visitrequest", object_id=str(request.pk)).exists()


def test_another_patients_request_is_404(client_for, other_patient, make_request):
    request = make_request()

    assert client_for(other_patient.user).get(detail_url(request)).status_code == 404
    assert client_for(other_patient.user).post(detail_url(request) + "cancel/").status_code == 404


def test_an_unknown_request_is_404(client_for, patient):
    assert client_for(patient.user).get("/portal/schedule/requests/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_anonymous_and_staff_cannot_open_a_request(client, client_for, front_desk, make_request):
    request = make_request()

    assert client.get(detail_url(request))["Location"].startswith("/accounts/login/")
    assert client_for(front_desk).get(detail_url(request))["Location"] == "/staff/"


def test_the_patient_can_cancel_an_open_request(client_for, patient, make_request):
    request = make_request()

    response = client_for(patient.user).post(detail_url(request) + "cancel/")

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == VisitRequest.Status.CANCELLED


def test_cancelling_a_converted_request_is_a_409_page(client_for, patient, make_request):
    request = make_request(status=VisitRequest.Status.CONVERTED_TO_VISIT)

    response = client_for(patient.user).post(detail_url(request) + "cancel/")

    assert response.status_code == 409
    assert "cannot be cancelled" in response.content.decode()
