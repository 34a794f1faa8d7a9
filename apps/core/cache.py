"""The default cache: Redis, answering from this process's memory while Redis is unreachable.

What uses the cache must keep working with Redis down: django-allauth's sign-in rate limiter
takes a lock and keeps its counts in the default cache, and answered every sign-in with a 500
while Redis was stopped. With this backend a Redis connection error sends the call, and every
call for the next RETRY_SECONDS, to a local-memory cache with the same keys; then Redis is
tried again. Throttling still holds meanwhile, per process (django-axes's lockout, kept in the
database, holds for the whole site). Values written during an outage stay in that process's
memory only: this is for counters and short-lived keys, not for data that must be shared.

    CACHES = {"default": {"BACKEND": "apps.core.cache.RedisCacheWithFallback", "LOCATION": REDIS_URL}}"""
import logging
import threading
import time

import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
_METHODS = ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many", "delete_many", "clear")


class _Outage:
    """Per process and Redis location (cache backends are per thread): until when Redis is
    skipped."""

    _lock = threading.Lock()
    _by_location = {}

    def __init__(self):
        self.until = 0.0

    @classmethod
    def of(cls, location):
        with cls._lock:
            return cls._by_location.setdefault(location, cls())


class RedisCacheWithFallback(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        location = ",".join(self._servers)
        self._outage = _Outage.of(location)
        self._fallback = LocMemCache(f"redis-fallback:{location}", {
            "TIMEOUT": params.get("TIMEOUT", 300),
            "KEY_PREFIX": params.get("KEY_PREFIX", ""),
            "VERSION": params.get("VERSION", 1),
            "KEY_FUNCTION": params.get("KEY_FUNCTION"),
            "OPTIONS": {"MAX_ENTRIES": 10000},
        })

    def _call(self, name, args, kwargs):
        if time.monotonic() < self._outage.until:
            return getattr(self._fallback, name)(*args, **kwargs)
        try:
            return getattr(RedisCache, name)(self, *args, **kwargs)
        except REDIS_ERRORS as exc:
            first = self._outage.until == 0.0 or time.monotonic() >= self._outage.until + RETRY_SECONDS
            self._outage.until = time.monotonic() + RETRY_SECONDS
            (logger.warning if first else logger.info)(
                "cache: Redis unreachable (%s); this process answers from memory, retrying Redis in %d s",
                type(exc).__name__, RETRY_SECONDS,
            )
            return getattr(self._fallback, name)(*args, **kwargs)


def _method(name):
    def method(self, *args, **kwargs):
        return self._call(name, args, kwargs)

    method.__name__ = name
    method.__doc__ = getattr(RedisCache, name).__doc__
    return method


for _name in _METHODS:
    setattr(RedisCacheWithFallback, _name, _method(_name))
