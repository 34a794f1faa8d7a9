"""Who the integrator API lets in: API keys by scope, staff sessions only once MFA-verified,
never patients or anonymous visitors. Errors in the one {"code", "message", "extra"} shape."""
import datetime

import pytest
from django.utils import timezone

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_revoke
from tests.factories import PatientFactory

URL = "/api/v1/patients/"


def api_key_header(raw):
    return {"HTTP_AUTHORIZATION": f"Api-Key {raw}"}


# --- staff sessions -----------------------------------------------------------------------

def test_an_unverified_staff_session_is_not_authenticated(client_for, front_desk):
    client = client_for(front_desk, verified=False)

    response = client.get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_verified_staff_session_lists_patients(client_for, front_desk):
    PatientFactory()

    response = client_for(front_desk).get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("role_fixture", ["front_desk", "nurse", "provider_user", "billing_user", "clinic_admin"])
def test_every_verified_staff_role_may_read_patients(request, client_for, role_fixture):
    user = request.getfixturevalue(role_fixture)
    shown = PatientFactory()

    response = client_for(user).get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [(r["id"], r["mrn"]) for r in response.json()["results"]] == [(str(shown.pk), shown.mrn)]


def test_a_patient_session_is_refused(client_for, patient):
    response = client_for(patient.user).get(URL)

    assert response.status_code == 403
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == "permission_denied"


def test_an_anonymous_request_is_refused_with_the_error_body(api_client, db):
    response = api_client.get(URL)

    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Api-Key"


# --- API keys -------------------------------------------------------------------------------

def test_a_key_with_the_read_scope_lists_patients(api_client, integrator_key):
    _, raw = integrator_key
    PatientFactory.create_batch(2)

    response = api_client.get(URL, **api_key_header(raw))

    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_a_wrong_key_gets_401_with_the_error_body(api_client, integrator_key):
    key, raw = integrator_key
    forged = raw[:-4] + ("aaaa" if not raw.endswith("aaaa") else "bbbb")

    response = api_client.get(URL, **api_key_header(forged))

    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated", "message": "Invalid or revoked API key.", "extra": {}}


@pytest.mark.parametrize("raw", ["", "nonsense", "ck_unknownprefix.secret", "ck_"])
def test_a_malformed_key_gets_401(api_client, db, raw):
    response = api_client.get(URL, HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "extra"}


def test_a_revoked_key_gets_401(api_client, integrator_key):
    key, raw = integrator_key
    api_key_revoke(api_key=key)

    response = api_client.get(URL, **api_key_header(raw))

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_key_without_the_needed_scope_gets_403(api_client, api_key_factory):
    _, raw = api_key_factory("audit:read")

    response = api_client.get(URL, **api_key_header(raw))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_read_only_key_cannot_write(api_client, api_key_factory):
    _, raw = api_key_factory("patients:read")

    response = api_client.post(
        URL, {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1990-01-01"}, format="json", **api_key_header(raw)
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_using_a_key_records_when_it_was_last_used(api_client, integrator_key):
    key, raw = integrator_key
    assert key.last_used_at is None
    before = timezone.now()

    api_client.get(URL, **api_key_header(raw))

    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_at >= before


def test_last_use_is_written_at_most_once_a_minute(api_client, integrator_key):
    key, raw = integrator_key
    recent = timezone.now() - datetime.timedelta(seconds=20)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=recent)

    api_client.get(URL, **api_key_header(raw))

    key.refresh_from_db()
    assert key.last_used_at == recent


def test_last_use_is_refreshed_after_a_minute(api_client, integrator_key):
    key, raw = integrator_key
    old = timezone.now() - datetime.timedelta(minutes=5)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=old)

    api_client.get(URL, **api_key_header(raw))

    key.refresh_from_db()
    assert key.last_used_at > old


def test_a_refused_key_does_not_record_use(api_client, integrator_key):
    key, raw = integrator_key
    api_key_revoke(api_key=key)

    api_client.get(URL, **api_key_header(raw))

    key.refresh_from_db()
    assert key.last_used_at is None
