"""Celery tasks for delivery: they take ids, call a service, and are idempotent (the claim
guard makes a second run a no-op). acks_late + reject_on_worker_lost are global (settings),
and nothing depends on a task surviving: the rows are the truth, the periodic job and the
reaper pick up whatever a dead worker left behind (apps/messaging/delivery.py). A dead
worker's claims are known by its processes' heartbeats (apps/core/tasks.py): the reaper runs
every 5 s, and every delivery run reaps too, so they go out again within about 25 s."""
from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from apps.core.periodic import Periodic
from apps.messaging import delivery

PERIODIC_TASKS = [
    Periodic(name="messaging.deliver_due", task="messaging.deliver_due", every_seconds=30),
    Periodic(name="messaging.reap_stuck", task="messaging.reap_stuck", every_seconds=5),
]

TIME_LIMIT = settings.MESSAGING_TASK_TIME_LIMIT
SOFT_TIME_LIMIT = max(1, TIME_LIMIT - 15)
# A run stops claiming new batches well before its soft limit (claimed-but-unstarted rows
# are given back, see outbox_deliver_due) and queues its own successor when rows are left.
TIME_BUDGET = max(1, TIME_LIMIT // 2)


def _options(countdown=0):
    options = {"countdown": countdown}
    if settings.MESSAGING_CELERY_QUEUE:
        options["queue"] = settings.MESSAGING_CELERY_QUEUE
    return options


@shared_task(name="messaging.deliver_due", time_limit=TIME_LIMIT, soft_time_limit=SOFT_TIME_LIMIT, ignore_result=True)
def deliver_due():
    report = delivery.outbox_deliver_due(time_budget=TIME_BUDGET)
    if report.more:
        # A backlog (thousands of reminders due at once) goes on at once, not at the next beat.
        deliver_due.apply_async(**_options())
    return {"claimed": report.claimed, "sent": report.sent, "retried": report.retried, "failed": report.failed,
            "reaped": report.reaped, "more": report.more}


@shared_task(name="messaging.deliver_message", time_limit=TIME_LIMIT, soft_time_limit=SOFT_TIME_LIMIT, ignore_result=True)
def deliver_message(message_id):
    status = delivery.outbox_deliver_one(message_id=message_id)
    return str(status) if status else None


def queue_delivery(*, message_id, countdown):
    """The outbox's delivery_kick receiver (connected in apps/messaging/apps.py): queue
    deliver_message for one row, or (message_id=None) a deliver_due run, on
    MESSAGING_CELERY_QUEUE when set."""
    if message_id is None:
        deliver_due.apply_async(**_options(countdown))
    else:
        deliver_message.apply_async(args=[message_id], **_options(countdown))


@shared_task(name="messaging.reap_stuck", time_limit=TIME_LIMIT, soft_time_limit=SOFT_TIME_LIMIT, ignore_result=True)
def reap_stuck():
    return delivery.outbox_reap_stuck()


@worker_ready.connect(dispatch_uid="messaging.deliver_on_start")
def _deliver_on_start(sender=None, **kwargs):
    """A worker that starts (a deploy, a restart after a crash) delivers what is due at once
    instead of at the next beat: the kicks a dead worker had taken are not redelivered until
    the broker's visibility timeout. Only when this worker consumes the messaging queue (and
    kicks are on)."""
    if not settings.MESSAGING_KICK_ENABLED:
        return
    queue = settings.MESSAGING_CELERY_QUEUE or sender.app.conf.task_default_queue
    consumed = {q.name for q in getattr(getattr(sender, "task_consumer", None), "queues", [])}
    if queue in consumed:
        deliver_due.apply_async(**_options())
