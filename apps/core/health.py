"""Health of the things the clinic depends on, for /healthz/ (liveness), /readyz/ (readiness
and status) and operators.

Liveness (/healthz/) needs the database only. Readiness (/readyz/) reports every dependency:

    database  required    one query
    redis     required when REDIS_URL is set (channel layer, cache): one PING
    broker    required    the Celery broker answers (a Redis PING, or the filesystem
                          transport's folders exist and are writable)
    worker    reported    the worker's heartbeat (core.heartbeat, every minute from beat) is
                          younger than WORKER_STALE_SECONDS; a stopped worker delays jobs but
                          does not stop this server from serving, so it does not fail
                          readiness unless HEALTH_REQUIRE_WORKER is set.

No URL, password or host is ever part of a report."""
import os
from datetime import timedelta
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection

from apps.core.models import Heartbeat

TIMEOUT_SECONDS = 1
WORKER_STALE_SECONDS = 180  # three missed heartbeats (the staff dashboard uses the same)


@lru_cache(maxsize=4)
def _redis_client(url):
    return redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)


def database_status():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception:
        return "error"


def _ping(url):
    try:
        return "ok" if _redis_client(url).ping() else "error"
    except Exception:
        return "error"


def redis_status():
    if not settings.REDIS_URL:
        return "not_configured"
    return _ping(settings.REDIS_URL)


def broker_status():
    """(status, transport) of the Celery broker."""
    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    transport = url.split("://", 1)[0] if "://" in url else (url or "not_configured")
    if transport in ("redis", "rediss"):
        return _ping(url), transport
    if transport == "filesystem":
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        folders = {options.get("data_folder_in"), options.get("data_folder_out")} - {None}
        ok = bool(folders) and all(os.path.isdir(f) and os.access(f, os.W_OK) for f in folders)
        return ("ok" if ok else "error"), transport
    if transport == "memory":
        return "ok", transport
    try:
        with Connection(url, connect_timeout=TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)
        return "ok", transport
    except Exception:
        return "error", transport


def worker_status(now=None):
    """{"status": "ok" | "stale" | "never_seen" | "error", "last_seen", "age_seconds"}."""
    now = now or timezone.now()
    try:
        beat = Heartbeat.objects.filter(name="worker").first()
    except Exception:
        return {"status": "error", "last_seen": None, "age_seconds": None}
    if beat is None:
        return {"status": "never_seen", "last_seen": None, "age_seconds": None}
    age = (now - beat.at) / timedelta(seconds=1)
    return {
        "status": "ok" if age < WORKER_STALE_SECONDS else "stale",
        "last_seen": beat.at.isoformat(),
        "age_seconds": int(age),
    }


def readiness():
    """The /readyz/ report: {"status": "ok" | "error", "checks": {name: {...}}}; status is
    "error" when a required check is not "ok"."""
    checks = {"database": {"status": database_status(), "required": True}}
    redis_state = redis_status()
    checks["redis"] = {"status": redis_state, "required": redis_state != "not_configured"}
    broker_state, transport = broker_status()
    checks["broker"] = {"status": broker_state, "required": True, "transport": transport}
    worker = worker_status() if checks["database"]["status"] == "ok" else {"status": "error", "last_seen": None, "age_seconds": None}
    checks["worker"] = {**worker, "required": bool(getattr(settings, "HEALTH_REQUIRE_WORKER", False))}
    ready = all(c["status"] == "ok" for c in checks.values() if c["required"])
    return {"status": "ok" if ready else "error", "checks": checks}
