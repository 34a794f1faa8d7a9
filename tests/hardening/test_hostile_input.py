"""Hostile input at the API's shared layers answers a clear 4xx in the API's error format, never
a 500, and writes nothing:

- JSON nested past 64 levels (json raises RecursionError at about a thousand): 400.
- Page numbers and sizes past 64 bits (`?page=99999999999999999999`): 404 / 400, not an
  overflow in LIMIT/OFFSET.
- NUL (\\x00) in any JSON string or key, form value or query parameter: 400 naming the field.
  PostgreSQL refuses NUL in text and jsonb (SQLite stores it): these tests run on both.
- Unpaired surrogates and integers past 64 bits in JSON: 400 naming the field.

Every list endpoint of the URL conf is walked with an all-scopes key."""
import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from apps.accounts.scopes import SCOPES
from apps.patients.models import Patient
from apps.scheduling.models import VisitRequest
from tests.conftest import api_keyed_client
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # > 2**64
NUL_ERROR = ["Null characters are not allowed."]


@pytest.fixture
def integrator(api_key_factory):
    _, raw = api_key_factory(*SCOPES)
    client = api_keyed_client(raw)
    client.raise_request_exception = False  # a 500 is an answer to look at, not a test crash
    return client


def api_list_urls():
    """Every DRF list route under /api/v1/ (router names end in "-list")."""
    names = sorted({name for name in get_resolver().reverse_dict if isinstance(name, str) and name.endswith("-list")})
    urls = [reverse(name) for name in names]
    return [url for url in urls if url.startswith("/api/v1/")]


API_LISTS = api_list_urls()


def test_the_walk_finds_the_api_lists():
    assert {"/api/v1/patients/", "/api/v1/slots/", "/api/v1/visits/", "/api/v1/visit-requests/", "/api/v1/threads/"} <= set(API_LISTS)


def post_raw(client, url, body):
    return client.generic("POST", url, body, content_type="application/json")


def fields(response):
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    return body["extra"].get("fields", {})


# --- deeply nested JSON -------------------------------------------------------------------

@pytest.mark.parametrize("depth", [65, 5_000, 200_000])
@pytest.mark.parametrize("url", ["/api/v1/patients/", "/api/v1/visit-requests/", "/api/v1/visits/"])
def test_deeply_nested_json_answers_400_and_writes_nothing(integrator, url, depth):
    response = post_raw(integrator, url, "[" * depth + "]" * depth)

    assert response.status_code == 400
    assert response.json() == {
        "code": "parse_error", "message": "JSON parse error - nested deeper than 64 levels.", "extra": {}}
    assert Patient.objects.count() == 0 and VisitRequest.objects.count() == 0


def test_nesting_inside_an_object_field_is_refused_too(integrator):
    body = '{"first_name": "Ada", "answers": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}"

    response = post_raw(integrator, "/api/v1/visit-requests/", body)

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_malformed_json_keeps_its_parse_error(integrator):
    response = post_raw(integrator, "/api/v1/patients/", '{"first_name": ')

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["message"].startswith("JSON parse error - ")


# --- page numbers and sizes past 64 bits ---------------------------------------------------

@pytest.mark.parametrize("page", [HUGE, str(2**63), str(2**63 - 1), "9" * 5000, "-" + HUGE, "1e30", "0x10"])
@pytest.mark.parametrize("url", API_LISTS)
def test_a_page_number_past_64_bits_answers_404_invalid_page(integrator, url, page):
    response = integrator.get(url, {"page": page})

    assert response.status_code == 404, response.content[:300]
    assert response.json() == {"code": "not_found", "message": response.json()["message"], "extra": {}}
    assert response.json()["message"].startswith("Invalid page")


@pytest.mark.parametrize("url", ["/api/v1/patients/", "/api/v1/slots/"])
def test_a_huge_page_of_a_list_with_rows_is_empty_not_an_overflow(integrator, url):
    PatientFactory()

    response = integrator.get(url, {"page": str(2**62)})

    assert response.status_code == 404
    assert response.json()["message"] == "Invalid page."


@pytest.mark.parametrize("page_size", [HUGE, "null", "abc", "0", "-1", "1.5", " 5", "٥", "9" * 5000])
@pytest.mark.parametrize("url", API_LISTS)
def test_a_page_size_that_is_not_a_sane_whole_number_answers_400_naming_it(integrator, url, page_size):
    response = integrator.get(url, {"page_size": page_size})

    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "validation_error"
    assert fields(response) == {"page_size": ["A whole number of 1 or more is required (a page holds at most 100)."]}


def test_a_page_size_above_the_maximum_is_capped(integrator):
    for _ in range(3):
        PatientFactory()

    response = integrator.get("/api/v1/patients/", {"page_size": str(2**63 - 1)})

    assert response.status_code == 200
    assert response.json()["count"] == 3 and len(response.json()["results"]) == 3


def test_an_empty_page_size_means_the_default(integrator):
    PatientFactory()

    response = integrator.get("/api/v1/patients/", {"page_size": ""})

    assert response.status_code == 200
    assert response.json()["count"] == 1


# --- NUL in query parameters ---------------------------------------------------------------

@pytest.mark.parametrize("url", API_LISTS)
def test_a_nul_in_any_query_parameter_answers_400_naming_it(integrator, url):
    response = integrator.get(url + "?q=a%00b&page=1")

    assert response.status_code == 400
    assert response.json() == {
        "code": "validation_error",
        "message": "The query parameter “q” contains a null character.",
        "extra": {"fields": {"q": NUL_ERROR}},
    }


@pytest.mark.parametrize("query, name", [
    ("provider=%00", "provider"),
    ("start=2026-01-01T00:00%00", "start"),
    ("page=%00", "page"),
    ("page_size=1%00", "page_size"),
    ("na%00me=x", "na\\x00me"),
])
def test_a_nul_in_a_slot_search_parameter_is_named(integrator, query, name):
    response = integrator.get("/api/v1/slots/?" + query)

    assert response.status_code == 400
    assert fields(response) == {name: NUL_ERROR}


def test_a_nul_in_a_page_query_answers_the_400_problem_page(client_for, front_desk):
    response = client_for(front_desk).get("/staff/messages/?q=%00")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "The query parameter “q” contains a null character." in response.content.decode()


def test_a_nul_in_the_path_is_not_found(integrator):
    response = integrator.get("/api/v1/patients/%00/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- NUL, surrogates and huge integers in JSON bodies ---------------------------------------

def test_a_nul_in_a_json_string_answers_400_naming_the_field_and_writes_nothing(integrator):
    response = integrator.post("/api/v1/patients/", {"first_name": "Ada\x00", "last_name": "Lovelace"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert fields(response) == {"first_name": NUL_ERROR}
    assert Patient.objects.count() == 0


def test_a_nul_deep_in_triage_answers_is_named_by_its_path(integrator):
    body = {"reason": "cough", "symptoms": ["fever", "dry\x00cough"], "answers": {"pain": {"where": "che\x00st"}}}

    response = integrator.post("/api/v1/visit-requests/", body, format="json")

    assert response.status_code == 400
    assert fields(response) == {"symptoms.1": NUL_ERROR, "answers.pain.where": NUL_ERROR}
    assert VisitRequest.objects.count() == 0


def test_a_nul_in_a_json_key_is_named(integrator):
    response = integrator.post("/api/v1/visit-requests/", {"answers": {"pa\x00in": "yes"}}, format="json")

    assert response.status_code == 400
    assert fields(response) == {"answers.pa\\x00in": NUL_ERROR}


def test_an_unpaired_surrogate_is_refused_with_the_field_named(integrator):
    response = post_raw(integrator, "/api/v1/patients/", '{"first_name": "Ada\\ud800"}')

    assert response.status_code == 400
    assert fields(response) == {"first_name": ["Unpaired surrogate characters are not allowed."]}


@pytest.mark.parametrize("number", [HUGE, "-" + HUGE, "1e400"])
def test_a_number_past_64_bits_in_a_body_is_refused_with_the_field_named(integrator, number):
    response = post_raw(integrator, "/api/v1/slots/generate/", '{"days": ' + number + "}")

    assert response.status_code == 400
    assert fields(response) == {"days": ["This number is out of range."]}


def test_a_nul_in_a_form_encoded_body_is_named(integrator):
    response = integrator.post("/api/v1/patients/", {"first_name": "Ada\x00", "last_name": "Lovelace"})  # multipart

    assert response.status_code == 400
    assert fields(response) == {"first_name": NUL_ERROR}
    assert Patient.objects.count() == 0


def test_a_nul_in_a_urlencoded_body_is_named(integrator):
    response = integrator.generic("POST", "/api/v1/patients/", "first_name=Ada%00&last_name=Lovelace",
                                  content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert fields(response) == {"first_name": NUL_ERROR}


def test_clean_input_still_goes_through(integrator):
    body = {"first_name": "Ada ☕", "last_name": "Lovelace", "date_of_birth": "1988-08-08", "email": "ada@example.test"}

    response = integrator.post("/api/v1/patients/?page=1", body, format="json")

    assert response.status_code == 201, response.content[:300]
    assert response.json()["first_name"] == "Ada ☕"
    assert Patient.objects.filter(last_name="Lovelace").count() == 1


def test_an_anonymous_client_with_a_nul_gets_the_json_error_not_html():
    response = Client().get("/api/v1/patients/?q=%00")

    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {"q": NUL_ERROR}
