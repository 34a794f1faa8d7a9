"""Tests: the same as dev, on whatever DATABASE_URL / REDIS_URL the runner gives."""
from .base import *  # noqa: F401,F403
from .base import STORAGES

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MESSAGING_PUSH_OUTBOX_DIR = ""  # the local push provider keeps rows only (PushOutboxEntry)
# Whitenoise's manifest storage fails in tests (NOTES.md).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
CELERY_TASK_ALWAYS_EAGER = False
AXES_ENABLED = True
# Tests clear the cache between tests; on Redis that would FLUSHDB the database Celery's test
# queues live in. Each test process keeps its own cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Redis pub/sub channels are global to the Redis server (not per database index), so two test
# runs on one machine would hear each other's events for users with the same id. Each test
# process gets its own channel prefix; a test that starts servers passes CHANNELS_PREFIX to
# them and uses the same one.
from .base import CHANNEL_LAYERS, env  # noqa: E402

if "prefix" in CHANNEL_LAYERS["default"].get("CONFIG", {}) and not env.str("CHANNELS_PREFIX", default=""):
    import uuid

    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test-{uuid.uuid4().hex[:12]}"

# A tiny app with a state machine, for core's own tests (tests/core/machine).
from .base import INSTALLED_APPS  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "tests.core.machine"]
