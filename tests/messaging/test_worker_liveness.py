"""Claims tied to the claiming process's heartbeat (apps/core/tasks.py): a process that stopped
beating loses its claims once they are past their grace, a live one keeps them, and a claimer
with no heartbeat waits out MESSAGING_SENDING_TIMEOUT_SECONDS as before. The real worker
killed mid-batch is tests/messaging/test_worker_kill.py."""
import datetime
import time

import pytest
from django.db import connection
from django.utils import timezone

from apps.core import tasks as core_tasks
from apps.core.models import Heartbeat
from apps.messaging import delivery
from apps.messaging.delivery import outbox_claim_due, outbox_deliver_due, outbox_reap_stuck
from apps.messaging.models import Channel, DeliveryAttempt, OutboundMessage, SmsOutboxEntry
from apps.messaging.outbox import message_enqueue
from tests.messaging.outbox_helpers import no_kick  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_kick")
S = OutboundMessage.Status


def ago(seconds):
    return timezone.now() - datetime.timedelta(seconds=seconds)


@pytest.fixture
def this_process(monkeypatch):
    """This test process as a worker process whose heartbeat row was just written (no thread:
    the test moves its row's time)."""
    beat = core_tasks.ProcessBeat()
    beat.beat()
    monkeypatch.setattr(core_tasks, "_beat", beat)
    return beat


def claim_one(patient, key="live"):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key=key, channels=[Channel.SMS])
    token, (message_id,) = outbox_claim_due()
    return OutboundMessage.objects.get(pk=message_id)


def process_died(beat, seconds_ago):
    Heartbeat.objects.filter(name=beat.name).update(at=ago(seconds_ago))


def test_a_claim_names_the_process_that_holds_it(patient, this_process):
    row = claim_one(patient)

    assert row.status == S.SENDING and row.claimed_by == this_process.name
    assert this_process.name.startswith(core_tasks.PROCESS_PREFIX)
    assert Heartbeat.objects.get(name=this_process.name).at > ago(5)


def test_a_process_that_cannot_write_its_beats_names_no_claim(patient, this_process):
    this_process.last_ok = time.monotonic() - core_tasks.PROCESS_STALE_SECONDS  # its beats have been failing

    assert core_tasks.current_process_id() == ""
    assert claim_one(patient).claimed_by == ""  # such claims wait out the fixed timeout


def test_the_claims_of_a_process_that_stopped_beating_go_back_after_their_grace(patient, this_process):
    row = claim_one(patient)
    grace = delivery.CLAIM_GRACE_SECONDS
    process_died(this_process, seconds_ago=grace + 5)
    # It died mid-send: its write-ahead attempt is IN_FLIGHT.
    OutboundMessage.objects.filter(pk=row.pk).update(claimed_at=ago(grace + 5), attempts=1)
    DeliveryAttempt.objects.create(message=row, number=1, claim_token=row.claim_token)

    assert outbox_reap_stuck() == 1

    row.refresh_from_db()
    assert (row.status, row.claim_token, row.claimed_by, row.last_error) == (S.PENDING, None, "", "worker lost; reaped")
    assert row.delivery_attempts.get().outcome == "unknown"  # reconciled before any resend
    assert outbox_deliver_due().sent == 1 and SmsOutboxEntry.objects.count() == 1
    assert list(row.delivery_attempts.values_list("outcome", flat=True)) == ["not_sent", "success"]


def test_a_live_process_keeps_its_claims_however_long_it_holds_them(patient, this_process):
    row = claim_one(patient)
    OutboundMessage.objects.filter(pk=row.pk).update(claimed_at=ago(300))  # beating all along

    assert outbox_reap_stuck() == 0
    assert OutboundMessage.objects.get(pk=row.pk).status == S.SENDING


def test_a_dead_process_claim_refreshed_within_its_grace_is_left_alone(patient, this_process):
    # The process stopped beating, but the claim was re-checked just now: a provider call that
    # started then may still be running, so the row waits for the grace to pass.
    claim_one(patient)
    process_died(this_process, seconds_ago=core_tasks.PROCESS_STALE_SECONDS + 60)

    assert outbox_reap_stuck() == 0
    assert outbox_reap_stuck(now=timezone.now() + datetime.timedelta(seconds=delivery.CLAIM_GRACE_SECONDS + 1)) == 1


def test_a_claim_with_no_process_behind_it_waits_for_the_sending_timeout(patient, settings):
    row = claim_one(patient)  # not a worker process: no heartbeat, claimed_by ""
    assert row.claimed_by == ""
    OutboundMessage.objects.filter(pk=row.pk).update(claimed_at=ago(300))

    assert outbox_reap_stuck() == 0
    assert outbox_reap_stuck(now=timezone.now() + datetime.timedelta(seconds=settings.MESSAGING_SENDING_TIMEOUT_SECONDS)) == 1


def test_a_delivery_run_reaps_dead_claims_and_sends_them_itself(patient, other_patient, this_process):
    dead = claim_one(patient, key="dead")
    grace = delivery.CLAIM_GRACE_SECONDS
    Heartbeat.objects.create(name="process:dead", at=ago(grace + 5))
    OutboundMessage.objects.filter(pk=dead.pk).update(claimed_by="process:dead", claimed_at=ago(grace + 5))
    message_enqueue(kind="follow_up", patient=other_patient, dedupe_key="due", channels=[Channel.SMS])

    report = outbox_deliver_due()

    assert (report.reaped, report.sent) == (1, 2)
    assert sorted(SmsOutboxEntry.objects.values_list("message_id", flat=True)) == sorted(OutboundMessage.objects.values_list("pk", flat=True))
    assert set(OutboundMessage.objects.values_list("status", "claimed_by")) == {(S.SENT, this_process.name)}


def test_the_heartbeat_job_forgets_processes_gone_for_an_hour(db):
    Heartbeat.objects.create(name="process:gone", at=ago(2 * 3600))
    Heartbeat.objects.create(name="process:recent", at=ago(60))
    Heartbeat.objects.create(name="worker", at=ago(2 * 3600))

    core_tasks.heartbeat()

    assert sorted(Heartbeat.objects.values_list("name", flat=True)) == ["process:recent", "worker"]


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_beat_writes_its_row_from_its_own_thread(requires_postgres):
    beat = core_tasks.process_beat_start()
    try:
        assert beat.thread.is_alive()
        assert core_tasks.current_process_id() == beat.name
        assert Heartbeat.objects.filter(name=beat.name, at__gt=ago(core_tasks.PROCESS_STALE_SECONDS)).exists()
        assert core_tasks.fresh_process_beats().filter(name=beat.name).exists()
    finally:
        core_tasks.process_beat_stop()
        connection.close()
    assert not beat.thread.is_alive() and core_tasks.current_process_id() == ""
