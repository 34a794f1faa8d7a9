from importlib import import_module

from celery import shared_task
from django.conf import settings

from apps.core.periodic import Periodic

PERIODIC_TASKS = [
    Periodic(name="accounts.clear_expired_sessions", task="accounts.clear_expired_sessions", crontab={"minute": "17", "hour": "3"}),
]


@shared_task(name="accounts.clear_expired_sessions")
def clear_expired_sessions():
    """Delete expired sessions (idempotent)."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
