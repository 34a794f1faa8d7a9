"""Delivery of a claimed batch: one write-ahead and one record for many rows, the claim
re-checked before later provider calls, the time budget, failures and crashes inside a batch,
and a provider callback that lands before the batch records its success."""
import collections
import datetime

import pytest
from django.db import connection
from django.utils import timezone

from apps.messaging import delivery
from apps.messaging.delivery import Backends, outbox_deliver_due, outbox_reap_stuck
from apps.messaging.delivery_status import delivery_status_record
from apps.messaging.models import Channel, DeliveryAttempt, OutboundMessage, SmsOutboxEntry
from apps.messaging.outbox import Outgoing, messages_enqueue
from apps.messaging.sms import LocalOutboxSMS, TransientSendError
from tests.factories import PatientFactory
from tests.messaging.outbox_helpers import no_kick  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_kick")
S = OutboundMessage.Status


def queue(count):
    patients = [PatientFactory() for _ in range(count)]
    rows = messages_enqueue(events=[Outgoing(kind="follow_up", patient=p, dedupe_key=f"b:{i}", channels=[Channel.SMS])
                                    for i, p in enumerate(patients)])
    return [r[0] for r in rows]


class Clock:
    """A stand-in for delivery's monotonic clock that only the fake provider moves."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(delivery, "_clock", clock)
    return clock


class SlowSMS(LocalOutboxSMS):
    """Each send takes `seconds` on the fake clock; `during(n)` runs inside the n-th send."""

    def __init__(self, clock, seconds, during=None):
        self.clock, self.seconds, self.during, self.calls = clock, seconds, during or {}, 0

    def send(self, **kwargs):
        self.calls += 1
        result = super().send(**kwargs)
        if self.calls in self.during:
            self.during[self.calls](kwargs, result)
        self.clock.now += self.seconds
        return result


def entries_per_row():
    """{row id: how many SMS the local provider holds for it}."""
    counts = collections.Counter(SmsOutboxEntry.objects.values_list("message_id", flat=True))
    return {pk: counts[pk] for pk in OutboundMessage.objects.values_list("pk", flat=True)}


def test_a_batch_costs_a_few_statements_beside_its_provider_calls(db, django_assert_max_num_queries):
    queue(20)
    # 20 provider INSERTs; besides them: the reaper's look, the claim (read + UPDATE), one read
    # of the rows, the write-ahead (UPDATE + INSERT), the record (two UPDATEs), one more claim
    # read (the batch was full, so more may be due), and the savepoints of the write-ahead and
    # the record inside the test's transaction (on PostgreSQL the claims' too).
    extra = 8 if connection.vendor == "postgresql" else 4
    with django_assert_max_num_queries(20 + 9 + extra):
        report = outbox_deliver_due(limit=20)

    assert report.sent == 20
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {S.SENT}
    assert all(n == 1 for n in entries_per_row().values())
    for row in OutboundMessage.objects.all():
        (attempt,) = row.delivery_attempts.all()
        assert attempt.outcome == "success" and attempt.provider_message_id == row.provider_message_id
        assert SmsOutboxEntry.objects.get(attempt_id=attempt.pk).sid == row.provider_message_id


def test_a_budget_that_runs_out_mid_batch_gives_back_the_rest_with_no_attempt(db, clock):
    rows = queue(5)
    sms = SlowSMS(clock, seconds=10)

    report = outbox_deliver_due(backends=Backends(sms=sms), limit=5, time_budget=15)

    assert (report.sent, report.more, sms.calls) == (2, True, 2)
    back = OutboundMessage.objects.filter(status=S.PENDING)
    assert back.count() == 3 and set(back.values_list("attempts", "claim_token", "claimed_by")) == {(0, None, "")}
    assert not DeliveryAttempt.objects.filter(message__in=back).exists()
    assert outbox_deliver_due().sent == 3  # the next run sends them, once
    assert SmsOutboxEntry.objects.count() == 5 and {r.pk for r in rows} == set(SmsOutboxEntry.objects.values_list("message_id", flat=True))


def test_a_row_taken_back_mid_batch_is_not_sent_by_its_old_claim_and_goes_out_once(db, clock):
    queue(4)
    # Inside the first provider call every row of the batch is reaped (as if the claim had
    # gone unrefreshed past its grace); the next call comes after the refresh interval, so
    # the old claim re-checks first, finds the rest taken and sends none of them.
    reap = {1: lambda kwargs, result: outbox_reap_stuck(now=timezone.now() + datetime.timedelta(hours=1), kick=False)}
    sms = SlowSMS(clock, seconds=delivery.CLAIM_REFRESH_SECONDS + 1, during=reap)

    report = outbox_deliver_due(backends=Backends(sms=sms), limit=4)

    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {S.SENT}
    assert all(n == 1 for n in entries_per_row().values())  # each once
    outcomes = sorted(tuple(r.delivery_attempts.values_list("outcome", flat=True)) for r in OutboundMessage.objects.all())
    # The first row's send landed (recorded although reaped: no resend); the other three were
    # never sent by the old claim: reconciled as not sent, then sent once by the new one.
    assert outcomes == [("not_sent", "success")] * 3 + [("success",)]
    assert report.sent == 4


def test_a_failed_send_inside_a_batch_is_retried_alone(db):
    rows = queue(3)

    class SecondFails(LocalOutboxSMS):
        calls = 0

        def send(self, **kwargs):
            self.calls += 1
            if self.calls == 2:
                raise TransientSendError("Twilio 503", code=503, http_status=503)
            return super().send(**kwargs)

    report = outbox_deliver_due(backends=Backends(sms=SecondFails()), limit=3)

    assert (report.sent, report.retried) == (2, 1)
    failed = OutboundMessage.objects.get(pk=rows[1].pk)
    assert failed.status == S.PENDING and failed.next_attempt_at > timezone.now() and failed.claim_token is None
    assert failed.delivery_attempts.get().outcome == "transient"


def test_a_crash_mid_batch_records_what_was_sent_and_leaves_one_row_to_reconcile(db):
    rows = queue(5)

    class DiesAfterThirdAccepted(LocalOutboxSMS):
        class Killed(BaseException):
            pass

        calls = 0

        def send(self, **kwargs):
            self.calls += 1
            result = super().send(**kwargs)
            if self.calls == 3:
                raise self.Killed()
            return result

    with pytest.raises(DiesAfterThirdAccepted.Killed):
        outbox_deliver_due(backends=Backends(sms=DiesAfterThirdAccepted()), limit=5)

    by_pk = {r.pk: r for r in OutboundMessage.objects.all()}
    assert [by_pk[r.pk].status for r in rows] == [S.SENT, S.SENT, S.SENDING, S.PENDING, S.PENDING]
    assert by_pk[rows[2].pk].delivery_attempts.get().outcome == "in_flight"  # accepted, unrecorded
    assert [by_pk[r.pk].attempts for r in rows[3:]] == [0, 0]  # given back with their write-ahead

    assert outbox_reap_stuck(now=timezone.now() + datetime.timedelta(hours=1)) == 1
    outbox_deliver_due()

    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {S.SENT}
    assert all(n == 1 for n in entries_per_row().values())  # the third was found, not resent


def test_a_delivery_callback_that_lands_before_the_batch_records_its_send_is_kept(db):
    (row,) = queue(1)

    class CallbackFirst(LocalOutboxSMS):
        def send(self, **kwargs):
            result = super().send(**kwargs)
            delivery_status_record(message_sid=result.provider_message_id, status="delivered", attempt_id=str(kwargs["attempt_id"]))
            return result

    outbox_deliver_due(backends=Backends(sms=CallbackFirst()))

    row.refresh_from_db()
    attempt = row.delivery_attempts.get()
    assert (row.status, row.provider_status, attempt.provider_status) == (S.SENT, "delivered", "delivered")
    assert row.delivered_at is not None and row.provider_message_id == attempt.provider_message_id == SmsOutboxEntry.objects.get().sid
