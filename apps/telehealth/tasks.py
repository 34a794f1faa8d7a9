"""Telehealth jobs: call a service, nothing else. Declared here and written into
django-celery-beat by `manage.py sync_periodic_tasks`."""
from celery import shared_task

from apps.core.periodic import Periodic
from apps.telehealth import services

PERIODIC_TASKS = [
    Periodic(name="telehealth.waiting_room_timeouts", task="telehealth.waiting_room_timeouts", every_seconds=60),
    Periodic(name="telehealth.no_shows", task="telehealth.no_shows", every_seconds=120),
    Periodic(name="telehealth.end_left_open", task="telehealth.end_left_open", every_seconds=600),
    Periodic(name="telehealth.recording_retention", task="telehealth.recording_retention", every_seconds=3600),
]


@shared_task(name="telehealth.waiting_room_timeouts", time_limit=120, soft_time_limit=100)
def waiting_room_timeouts():
    """Patients waiting longer than TELEHEALTH_WAITING_TIMEOUT_MINUTES are timed out."""
    return services.waiting_room_timeouts()


@shared_task(name="telehealth.no_shows", time_limit=120, soft_time_limit=100)
def no_shows():
    """Sessions whose patient never joined, past the grace period, are no-shows."""
    return services.sessions_no_show()


@shared_task(name="telehealth.end_left_open", time_limit=300, soft_time_limit=280)
def end_left_open():
    """Sessions still open long after their end are closed."""
    return services.sessions_end_left_open()


@shared_task(name="telehealth.recording_retention", time_limit=900, soft_time_limit=880)
def recording_retention():
    """Recordings past TELEHEALTH_RECORDING_RETENTION_DAYS are deleted (storage or vendor), audited."""
    return services.recordings_delete_expired()
