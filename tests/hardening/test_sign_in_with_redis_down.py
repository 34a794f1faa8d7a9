"""Sign-in with Redis down. django-allauth's sign-in rate limiter takes a lock and keeps its
counts in the default cache; on Django's RedisCache a stopped Redis made every sign-in a 500.
The clinic's cache (apps/core/cache.py) answers from the process's memory while Redis is
unreachable, so sign-in works and throttling still holds: allauth's limit (in memory) and
django-axes's lockout (in the database)."""
import logging

import pytest
import redis
from django.core.cache import cache
from django.test import Client

from apps.core import cache as clinic_cache

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "correct-horse-battery"
CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens there: connection refused


def redis_cache(location, backend="apps.core.cache.RedisCacheWithFallback"):
    # As clinic/settings/base.py configures it when REDIS_URL is set.
    return {"default": {"BACKEND": backend, "LOCATION": location, "KEY_PREFIX": "clinic-test",
                        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2}}}


@pytest.fixture
def redis_stopped(settings, monkeypatch):
    monkeypatch.setattr(clinic_cache._Outage, "_by_location", {})  # a fresh outage for each test
    settings.CACHES = redis_cache(CLOSED_PORT)


def sign_in(client, email, password=PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def test_a_patient_signs_in_with_redis_stopped(redis_stopped, patient, caplog):
    client = Client(raise_request_exception=False)

    with caplog.at_level(logging.WARNING, logger="apps.core.cache"):
        response = sign_in(client, patient.user.email)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(patient.user.pk)
    assert client.get("/portal/").status_code == 200
    assert "cache: Redis unreachable (ConnectionError); this process answers from memory" in caplog.text


def test_staff_sign_in_reaches_the_second_factor_with_redis_stopped(redis_stopped, front_desk):
    client = Client(raise_request_exception=False)

    response = sign_in(client, front_desk.email)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(front_desk.pk)


def test_a_wrong_password_with_redis_stopped_is_refused_on_the_form(redis_stopped, patient):
    response = sign_in(Client(raise_request_exception=False), patient.user.email, "not-my-password")

    assert response.status_code == 200
    assert b"The email address and/or password you specified are not correct." in response.content


def test_allauths_rate_limit_still_holds_with_redis_stopped(redis_stopped, settings, patient):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/5m/key"}  # below axes's 5
    client = Client(raise_request_exception=False)

    for _ in range(3):
        sign_in(client, patient.user.email, "not-my-password")
    response = sign_in(client, patient.user.email)

    assert response.status_code == 200
    assert b"Too many failed login attempts. Try again later." in response.content
    assert "_auth_user_id" not in client.session


def test_the_database_lockout_holds_with_redis_stopped(redis_stopped, patient):
    client = Client(raise_request_exception=False)

    for _ in range(5):
        last = sign_in(client, patient.user.email, "not-my-password")
    response = sign_in(client, patient.user.email)

    assert last.status_code == 429
    assert response.status_code == 429
    assert b"sign-in for this account is paused for" in response.content
    assert "_auth_user_id" not in client.session


def test_djangos_own_redis_cache_answered_sign_in_with_a_500(settings, patient):
    """The failure this prevents."""
    settings.CACHES = redis_cache(CLOSED_PORT, backend="django.core.cache.backends.redis.RedisCache")

    response = sign_in(Client(raise_request_exception=False), patient.user.email)

    assert response.status_code == 500


def test_after_a_failure_redis_is_skipped_for_a_while_then_tried_again(redis_stopped, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(clinic_cache.time, "monotonic", lambda: now[0])
    attempts = []
    original = clinic_cache.RedisCache.get

    def counting_get(self, *args, **kwargs):
        attempts.append(args[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(clinic_cache.RedisCache, "get", counting_get)

    cache.set("k", "memory")  # fails over to memory
    assert cache.get("k") == "memory"
    assert attempts == []  # within RETRY_SECONDS: Redis not tried
    now[0] += clinic_cache.RETRY_SECONDS + 0.1
    assert cache.get("k") == "memory"  # Redis tried once more, still down
    assert attempts == ["k"]


def test_with_redis_up_the_cache_is_redis(settings, redis_url, monkeypatch):
    monkeypatch.setattr(clinic_cache._Outage, "_by_location", {})
    settings.CACHES = redis_cache(redis_url)
    key = f"fallback-test-{id(settings)}"

    cache.set(key, "shared", 30)

    stored = redis.Redis.from_url(redis_url).get(f"clinic-test:1:{key}")
    cache.delete(key)
    assert stored is not None  # in Redis, where every process sees it
