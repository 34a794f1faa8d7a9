"""The one page-error path (apps/core/pages.py): a view that calls a refusing service has no
except of its own; the middleware puts the refusal on the form or the problem page, at the
refusal's status code."""
import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.pages_urls")]


def test_a_conflict_lands_on_the_form_as_a_non_field_error_with_its_status(client):
    response = client.post("/form/", {"name": "taken"})

    assert response.status_code == 409
    assert response.content.decode() == "name_taken||That name was just taken."


def test_field_errors_land_on_their_fields_and_unknown_fields_at_the_top(client):
    response = client.post("/form/", {"name": "short"})

    assert response.status_code == 400
    assert response.content.decode() == "validation_error|Too short for the clinic.|Not on this form."


def test_a_service_that_succeeds_is_untouched(client):
    response = client.post("/form/", {"name": "Maria"})

    assert (response.status_code, response.content.decode()) == (200, "saved Maria")


def test_a_refusal_without_an_answer_shows_the_problem_page_at_its_status(client):
    response = client.get("/plain/")

    assert response.status_code == 409
    body = response.content.decode()
    assert "The visit moved meanwhile." in body and 'data-code="stale_visit"' in body


def test_not_found_is_always_the_404_page(client):
    response = client.get("/missing/")

    assert response.status_code == 404
    assert "not used" not in response.content.decode()


def test_permission_denied_is_the_403_page(client):
    response = client.get("/denied/")

    assert response.status_code == 403
    assert "You can't open this page" in response.content.decode()


# --- safe_next: the one "return to" rule ---------------------------------------------------

@pytest.mark.parametrize("target, expected", [
    ("/portal/telehealth/abc/", "/portal/telehealth/abc/"),
    ("/staff/?tab=1", "/staff/?tab=1"),
    ("http://testserver/portal/", "http://testserver/portal/"),
    ("https://evil.example/", "/fallback/"),
    ("//evil.example/x", "/fallback/"),
    ("javascript:alert(1)", "/fallback/"),
    ("/portal/\x00", "/fallback/"),
    ("/" + "a" * 600, "/fallback/"),
    ("", "/fallback/"),
])
def test_safe_next_follows_only_this_sites_urls(rf, target, expected):
    from apps.core.pages import safe_next

    assert safe_next(rf.get("/", {"next": target}), "/fallback/") == expected
    assert safe_next(rf.post("/", {"next": target}), "/fallback/") == expected


def test_safe_next_refuses_plain_http_back_to_this_host_from_https(rf):
    from apps.core.pages import safe_next

    request = rf.get("/", {"next": "http://testserver/portal/"}, secure=True)
    assert safe_next(request, "/fallback/") == "/fallback/"
    assert safe_next(request, target="/portal/") == "/portal/"
