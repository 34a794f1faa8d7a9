"""API keys in the admin: created with the key shown once, revoked by an action, never
deleted, and out of reach for staff without the permissions."""
import hashlib

import pytest

from apps.accounts.models import ApiKey
from tests.accounts.conftest import API_KEY_PATTERN

CHANGELIST = "/admin/accounts/apikey/"
ADD = "/admin/accounts/apikey/add/"


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_admin_creates_a_key_and_sees_it_once_in_a_message(client_for, clinic_admin, api_client):
    client = client_for(clinic_admin)

    response = client.post(ADD, {"name": "Lab system", "scopes": ["patients:read", "patients:write"]}, follow=True)

    assert response.status_code == 200
    found = [API_KEY_PATTERN.search(m) for m in messages_of(response)]
    raws = [m.group() for m in found if m]
    assert len(raws) == 1
    key = ApiKey.objects.get(name="Lab system")
    assert key.scopes == ["patients:read", "patients:write"]
    assert key.created_by == clinic_admin
    assert key.key_hash == hashlib.sha256(raws[0].encode()).hexdigest()
    listing = api_client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Api-Key {raws[0]}")
    assert listing.status_code == 200
    assert listing.json()["count"] == 0


def test_the_key_is_not_shown_again(client_for, clinic_admin):
    client = client_for(clinic_admin)
    response = client.post(ADD, {"name": "Lab system", "scopes": ["patients:read"]}, follow=True)
    raw = next(API_KEY_PATTERN.search(m).group() for m in messages_of(response) if API_KEY_PATTERN.search(m))
    key = ApiKey.objects.get(name="Lab system")

    listing = client.get(CHANGELIST)
    detail = client.get(f"{CHANGELIST}{key.pk}/change/")

    secret = raw.split(".", 1)[1]
    for page in (listing, detail):
        assert page.status_code == 200
        assert b"Lab system" in page.content and key.prefix.encode() in page.content
        assert secret.encode() not in page.content
        assert key.key_hash.encode() not in page.content


def test_the_add_form_refuses_an_unknown_scope(client_for, clinic_admin):
    response = client_for(clinic_admin).post(ADD, {"name": "Lab", "scopes": ["patients:everything"]})

    assert response.status_code == 200
    assert "scopes" in response.context["adminform"].form.errors
    assert b"patients:everything is not one of the available choices" in response.content
    assert not ApiKey.objects.exists()


def test_the_revoke_action_revokes_the_selected_keys(client_for, clinic_admin, api_key_factory, api_client):
    chosen, chosen_raw = api_key_factory("patients:read")
    other, _ = api_key_factory("patients:read")

    response = client_for(clinic_admin).post(CHANGELIST, {"action": "revoke", "_selected_action": [str(chosen.pk)]})

    assert response.status_code == 302
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.revoked_at is not None
    assert other.revoked_at is None
    assert api_client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Api-Key {chosen_raw}").status_code == 401


def test_keys_cannot_be_deleted_in_the_admin(client_for, clinic_admin, integrator_key):
    key, _ = integrator_key
    client = client_for(clinic_admin)

    listing = client.get(CHANGELIST)
    delete_page = client.get(f"{CHANGELIST}{key.pk}/delete/")
    delete_post = client.post(f"{CHANGELIST}{key.pk}/delete/", {"post": "yes"})

    assert "delete_selected" not in dict(listing.context["action_form"].fields["action"].choices)
    assert "revoke" in dict(listing.context["action_form"].fields["action"].choices)
    assert delete_page.status_code == 403
    assert delete_post.status_code == 403
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_the_delete_selected_action_is_refused(client_for, clinic_admin, integrator_key):
    key, _ = integrator_key

    client_for(clinic_admin).post(CHANGELIST, {"action": "delete_selected", "_selected_action": [str(key.pk)], "post": "yes"})

    assert ApiKey.objects.filter(pk=key.pk).exists()


@pytest.mark.parametrize("role_fixture", ["front_desk", "nurse", "provider_user", "billing_user"])
def test_staff_without_key_permissions_cannot_see_keys(request, client_for, role_fixture, integrator_key):
    user = request.getfixturevalue(role_fixture)
    client = client_for(user)

    assert client.get(CHANGELIST).status_code == 403
    assert client.post(ADD, {"name": "Sneaky", "scopes": ["patients:read"]}).status_code == 403
    assert not ApiKey.objects.filter(name="Sneaky").exists()


def test_an_unverified_admin_is_sent_to_mfa(client_for, clinic_admin):
    response = client_for(clinic_admin, verified=False).get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/mfa/")


def test_the_clinic_admin_role_without_superuser_manages_keys(client_for, integrator_key):
    from tests.factories import StaffFactory

    role_admin = StaffFactory(role="clinic_admin")
    key, _ = integrator_key
    client = client_for(role_admin)

    created = client.post(ADD, {"name": "Pharmacy", "scopes": ["patients:read"]})
    revoked = client.post(CHANGELIST, {"action": "revoke", "_selected_action": [str(key.pk)]})

    assert created.status_code == 302
    assert ApiKey.objects.get(name="Pharmacy").created_by == role_admin
    assert revoked.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
