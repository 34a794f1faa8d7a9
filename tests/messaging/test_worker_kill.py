"""The hard one: a real Celery worker (Redis broker, the test PostgreSQL database) is
SIGKILLed in the middle of sending a batch of 200 due SMS, then restarted: every message is
sent, none twice (asserted on the local SMS outbox rows)."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from apps.messaging.models import Channel, DeliveryAttempt, OutboundMessage, SmsOutboxEntry
from apps.messaging.outbox import message_enqueue
from tests.factories import PortalPatientFactory

BASE_DIR = Path(__file__).resolve().parent.parent.parent
MESSAGES = 200
SENDING_TIMEOUT = 5  # seconds before the reaper presumes a SENDING row's worker dead


def database_url():
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(env, queue, log_path):
    log = open(log_path, "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "clinic", "worker", "-Q", queue, "-c", "2", "-P", "prefork",
         "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel=INFO"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def kill_group(proc, sig=signal.SIGKILL):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def wait_for(predicate, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_sends_every_message_exactly_once(requires_postgres, redis_url, settings, tmp_path):
    from clinic.celery import app

    settings.MESSAGING_KICK_ENABLED = False
    patients = [PortalPatientFactory() for _ in range(10)]
    for i in range(MESSAGES):
        message_enqueue(kind="follow_up", patient=patients[i % 10], dedupe_key=f"kill:{i}", channels=[Channel.SMS])
    assert OutboundMessage.objects.filter(status="pending").count() == MESSAGES

    queue = f"messaging-kill-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "MESSAGING_SMS_BACKEND": "local",
        "TWILIO_ACCOUNT_SID": "",
        "MESSAGING_SMS_TEST_DELAY": "0.1",
        "MESSAGING_SENDING_TIMEOUT_SECONDS": str(SENDING_TIMEOUT),
        "MESSAGING_TASK_TIME_LIMIT": "60",
        "MESSAGING_BATCH_SIZE": "20",
        "MESSAGING_KICK_ENABLED": "false",
        "MESSAGING_CELERY_QUEUE": queue,
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "worker.log"

    def send(task):
        app.send_task(task, queue=queue)

    def entries():
        return SmsOutboxEntry.objects.count()

    worker = start_worker(env, queue, log_path)
    second = None
    try:
        send("messaging.deliver_due")
        send("messaging.deliver_due")  # both pool processes claim batches
        # Kill the moment an entry appears past the threshold: that sender is most likely in the
        # gap between the "provider" accepting the SMS and our recording it.
        assert wait_for(lambda: entries() >= 67, timeout=90, interval=0.005), log_path.read_text()[-3000:]
        kill_group(worker)

        sent_before = entries()
        stuck = OutboundMessage.objects.filter(status="sending").count()
        accepted_unrecorded = DeliveryAttempt.objects.filter(
            outcome="in_flight", pk__in=SmsOutboxEntry.objects.values("attempt_id")
        ).count()
        assert sent_before < MESSAGES, "the worker finished before it was killed: nothing was tested"
        assert stuck > 0, "no row was left mid-batch"

        second = start_worker(env, queue, log_path)
        time.sleep(SENDING_TIMEOUT)

        def all_sent():
            send("messaging.reap_stuck")
            send("messaging.deliver_due")
            return OutboundMessage.objects.filter(status="sent").count() == MESSAGES

        assert wait_for(all_sent, timeout=120, interval=2), (
            dict(OutboundMessage.objects.values_list("status").annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))),
            log_path.read_text()[-3000:],
        )
    finally:
        kill_group(worker)
        if second is not None:
            kill_group(second, signal.SIGTERM)
        try:
            import redis

            redis.Redis.from_url(redis_url).delete(queue)
        except Exception:
            pass

    # Every message sent, none twice.
    assert SmsOutboxEntry.objects.count() == MESSAGES
    assert SmsOutboxEntry.objects.values("message_id").distinct().count() == MESSAGES
    by_message = dict(SmsOutboxEntry.objects.values_list("message_id", "sid"))
    for message_id, sid in OutboundMessage.objects.values_list("pk", "provider_message_id"):
        assert by_message[message_id] == sid
    print(f"\nkilled with {sent_before} sent, {stuck} rows SENDING, {accepted_unrecorded} accepted but unrecorded")
