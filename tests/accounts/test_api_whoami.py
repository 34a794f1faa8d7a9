"""GET /api/v1/whoami/: an integrator checks its key (name, scopes), a verified staff member
sees their email and role; patients, unverified staff and anonymous callers are refused. For
a key it costs one query, the key lookup."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.services import api_key_revoke

URL = "/api/v1/whoami/"


def test_an_api_key_sees_its_name_and_scopes(api_client, api_key_factory):
    key, raw = api_key_factory("patients:read", "scheduling:read", name="acme-ehr")

    response = api_client.get(URL, HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert response.status_code == 200
    assert response.json() == {
        "actor_type": "api_key", "name": "acme-ehr", "email": None, "role": "integrator",
        "scopes": ["patients:read", "scheduling:read"],
    }


def test_a_key_with_any_scope_may_ask(api_client, api_key_factory):
    _, raw = api_key_factory("audit:read")

    response = api_client.get(URL, HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert response.status_code == 200
    assert response.json()["scopes"] == ["audit:read"]


def test_whoami_for_a_key_costs_one_query(api_client, api_key_factory):
    _, raw = api_key_factory("patients:read")
    api_client.get(URL, HTTP_AUTHORIZATION=f"Api-Key {raw}")  # first use records last_used_at

    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(URL, HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert response.status_code == 200
    assert response.json()["role"] == "integrator" and response.json()["scopes"] == ["patients:read"]
    assert len(queries) == 1


def test_a_revoked_key_gets_401(api_client, integrator_key):
    key, raw = integrator_key
    api_key_revoke(api_key=key)

    response = api_client.get(URL, HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("role_fixture, role", [("front_desk", "front_desk"), ("nurse", "nurse"), ("provider_user", "provider")])
def test_a_verified_staff_member_sees_email_and_role(request, client_for, role_fixture, role):
    user = request.getfixturevalue(role_fixture)

    response = client_for(user).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["actor_type"] == "staff"
    assert body["email"] == user.email
    assert body["role"] == role
    assert body["scopes"] == []


def test_an_unverified_staff_session_is_not_authenticated(client_for, front_desk):
    response = client_for(front_desk, verified=False).get(URL)

    assert response.status_code == 401


def test_a_patient_is_refused(client_for, patient):
    response = client_for(patient.user).get(URL)

    # A patient's session authenticates (MFASessionAuthentication), but whoami is for keys and staff.
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert patient.user.email not in response.content.decode()


def test_anonymous_gets_401(api_client, db):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_whoami_is_in_the_openapi_schema(api_client, db):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")

    schema = response.json()
    assert "/api/v1/whoami/" in schema["paths"]
    output = schema["components"]["schemas"]["WhoAmIOutput"]
    assert set(output["properties"]) == {"actor_type", "name", "email", "role", "scopes"}
