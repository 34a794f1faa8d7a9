"""Push under a killed worker, like SMS (tests/messaging/test_worker_kill.py, whose worker
helpers this reuses): a real Celery worker (Redis broker, the test PostgreSQL database) is
SIGKILLed in the middle of sending a batch of pushes through the local push provider, then
restarted: every push is sent, none twice (asserted on the provider's PushOutboxEntry rows)."""
import signal
import time
import uuid

import pytest
from django.db.models import Count

from apps.messaging.models import Channel, DeliveryAttempt, OutboundMessage
from apps.messaging.push.models import PushOutboxEntry
from apps.messaging.push.services import device_register
from apps.messaging.services import notify
from tests.factories import PortalPatientFactory
from tests.messaging.test_worker_kill import forget_queue, kill_group, start_worker, wait_for, worker_env

PUSHES = 120
SENDING_TIMEOUT = 5


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_sends_every_push_exactly_once(requires_postgres, redis_url, settings, tmp_path):
    from clinic.celery import app

    settings.MESSAGING_KICK_ENABLED = False
    patients = [PortalPatientFactory() for _ in range(6)]
    for i, patient in enumerate(patients):
        device_register(user=patient.user, platform="android" if i % 2 else "ios", push_token=f"kill-token-{i}")
    for i in range(PUSHES):
        notify(user=patients[i % 6].user, kind="secure_message", title=f"Message {i}")
    assert OutboundMessage.objects.filter(channel=Channel.PUSH, status="pending").count() == PUSHES

    queue = f"messaging-push-kill-{uuid.uuid4().hex[:8]}"
    env = worker_env(redis_url, queue, MESSAGING_SMS_TEST_DELAY="0.1", MESSAGING_SENDING_TIMEOUT_SECONDS=str(SENDING_TIMEOUT),
                     MESSAGING_TASK_TIME_LIMIT="60", MESSAGING_KICK_ENABLED="false", MESSAGING_PUSH_BACKEND="local",
                     FCM_SERVICE_ACCOUNT_JSON="", APNS_KEY_ID="", MESSAGING_PUSH_OUTBOX_DIR="")
    log_path = tmp_path / "worker.log"
    worker = start_worker(env, queue, log_path)
    second = None
    try:
        app.send_task("messaging.deliver_due", queue=queue)
        app.send_task("messaging.deliver_due", queue=queue)
        assert wait_for(lambda: PushOutboxEntry.objects.count() >= 40, timeout=90, interval=0.005), log_path.read_text()[-3000:]
        kill_group(worker)

        sent_before = PushOutboxEntry.objects.count()
        stuck = OutboundMessage.objects.filter(status="sending").count()
        accepted_unrecorded = DeliveryAttempt.objects.filter(
            outcome="in_flight", pk__in=PushOutboxEntry.objects.values("attempt_id")).count()
        assert sent_before < PUSHES, "the worker finished before it was killed: nothing was tested"
        assert stuck > 0, "no row was left mid-batch"

        second = start_worker(env, queue, log_path)
        time.sleep(SENDING_TIMEOUT)

        def all_sent():
            app.send_task("messaging.reap_stuck", queue=queue)
            app.send_task("messaging.deliver_due", queue=queue)
            return OutboundMessage.objects.filter(channel=Channel.PUSH, status="sent").count() == PUSHES

        assert wait_for(all_sent, timeout=120, interval=2), (
            dict(OutboundMessage.objects.values_list("status").annotate(n=Count("id"))), log_path.read_text()[-3000:])
    finally:
        kill_group(worker)
        if second is not None:
            kill_group(second, signal.SIGTERM)
        forget_queue(redis_url, queue)

    # Every push sent, none twice, and each row names the entry the provider made.
    assert PushOutboxEntry.objects.count() == PUSHES
    assert PushOutboxEntry.objects.values("message_id").distinct().count() == PUSHES
    by_message = dict(PushOutboxEntry.objects.values_list("message_id", "provider_id"))
    for message_id, provider_id in OutboundMessage.objects.filter(channel=Channel.PUSH).values_list("pk", "provider_message_id"):
        assert by_message[message_id] == provider_id
    print(f"\nkilled with {sent_before} pushed, {stuck} rows SENDING, {accepted_unrecorded} accepted but unrecorded")
