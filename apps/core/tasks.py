from celery import shared_task
from django.utils import timezone

from apps.core.models import Heartbeat
from apps.core.periodic import Periodic

PERIODIC_TASKS = [
    Periodic(name="core.heartbeat", task="core.heartbeat", every_seconds=60),
]


@shared_task(name="core.heartbeat", ignore_result=False)
def heartbeat(name="worker"):
    """Record that a worker ran a job now; returns the time as ISO text."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name=name, defaults={"at": now})
    return now.isoformat()
