"""Creating, authenticating and revoking integrator API keys."""
import hashlib

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import ApiKey
from apps.accounts.selectors import api_key_authenticate
from apps.accounts.services import api_key_create, api_key_revoke
from apps.core.exceptions import ValidationFailed
from tests.accounts.conftest import API_KEY_PATTERN


# --- the service ----------------------------------------------------------------------------

def test_creating_a_key_returns_the_raw_key_and_stores_only_its_sha256(db):
    key, raw = api_key_create(name="Lab system", scopes=["patients:read"])

    stored = ApiKey.objects.get(pk=key.pk)
    assert API_KEY_PATTERN.fullmatch(raw)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(f"ck_{stored.prefix}.")
    secret = raw.split(".", 1)[1]
    assert all(secret not in str(getattr(stored, f.attname)) for f in ApiKey._meta.fields)


def test_two_keys_never_share_a_secret_or_prefix(db):
    first, first_raw = api_key_create(name="One", scopes=["patients:read"])
    second, second_raw = api_key_create(name="Two", scopes=["patients:read"])

    assert first_raw != second_raw
    assert first.prefix != second.prefix


def test_scopes_are_stored_sorted_and_without_repeats(db):
    key, _ = api_key_create(name="Lab", scopes=["patients:write", "patients:read", "patients:write"])

    assert key.scopes == ["patients:read", "patients:write"]


@pytest.mark.parametrize(
    "name, scopes, field",
    [
        ("Lab", ["patients:read", "patients:delete"], "scopes"),
        ("Lab", [], "scopes"),
        ("  ", ["patients:read"], "name"),
    ],
)
def test_creating_a_key_refuses_bad_input(db, name, scopes, field):
    with pytest.raises(ValidationFailed) as caught:
        api_key_create(name=name, scopes=scopes)

    assert field in caught.value.extra["fields"]
    assert not ApiKey.objects.exists()


def test_an_unknown_scope_is_named_in_the_error(db):
    with pytest.raises(ValidationFailed) as caught:
        api_key_create(name="Lab", scopes=["patients:read", "billing:everything"])

    assert caught.value.extra["fields"]["scopes"] == ["Unknown scope(s): billing:everything."]


def test_key_names_are_unique(db):
    api_key_create(name="Lab", scopes=["patients:read"])

    with pytest.raises(ValidationFailed) as caught:
        api_key_create(name="Lab", scopes=["patients:read"])

    assert "name" in caught.value.extra["fields"]
    assert ApiKey.objects.count() == 1


def test_the_raw_key_authenticates_and_a_wrong_one_does_not(integrator_key):
    key, raw = integrator_key

    assert api_key_authenticate(raw) == key
    assert api_key_authenticate(raw + "x") is None
    assert api_key_authenticate(raw.replace("ck_", "ak_", 1)) is None
    assert api_key_authenticate("") is None


def test_revoking_a_key_stops_it_authenticating(integrator_key):
    key, raw = integrator_key

    api_key_revoke(api_key=key)

    assert key.revoked_at is not None
    assert api_key_authenticate(raw) is None


def test_revoking_twice_keeps_the_first_revocation_time(integrator_key):
    key, _ = integrator_key
    first = api_key_revoke(api_key=key).revoked_at

    again = api_key_revoke(api_key=key).revoked_at

    assert again == first


# --- manage.py create_api_key ---------------------------------------------------------------

def run_command(*args):
    from io import StringIO

    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue()


def test_create_api_key_prints_the_key_once_and_stores_its_hash(db):
    output = run_command("--name", "Lab system", "--scopes", "patients:read", "patients:write")

    keys = API_KEY_PATTERN.findall(output)
    assert len(keys) == 1
    key = ApiKey.objects.get(name="Lab system")
    assert key.scopes == ["patients:read", "patients:write"]
    assert key.key_hash == hashlib.sha256(keys[0].encode()).hexdigest()
    assert "only time" in output


def test_create_api_key_accepts_comma_separated_scopes(db):
    run_command("--name", "Lab", "--scopes", "patients:read,audit:read")

    assert ApiKey.objects.get(name="Lab").scopes == ["audit:read", "patients:read"]


def test_a_key_from_the_command_works_on_the_api(api_client, db):
    raw = API_KEY_PATTERN.search(run_command("--name", "Lab", "--scopes", "patients:read")).group()

    response = api_client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert response.status_code == 200
    assert response.json()["count"] == 0 and response.json()["results"] == []


def test_create_api_key_rejects_an_unknown_scope(db):
    with pytest.raises(CommandError, match="Unknown scope"):
        run_command("--name", "Lab", "--scopes", "patients:read", "patients:everything")

    assert not ApiKey.objects.exists()


def test_create_api_key_rejects_a_taken_name(integrator_key):
    key, _ = integrator_key

    with pytest.raises(CommandError, match="already exists"):
        run_command("--name", key.name, "--scopes", "patients:read")


def test_a_name_differing_only_in_surrounding_spaces_is_taken(db):
    api_key_create(name="Lab", scopes=["patients:read"])

    with pytest.raises(ValidationFailed) as caught:
        api_key_create(name=" Lab ", scopes=["patients:read"])

    assert "name" in caught.value.extra["fields"]
