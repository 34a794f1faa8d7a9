"""The shared validation (apps/core/validation.py) as the API, the pages and the filters answer
with it: the examples of the hostile-input report, each with what the user is told, and the
API and the forms refusing the same input with the same words."""
import datetime
import html
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.scopes import SCOPES
from apps.core import validation
from apps.messaging.threads.models import Thread
from apps.patients.models import Patient
from apps.scheduling.models import VisitRequest
from tests.conftest import api_keyed_client, api_session
from tests.hardening.walk_table import HUGE, dst_gap
from tests.scheduling.conftest import default_triage_questions  # noqa: F401 (a fixture)
from tests.messaging.thread_helpers import patient_thread
from tests.scheduling.factories import LocationFactory, ProviderFactory, SlotFactory, VisitRequestFactory, VisitTypeFactory

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
GAP = dst_gap("America/New_York")
YEARS = validation.YEAR_MESSAGE


@pytest.fixture
def integrator(api_key_factory):
    return api_keyed_client(api_key_factory(*SCOPES)[1])


def fields(response):
    assert response.status_code == 400, response.content[:300]
    return response.json()["extra"]["fields"]


def horizon_message():
    horizon = timezone.localdate() + datetime.timedelta(days=60)
    return f"Choose a date between today and {horizon:%b} {horizon.day}, {horizon.year}."


# --- the rules ----------------------------------------------------------------------------------

def test_a_naive_time_in_the_dst_gap_is_refused_naming_the_zone():
    naive = datetime.datetime.fromisoformat(GAP)

    with pytest.raises(ValidationError) as info:
        validation.check_datetime(naive, NY)

    assert info.value.messages == [f"{naive:%Y-%m-%d %H:%M} does not exist in America/New_York: the clocks skip that hour. "
                                   "Give another time, or an offset."]


def test_the_repeated_hour_needs_an_offset_and_an_offset_is_converted():
    with pytest.raises(ValidationError) as info:
        validation.check_datetime(datetime.datetime(2027, 11, 7, 1, 30), NY)
    assert "happens twice in America/New_York" in info.value.messages[0]

    aware = validation.check_datetime(datetime.datetime(2027, 11, 7, 1, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))), NY)
    assert aware.utcoffset() == datetime.timedelta(hours=-5) and aware.tzinfo == NY


@pytest.mark.parametrize("value", [
    datetime.datetime(9999, 12, 31, 23, 0), datetime.datetime(1, 1, 1),
    datetime.datetime(9999, 12, 31, 23, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
    datetime.datetime(1, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=5))),
])
def test_datetimes_at_the_ends_of_the_calendar_are_out_of_range_not_an_overflow(value):
    with pytest.raises(ValidationError) as info:
        validation.check_datetime(value, NY)

    assert info.value.messages == [YEARS]


@pytest.mark.parametrize("value, expected", [("42", 42), (str(2**63 - 1), 2**63 - 1), (str(-2**63), -2**63),
                                             (HUGE, None), (str(2**63), None), ("1e3", None), ("٥", None), ("", None),
                                             (True, None), ("9" * 5_000, None)])
def test_an_integer_id_is_within_64_bits(value, expected):
    assert validation.int64_or_none(value) == expected


@pytest.mark.parametrize("text", ["22:00+05:00", "22:00Z", "22:00:00-0300"])
def test_a_time_of_day_with_an_offset_is_refused(text):
    with pytest.raises(ValidationError) as info:
        validation.check_time_of_day(text)
    assert info.value.messages == [validation.OFFSET_MESSAGE]


def test_text_that_cannot_be_stored_is_named_or_replaced():
    assert validation.text_problem("a\x00b") == validation.NUL_MESSAGE
    assert validation.text_problem("a\ud800b") == validation.SURROGATE_MESSAGE
    assert validation.text_problem("Ada ☕") is None
    assert validation.storable_text("a\x00b\ud800") == "a\ufffdb\ufffd"


# --- the examples of the report, through the API and the pages --------------------------------------

def test_assigned_to_past_64_bits_on_the_thread_list_is_a_400_naming_it(integrator):
    assert fields(integrator.get("/api/v1/threads/", {"assigned_to": HUGE})) == {
        "assigned_to": [f"Ensure this value is less than or equal to {2**63 - 1}."]}


@pytest.mark.parametrize("params, name", [({"unread": "maybe"}, "unread"), ({"unassigned": "yes please"}, "unassigned")])
def test_a_non_boolean_thread_filter_is_a_400_not_ignored(integrator, params, name):
    assert fields(integrator.get("/api/v1/threads/", params)) == {name: [validation.BOOLEAN_MESSAGE]}


def test_the_unread_filter_still_filters(integrator, patient):
    patient_thread(patient)  # a patient's message: unread for the care team

    unread = integrator.get("/api/v1/threads/", {"unread": "true"})
    read = integrator.get("/api/v1/threads/", {"unread": "false"})

    assert (unread.json()["count"], read.json()["count"]) == (1, 0)


@pytest.mark.parametrize("url, name", [("/api/v1/threads/?status=", "status"), ("/api/v1/visit-requests/?type=", "type"),
                                       ("/api/v1/slots/?mode=", "mode"), ("/api/v1/visits/?provider=", "provider")])
def test_a_filter_given_empty_is_a_400_naming_it(integrator, url, name):
    assert fields(integrator.get(url)) == {name: [validation.EMPTY_MESSAGE]}


@pytest.mark.parametrize("url, name", [("/api/v1/slots/?provider=abc", "provider"), ("/api/v1/slots/?visit_type=abc", "visit_type"),
                                       ("/api/v1/visits/?provider=abc", "provider")])
def test_a_filter_that_is_not_a_uuid_is_a_400_naming_it(integrator, url, name):
    assert list(fields(integrator.get(url))) == [name]


@pytest.mark.parametrize("start", ["9999-12-31T23:00", "9999-12-31T23:00-05:00", "0001-01-01T00:00"])
def test_a_slot_search_at_the_ends_of_the_calendar_is_a_400(integrator, start):
    assert fields(integrator.get("/api/v1/slots/", {"start": start})) == {"start": [YEARS]}


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_visit_list_on_a_day_at_the_ends_of_the_calendar_is_a_400(integrator, day):
    assert fields(integrator.get("/api/v1/visits/", {"date": day})) == {"date": [YEARS]}


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_day_page_on_a_day_at_the_ends_of_the_calendar_says_so(client_for, front_desk, day):
    response = client_for(front_desk).get("/staff/scheduling/day/", {"date": day})

    assert response.status_code == 400
    assert f"Date: {YEARS}" in response.content.decode()


def test_the_front_desk_names_a_location_it_cannot_read(client_for, front_desk):
    response = client_for(front_desk).get("/staff/scheduling/front-desk/", {"location": HUGE})

    assert response.status_code == 400
    assert f"Location: “{HUGE}” is not a valid UUID." in html.unescape(response.content.decode())


def test_the_api_and_the_offer_form_refuse_the_dst_gap_alike(integrator, client_for, nurse):
    visit_type = VisitTypeFactory()
    provider = ProviderFactory(offers=[visit_type])
    slot = SlotFactory(provider=provider, location=LocationFactory())
    vr = VisitRequestFactory(visit_type=visit_type)
    expected = [f"{datetime.datetime.fromisoformat(GAP):%Y-%m-%d %H:%M} does not exist in America/New_York: "
                "the clocks skip that hour. Give another time, or an offset."]

    search = integrator.get("/api/v1/slots/", {"start": GAP})
    offer = api_session(nurse).post(f"/api/v1/visit-requests/{vr.pk}/offer/", {"slots": [str(slot.pk)], "hold_until": GAP},
                                    format="json")
    page = client_for(nurse).post(f"/staff/scheduling/requests/{vr.pk}/offer/", {"slots": [str(slot.pk)], "hold_until": GAP})

    assert fields(search) == {"start": expected}
    assert fields(offer) == {"hold_until": expected}
    assert page.status_code == 400 and page.context["forms"]["offer"].errors["hold_until"] == expected
    vr.refresh_from_db()
    assert vr.status == VisitRequest.Status.TRIAGED


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2020-01-01"])
def test_the_api_and_the_portal_form_refuse_the_same_preferred_dates(integrator, client_for, patient, default_triage_questions, day):
    api = integrator.post("/api/v1/visit-requests/", {"patient": str(patient.pk), "reason": "Cough", "preferred_dates": [day]},
                          format="json")
    data = {"reason": "Cough", "preferred_date_1": day, **{f"q_{q.key}": "no" for q in default_triage_questions}}
    page = client_for(patient.user).post("/portal/schedule/request/future/", data)

    message = horizon_message() if day == "2020-01-01" else YEARS
    assert fields(api) == {"preferred_dates": [message]} if day == "2020-01-01" else list(fields(api)) == ["preferred_dates"]
    assert page.status_code == 400 and page.context["form"].errors["preferred_date_1"] == [message]
    assert not VisitRequest.objects.exists()


def test_a_preferred_date_in_9999_gets_the_same_words_from_the_api_and_the_form(integrator, client_for, patient):
    api = integrator.post("/api/v1/visit-requests/", {"patient": str(patient.pk), "preferred_dates": ["9999-12-31"]}, format="json")
    page = client_for(patient.user).post("/portal/schedule/request/future/", {"reason": "Cough", "preferred_date_1": "9999-12-31"})

    assert fields(api)["preferred_dates"] in ([YEARS], {"0": [YEARS]})
    assert page.context["form"].errors["preferred_date_1"] == [YEARS]


def test_triage_answers_are_short_scalars(integrator, patient):
    for answers, message in [({"fever": "y" * 201}, "Each answer is a text of at most 200 characters, a number or a boolean."),
                             ({"fever": {"nested": "yes"}}, "Each answer is a text of at most 200 characters, a number or a boolean."),
                             ({"k" * 65: "yes"}, "Answer keys have at most 64 characters.")]:
        response = integrator.post("/api/v1/visit-requests/", {"patient": str(patient.pk), "answers": answers}, format="json")
        assert fields(response) == {"answers": [message]}
    assert not VisitRequest.objects.exists()


@pytest.mark.parametrize("body", [{"email_opt_in": "maybe"}, {"email_opt_in": ""}, {"sms_opt_in": ""}])
def test_a_notification_preference_that_is_not_a_boolean_is_refused_in_a_form_body(integrator, patient, body):
    response = integrator.patch(f"/api/v1/patients/{patient.pk}/notification-preferences/", body)  # multipart

    assert list(fields(response)) == list(body)
    patient.refresh_from_db()
    assert patient.email_opt_in and patient.sms_opt_in


@pytest.mark.parametrize("url", ["/api/v1/patients/{pk}/notification-preferences/", "/api/v1/patients/{pk}/"])
def test_quiet_hours_with_an_offset_are_refused_not_dropped(integrator, patient, url):
    response = integrator.patch(url.format(pk=patient.pk), {"quiet_hours_start": "22:00+05:00", "quiet_hours_end": "07:00"},
                                format="json")

    assert fields(response) == {"quiet_hours_start": [validation.OFFSET_MESSAGE]}
    patient.refresh_from_db()
    assert patient.quiet_hours_start is None


@pytest.mark.parametrize("dob, message", [("0001-01-01", "Check the year of birth."), ("9999-12-31", "Date of birth cannot be in the future.")])
def test_the_api_and_the_signup_form_refuse_the_same_dates_of_birth(integrator, client, dob, message):
    api = integrator.post("/api/v1/patients/", {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": dob}, format="json")
    page = client.post("/accounts/signup/", {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": dob,
                                             "email": "ada@example.test", "phone": "+12125550100", "password1": "x-Correct-9-horse",
                                             "password2": "x-Correct-9-horse", "accept_terms": "on"})

    assert fields(api) == {"date_of_birth": [message]}
    assert page.context["form"].errors["date_of_birth"] == [message]
    assert not Patient.objects.exists()


@pytest.mark.parametrize("assignee", [HUGE, "a\x00b", "x" * 10_000])
def test_assigning_a_thread_to_someone_unreadable_changes_nothing(client_for, clinic_admin, patient, assignee):
    thread = patient_thread(patient)
    Thread.objects.filter(pk=thread.pk).update(assigned_to=clinic_admin)

    response = client_for(clinic_admin).post(f"/staff/messages/{thread.pk}/assign/", {"assignee": assignee}, follow=True)

    assert "Choose a staff member." in response.content.decode()
    thread.refresh_from_db()
    assert thread.assigned_to == clinic_admin


def test_an_unreadable_reason_refuses_blocking_the_slot(client_for, clinic_admin):
    slot = SlotFactory()

    response = client_for(clinic_admin).post(f"/staff/scheduling/slots/{slot.pk}/block/", {"reason": "r\x00"})

    assert response.status_code == 400
    assert "Reason: Null characters are not allowed. (400 validation_error)" in response.content.decode()
    slot.refresh_from_db()
    assert slot.status == "FREE"
