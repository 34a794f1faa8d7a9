"""Health of the things the clinic depends on, for /healthz/ and operators."""
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection


@lru_cache(maxsize=1)
def _redis_client():
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def database_status():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception:
        return "error"


def redis_status():
    if not settings.REDIS_URL:
        return "not_configured"
    try:
        return "ok" if _redis_client().ping() else "error"
    except Exception:
        return "error"
