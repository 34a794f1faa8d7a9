"""Shared fixtures, including the fixed cast: a patient, a second patient, a front-desk user,
a nurse, a provider, a billing user, an admin, an integrator key."""
import os

import pytest
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from rest_framework.test import APIClient

from tests.factories import PortalPatientFactory, StaffFactory
from tests.services import missing

# Browser tests run as their own invocation (tests/browser/conftest.py).
collect_ignore = [] if os.environ.get("CLINIC_BROWSER_TESTS") else ["browser"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """One PostgreSQL test database per pytest process, so several suites can run against the
    same server at once (parallel developers, a benchmark) without dropping each other's
    database. SQLite keeps its in-memory test database."""
    from django.conf import settings

    for db in settings.DATABASES.values():
        if db["ENGINE"] == "django.db.backends.postgresql":
            test = db.setdefault("TEST", {})
            test["NAME"] = f"{test.get('NAME') or 'test_' + db['NAME']}_{os.getpid()}"


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "media")}},
        "private": {"BACKEND": "apps.core.storage.PrivateFileSystemStorage", "OPTIONS": {"location": str(tmp_path / "private")}},
    }


@pytest.fixture(autouse=True)
def _reset_throttles():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def requires_postgres(db):
    if connection.vendor != "postgresql":
        missing("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def redis_url():
    from tests.processes import require_redis_url

    return require_redis_url()


# --- the cast -----------------------------------------------------------------------------

@pytest.fixture
def patient(db):
    return PortalPatientFactory()


@pytest.fixture
def other_patient(db):
    return PortalPatientFactory()


@pytest.fixture
def front_desk(db):
    return StaffFactory(role="front_desk")


@pytest.fixture
def nurse(db):
    return StaffFactory(role="nurse")


@pytest.fixture
def provider_user(db):
    return StaffFactory(role="provider")


@pytest.fixture
def billing_user(db):
    return StaffFactory(role="billing")


@pytest.fixture
def clinic_admin(db):
    user = StaffFactory(role="clinic_admin")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


@pytest.fixture
def api_key_factory(db):
    from apps.accounts.services import api_key_create

    def make(*scopes, name=None):
        from uuid import uuid4

        key, raw = api_key_create(name=name or f"integrator-{uuid4().hex[:8]}", scopes=list(scopes))
        return key, raw

    return make


@pytest.fixture
def integrator_key(api_key_factory):
    """(ApiKey, raw key) with read and write access to patients."""
    return api_key_factory("patients:read", "patients:write")


@pytest.fixture
def api_client():
    return APIClient()


# --- signing in ---------------------------------------------------------------------------

def login(client, user, *, verified=True):
    """Sign `user` in on `client`. Staff also pass their second factor unless verified=False."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if user.is_staff and verified:
        device = user.totpdevice_set.filter(confirmed=True).first()
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def api_keyed_client(raw):
    """A DRF test client that sends the API key `raw`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def api_session(user, *, verified=True):
    """A DRF test client signed in as `user` (see login)."""
    return login(APIClient(), user, verified=verified)


@pytest.fixture
def client_for(db):
    """client_for(user) -> a fresh django Client signed in as user (staff MFA-verified)."""

    def make(user, *, verified=True):
        return login(Client(), user, verified=verified)

    return make
