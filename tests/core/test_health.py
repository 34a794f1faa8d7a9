"""Liveness and readiness. /healthz/ (liveness) answers 200 while the database answers, with
Redis down too: the site still serves its pages then, and a load balancer must not take a
working server out. /readyz/ reports the database, Redis, the Celery broker and the worker's
heartbeat in detail, and answers 503 when a required one is down."""
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from apps.core import health
from apps.core.models import Heartbeat

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens there: connection refused


@pytest.fixture
def redis_down(settings):
    settings.REDIS_URL = CLOSED_PORT
    settings.CELERY_BROKER_URL = CLOSED_PORT


@pytest.fixture
def database_down(monkeypatch):
    class Refusing:
        def cursor(self):
            raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(health, "connection", Refusing())


def beat(seconds_ago):
    Heartbeat.objects.update_or_create(name="worker", defaults={"at": timezone.now() - timedelta(seconds=seconds_ago)})


# --- liveness ---------------------------------------------------------------------------------

def test_healthz_is_up_while_the_database_answers(client):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_healthz_stays_up_with_redis_down(client, redis_down):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "error"}


def test_healthz_is_down_when_the_database_is(client, database_down):
    response = client.get("/healthz/")

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["database"] == "error"


def test_healthz_is_never_cached(client):
    assert "no-cache" in client.get("/healthz/")["Cache-Control"]


# --- readiness --------------------------------------------------------------------------------

def test_readyz_reports_every_dependency_without_redis_configured(client, settings, tmp_path):
    # The zero-setup development layout: no Redis, kombu's filesystem broker.
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    beat(seconds_ago=30)

    response = client.get("/readyz/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"status": "ok", "required": True}
    assert body["checks"]["redis"] == {"status": "not_configured", "required": False}
    assert body["checks"]["broker"] == {"status": "ok", "required": True, "transport": "filesystem"}
    worker = body["checks"]["worker"]
    assert worker["status"] == "ok" and worker["required"] is False
    assert 29 <= worker["age_seconds"] <= 40
    assert worker["last_seen"].startswith(str(timezone.now().year))


def test_readyz_is_503_with_redis_and_its_broker_down_and_says_which(client, redis_down):
    response = client.get("/readyz/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"] == {"status": "error", "required": True}
    assert body["checks"]["broker"] == {"status": "error", "required": True, "transport": "redis"}


def test_readyz_never_shows_the_redis_url_or_its_password(client, settings):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = "redis://:s3cret-pass@127.0.0.1:1/0"

    response = client.get("/readyz/")

    assert b"s3cret-pass" not in response.content
    assert b"127.0.0.1" not in response.content


def test_readyz_is_503_when_the_database_is_down(client, database_down, settings):
    settings.REDIS_URL = ""

    response = client.get("/readyz/")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"status": "error", "required": True}
    assert response.json()["checks"]["worker"]["status"] == "error"


def test_a_worker_never_seen_or_stale_is_reported_but_does_not_fail_readiness(client, settings):
    settings.REDIS_URL = ""
    assert client.get("/readyz/").json()["checks"]["worker"] == {
        "status": "never_seen", "last_seen": None, "age_seconds": None, "required": False}

    beat(seconds_ago=600)
    response = client.get("/readyz/")

    assert response.status_code == 200
    assert response.json()["checks"]["worker"]["status"] == "stale"
    assert response.json()["checks"]["worker"]["age_seconds"] >= 600


def test_a_stale_worker_fails_readiness_when_the_operator_requires_it(client, settings):
    settings.REDIS_URL = ""
    settings.HEALTH_REQUIRE_WORKER = True
    beat(seconds_ago=600)

    response = client.get("/readyz/")

    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["required"] is True
    assert response.json()["checks"]["worker"]["status"] == "stale"


def test_readyz_with_a_real_redis_is_ready(client, settings, redis_url):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = redis_url

    response = client.get("/readyz/")

    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == {"status": "ok", "required": True}
    assert response.json()["checks"]["broker"] == {"status": "ok", "required": True, "transport": "redis"}


@pytest.mark.parametrize("path", ["/healthz/", "/readyz/"])
def test_probes_are_answered_over_plain_http_in_production(client, settings, path):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]  # clinic/settings/production.py

    response = client.get(path)

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
