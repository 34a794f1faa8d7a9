"""Scheduling jobs: take ids (or nothing), call a service, nothing else. Declared here and
written into django-celery-beat by `manage.py sync_periodic_tasks`."""
from celery import shared_task

from apps.core.periodic import Periodic
from apps.scheduling import services
from apps.scheduling.services.idempotency import idempotency_records_purge

PERIODIC_TASKS = [
    Periodic(name="scheduling.expire_holds", task="scheduling.expire_holds", every_seconds=60),
    Periodic(name="scheduling.remind_expiring_offers", task="scheduling.remind_expiring_offers", every_seconds=60),
    Periodic(name="scheduling.generate_slots", task="scheduling.generate_slots", crontab={"minute": "15", "hour": "3"}),
    Periodic(name="scheduling.purge_idempotency_records", task="scheduling.purge_idempotency_records", every_seconds=3600),
]


@shared_task(name="scheduling.expire_holds", time_limit=120, soft_time_limit=100)
def expire_holds():
    """Release expired offers and holds (conditional UPDATEs: safe with several workers)."""
    return services.offers_expire()


@shared_task(name="scheduling.remind_expiring_offers", time_limit=120, soft_time_limit=100)
def remind_expiring_offers():
    return services.offers_remind_expiring()


@shared_task(name="scheduling.generate_slots", time_limit=1800, soft_time_limit=1700)
def generate_slots(days=None):
    """Nightly: extend the slot horizon and retire FREE slots availability no longer produces
    (idempotent)."""
    result = services.slots_generate(days=days)
    return {"created": result.created, "blocked": result.blocked, "retired": result.retired}


@shared_task(name="scheduling.purge_idempotency_records", time_limit=600, soft_time_limit=540)
def purge_idempotency_records():
    """Hourly: delete saved Idempotency-Key answers past SCHEDULING_IDEMPOTENCY_KEEP_HOURS."""
    return idempotency_records_purge()
