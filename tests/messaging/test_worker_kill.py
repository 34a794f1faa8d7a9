"""The hard one: a real Celery worker (Redis broker, the test PostgreSQL database) is
SIGKILLed in the middle of sending a batch of due SMS, then restarted: every message is sent,
none twice (asserted on the local SMS outbox rows). The first test takes the rows back by the
fixed MESSAGING_SENDING_TIMEOUT_SECONDS (shortened to 5 s); the second by the dead worker's
heartbeat, with the timeout left at 600 s."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db.models import Count

from apps.core.models import Heartbeat
from apps.core.tasks import PROCESS_PREFIX
from apps.messaging import tasks
from apps.messaging.models import Channel, DeliveryAttempt, OutboundMessage, SmsOutboxEntry
from apps.messaging.outbox import Outgoing, message_enqueue, messages_enqueue
from tests.factories import PatientFactory, PortalPatientFactory
from tests.processes import shared_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
MESSAGES = 200
SENDING_TIMEOUT = 5  # seconds before the reaper presumes a SENDING row's worker dead
S = OutboundMessage.Status


def worker_env(redis_url, queue, **settings):
    """The environment of a real worker on this test's database and a queue of its own, with
    the local SMS provider and `settings` (MESSAGING_* overrides)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings.test",
        "DATABASE_URL": shared_database_url(),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": redis_url,
        "MESSAGING_SMS_BACKEND": "local",
        "TWILIO_ACCOUNT_SID": "",
        "MESSAGING_CELERY_QUEUE": queue,
        "MESSAGING_BATCH_SIZE": "20",
        "PYTHONUNBUFFERED": "1",
        **settings,
    }


def forget_queue(redis_url, queue):
    try:
        import redis

        redis.Redis.from_url(redis_url).delete(queue)
    except Exception:
        pass


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
    env = worker_env(redis_url, queue, MESSAGING_SMS_TEST_DELAY="0.1", MESSAGING_SENDING_TIMEOUT_SECONDS=str(SENDING_TIMEOUT),
                     MESSAGING_TASK_TIME_LIMIT="60", MESSAGING_KICK_ENABLED="false")
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
            dict(OutboundMessage.objects.values_list("status").annotate(n=Count("id"))),
            log_path.read_text()[-3000:],
        )
    finally:
        kill_group(worker)
        if second is not None:
            kill_group(second, signal.SIGTERM)
        forget_queue(redis_url, queue)

    # Every message sent, none twice.
    assert SmsOutboxEntry.objects.count() == MESSAGES
    assert SmsOutboxEntry.objects.values("message_id").distinct().count() == MESSAGES
    by_message = dict(SmsOutboxEntry.objects.values_list("message_id", "sid"))
    for message_id, sid in OutboundMessage.objects.values_list("pk", "provider_message_id"):
        assert by_message[message_id] == sid
    print(f"\nkilled with {sent_before} sent, {stuck} rows SENDING, {accepted_unrecorded} accepted but unrecorded")


# --- claims tied to the worker's liveness ---------------------------------------------------

LIVE_MESSAGES = 400


def alive_in_group(pgid):
    """Processes of the group that are still running (zombies do not count)."""
    alive = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    rest = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(rest[2]) == pgid and rest[0] != "Z":
                alive += 1
    return alive


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_rows_a_killed_worker_had_claimed_go_out_within_a_minute_of_its_death_exactly_once(
        requires_postgres, redis_url, settings, tmp_path):
    """SIGKILL of a prefork worker's main process in the middle of a batch; a new worker starts
    (as a supervisor would restart it) and the periodic jobs run on their schedule. The dead
    worker's claims are taken back because its processes stopped beating, not because
    MESSAGING_SENDING_TIMEOUT_SECONDS (600 s here) passed: every row it held is SENT within
    60 s of its death, and no SMS goes out twice."""
    from clinic.celery import app

    settings.MESSAGING_KICK_ENABLED = False
    patients = [PatientFactory() for _ in range(10)]
    messages_enqueue(events=[Outgoing(kind="follow_up", patient=patients[i % 10], dedupe_key=f"live:{i}", channels=[Channel.SMS])
                             for i in range(LIVE_MESSAGES)])
    queue = f"messaging-live-{uuid.uuid4().hex[:8]}"
    env = worker_env(redis_url, queue, MESSAGING_SMS_TEST_DELAY="0.05", MESSAGING_SENDING_TIMEOUT_SECONDS="600",
                     MESSAGING_KICK_ENABLED="true")
    log_path = tmp_path / "worker.log"
    worker = start_worker(env, queue, log_path)
    second = None
    try:
        app.send_task("messaging.deliver_due", queue=queue)
        app.send_task("messaging.deliver_due", queue=queue)
        assert wait_for(lambda: SmsOutboxEntry.objects.count() >= 60, timeout=90, interval=0.01), log_path.read_text()[-3000:]

        os.kill(worker.pid, signal.SIGKILL)  # the main process only
        died = time.monotonic()
        worker.wait(timeout=30)
        # Its pool processes die with it (Celery gives them SIGKILL as parent-death signal).
        assert wait_for(lambda: alive_in_group(worker.pid) == 0, timeout=10), "pool processes outlived the main process"
        claimed = dict(OutboundMessage.objects.filter(status=S.SENDING).values_list("pk", "claimed_by"))
        assert claimed, "no row was left mid-batch"
        assert SmsOutboxEntry.objects.count() < LIVE_MESSAGES
        names = set(claimed.values())
        assert all(name.startswith(PROCESS_PREFIX) for name in names) and Heartbeat.objects.filter(name__in=names).count() == len(names)

        second = start_worker(env, queue, log_path)
        # Beat's part: every periodic job of the messaging app on its own interval, from now.
        next_run = {job.task: died for job in tasks.PERIODIC_TASKS}
        every = {job.task: job.every_seconds for job in tasks.PERIODIC_TASKS}

        def claimed_rows_sent():
            for task, at in next_run.items():
                if time.monotonic() >= at:
                    app.send_task(task, queue=queue)
                    next_run[task] = at + every[task]
            return OutboundMessage.objects.filter(pk__in=claimed, status=S.SENT).count() == len(claimed)

        assert wait_for(claimed_rows_sent, timeout=60 - (time.monotonic() - died), interval=0.2), (
            dict(OutboundMessage.objects.filter(pk__in=claimed).values_list("status").annotate(n=Count("id"))),
            log_path.read_text()[-3000:],
        )
        recovered = time.monotonic() - died
        assert wait_for(lambda: claimed_rows_sent() and OutboundMessage.objects.filter(status=S.SENT).count() == LIVE_MESSAGES,
                        timeout=120, interval=0.5), log_path.read_text()[-3000:]
    finally:
        kill_group(worker)
        if second is not None:
            kill_group(second, signal.SIGTERM)
        forget_queue(redis_url, queue)

    assert recovered < 60
    # Exactly once: one provider entry per row, and it is the one the row names.
    assert SmsOutboxEntry.objects.count() == LIVE_MESSAGES
    assert SmsOutboxEntry.objects.values("message_id").distinct().count() == LIVE_MESSAGES
    by_message = dict(SmsOutboxEntry.objects.values_list("message_id", "sid"))
    assert all(by_message[pk] == sid for pk, sid in OutboundMessage.objects.values_list("pk", "provider_message_id"))
    print(f"\nkilled with {len(claimed)} rows claimed by {len(names)} processes; all SENT {recovered:.1f} s after the kill")
