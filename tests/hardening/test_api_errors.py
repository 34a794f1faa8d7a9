"""Under /api/ every error answers in the API's JSON format {"code", "message", "extra"}, not
the HTML page: an unmatched URL, an id the URL refuses, a server error. Pages keep their
templates. A 500 is logged once, with its traceback and the request id, and without patient
data: no body, no query string, no exception message."""
import json
import logging

import pytest
from django.test import Client

from tests.conftest import api_keyed_client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.hardening.urls")]

NOT_FOUND = {"code": "not_found", "message": "Not found.", "extra": {}}


@pytest.fixture
def anonymous():
    # A server error is answered, not raised into the test.
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("url", [
    "/api/v1/no-such-endpoint/",
    "/api/v1/visits/0.5/",
    "/api/v1/patients/0.5/",
    "/api/",
    "/api/v2/patients/",
])
def test_an_unmatched_api_url_answers_the_api_not_found_json(anonymous, url):
    response = anonymous.get(url)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND


def test_a_non_uuid_visit_id_answers_not_found_json_to_an_integrator(api_key_factory):
    _, raw = api_key_factory("scheduling:read")

    response = api_keyed_client(raw).get("/api/v1/visits/0.5/")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_an_unmatched_page_url_keeps_the_html_404_page(anonymous):
    response = anonymous.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"<html" in response.content.lower()


def test_an_api_view_that_raises_answers_a_json_500_with_the_request_id(anonymous):
    response = anonymous.get("/api/v1/test-boom/?name=Jane", HTTP_X_REQUEST_ID="req-500-json")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "server_error",
        "message": "Something went wrong on our side; please try again.",
        "extra": {"request_id": "req-500-json"},
    }
    assert response["X-Request-ID"] == "req-500-json"


def test_a_plain_view_under_api_that_raises_answers_json_too(anonymous):
    response = anonymous.get("/api/v1/test-plain-boom/")

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def test_a_page_that_raises_keeps_the_html_500_page(anonymous):
    response = anonymous.get("/test-page-boom/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"Something went wrong" in response.content


def test_a_500_is_logged_once_with_traceback_and_request_id_and_no_patient_data(anonymous, caplog):
    with caplog.at_level(logging.INFO):
        anonymous.post(
            "/api/v1/test-boom/?name=Jane+Query&dob=1980-04-02",
            data=json.dumps({"name": "Jane Body"}), content_type="application/json",
            HTTP_X_REQUEST_ID="req-500-log",
        )

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    text = errors[0].getMessage()
    assert errors[0].name == "apps.core.errors"
    assert text.startswith("server error: POST /api/v1/test-boom/ (request req-500-log) raised LookupError\n")
    assert "Traceback (most recent call last):" in text
    assert 'in find_the_patient\n    raise LookupError(f"no chart for {name} born 1980-04-02")' in text
    assert "LookupError (message withheld: it may hold patient data)" in text
    assert errors[0].exc_info is None  # nothing else formats the exception (and its message)
    everything = caplog.text + "".join(r.getMessage() for r in caplog.records)
    for phi in ("Jane", "dob="):  # the values; the source line of the raise is shown, as code
        assert phi not in everything


def test_an_exception_raised_while_handling_another_shows_both_classes(anonymous, caplog, monkeypatch):
    def chained(name):
        try:
            {}[name]
        except KeyError as exc:
            raise RuntimeError(f"lookup of {name} failed") from exc

    monkeypatch.setattr("tests.hardening.urls.find_the_patient", chained)
    with caplog.at_level(logging.ERROR):
        anonymous.get("/api/v1/test-boom/?name=Jane")

    text = next(r for r in caplog.records if r.name == "apps.core.errors").getMessage()
    assert "KeyError (message withheld" in text
    assert "RuntimeError (message withheld" in text
    assert text.index("KeyError (") < text.index("RuntimeError (")
    assert "Jane" not in text
