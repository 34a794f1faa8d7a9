"""Celery tasks for delivery: they take ids, call a service, and are idempotent (the claim
guard makes a second run a no-op). acks_late + reject_on_worker_lost are global (settings),
and nothing depends on a task surviving: the rows are the truth, the periodic job and the
reaper pick up whatever a dead worker left behind (apps/messaging/delivery.py)."""
from celery import shared_task
from django.conf import settings

from apps.core.periodic import Periodic
from apps.messaging import delivery

PERIODIC_TASKS = [
    Periodic(name="messaging.deliver_due", task="messaging.deliver_due", every_seconds=30),
    Periodic(name="messaging.reap_stuck", task="messaging.reap_stuck", every_seconds=60),
]

TIME_LIMIT = settings.MESSAGING_TASK_TIME_LIMIT
SOFT_TIME_LIMIT = max(1, TIME_LIMIT - 15)
# A run stops claiming new batches well before its soft limit (claimed-but-unstarted rows
# are given back, see outbox_deliver_due).
TIME_BUDGET = max(1, TIME_LIMIT // 2)


@shared_task(name="messaging.deliver_due", time_limit=TIME_LIMIT, soft_time_limit=SOFT_TIME_LIMIT, ignore_result=True)
def deliver_due():
    report = delivery.outbox_deliver_due(time_budget=TIME_BUDGET)
    return {"claimed": report.claimed, "sent": report.sent, "retried": report.retried, "failed": report.failed}


@shared_task(name="messaging.deliver_message", time_limit=TIME_LIMIT, soft_time_limit=SOFT_TIME_LIMIT, ignore_result=True)
def deliver_message(message_id):
    status = delivery.outbox_deliver_one(message_id=message_id)
    return str(status) if status else None


def queue_delivery(*, message_id, countdown):
    """The outbox's delivery_kick receiver (connected in apps/messaging/apps.py): queue
    deliver_message for one row, on MESSAGING_CELERY_QUEUE when set."""
    options = {"countdown": countdown}
    if settings.MESSAGING_CELERY_QUEUE:
        options["queue"] = settings.MESSAGING_CELERY_QUEUE
    deliver_message.apply_async(args=[message_id], **options)


@shared_task(name="messaging.reap_stuck", time_limit=TIME_LIMIT, soft_time_limit=SOFT_TIME_LIMIT, ignore_result=True)
def reap_stuck():
    return delivery.outbox_reap_stuck()
