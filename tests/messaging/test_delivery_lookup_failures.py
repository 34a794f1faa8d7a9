"""A reaped (or ambiguous) SMS is looked up at Twilio before any resend. When that lookup
itself fails, the failure counts as an attempt: same backoff as a failed send, FAILED after
MESSAGING_MAX_ATTEMPTS, and never a second send. Twilio is the scripted HTTP layer of
outbox_helpers (never the network)."""
import datetime

import pytest
import requests
from django.utils import timezone

from apps.messaging.delivery import backoff_seconds, outbox_deliver_due, outbox_reap_stuck
from apps.messaging.models import Channel, OutboundMessage
from apps.messaging.outbox import message_enqueue
from tests.messaging.outbox_helpers import deliver_until_settled, FakeTwilioHttp, no_kick, twilio_backends  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_kick")
S = OutboundMessage.Status


class WorkerKilled(BaseException):
    """Escapes the whole delivery call, like a SIGKILL: nothing after it is recorded."""


class FlakyLookupTwilio(FakeTwilioHttp):
    """FakeTwilioHttp whose message-list GETs (the lookup) follow `lookups` first: an int HTTP
    status or an exception per call; after the script they answer normally. With
    `die_after_accepting`, the first POST is accepted by Twilio and then the worker dies."""

    def __init__(self, *, lookups=(), die_after_accepting=False, die_before_sending=False):
        super().__init__()
        self.lookups = list(lookups)
        self.die_after_accepting = die_after_accepting
        self.die_before_sending = die_before_sending

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        if method == "GET" and self.lookups:
            self.requests.append({"method": method, "uri": uri, "params": params, "data": data})
            item = self.lookups.pop(0)
            if isinstance(item, BaseException):
                raise item
            from twilio.http.response import Response

            return Response(item, '{"code": 20500, "message": "error", "status": %d}' % item)
        if method == "POST" and self.die_before_sending:
            self.die_before_sending = False
            raise WorkerKilled()
        if method == "POST" and self.die_after_accepting:
            self.die_after_accepting = False
            self.requests.append({"method": method, "uri": uri, "params": params, "data": data})
            self.accept_remotely(data["To"], data["Body"])
            raise WorkerKilled()
        return super().request(method, uri, params=params, data=data, headers=headers, auth=auth, timeout=timeout, allow_redirects=allow_redirects)

    @property
    def gets(self):
        return [r for r in self.requests if r["method"] == "GET"]


def queue_sms(patient):
    return message_enqueue(kind="follow_up", patient=patient, dedupe_key="lookup", channels=[Channel.SMS])[0]


def killed_mid_send_and_reaped(fake, row):
    """The worker dies mid-send; the reaper later gives the row back (its attempt UNKNOWN)."""
    with pytest.raises(WorkerKilled):
        outbox_deliver_due(backends=twilio_backends(fake))
    row.refresh_from_db()
    assert row.status == S.SENDING
    assert outbox_reap_stuck(now=timezone.now() + datetime.timedelta(hours=1)) == 1
    row.refresh_from_db()
    assert row.status == S.PENDING and row.delivery_attempts.get().outcome == "unknown"


def test_a_reaped_sms_whose_lookups_keep_failing_ends_failed_after_the_limit_and_is_never_resent(patient, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 3
    fake = FlakyLookupTwilio(lookups=[503] * 10, die_after_accepting=True)
    row = queue_sms(patient)
    killed_mid_send_and_reaped(fake, row)

    row = deliver_until_settled(twilio_backends(fake), row)
    outbox_deliver_due(backends=twilio_backends(fake), now=timezone.now() + datetime.timedelta(days=1))
    row.refresh_from_db()

    assert row.status == S.FAILED and row.finished_at is not None and row.claim_token is None
    assert len(fake.posts) == 1  # the one Twilio accepted before the worker died; no resend
    assert len(fake.gets) == 2 and row.attempts == 3
    assert row.last_error == "provider lookup failed: Twilio 503 error 503"
    attempts = list(row.delivery_attempts.order_by("number"))
    assert [a.outcome for a in attempts] == ["unknown", "transient", "transient"]
    assert [a.http_status for a in attempts[1:]] == [503, 503]
    assert all(a.error == "provider lookup failed: Twilio 503 error 503" for a in attempts[1:])


def test_network_errors_on_lookup_also_run_out_of_attempts(patient, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 4
    fake = FlakyLookupTwilio(lookups=[requests.ConnectionError("down")] * 10, die_before_sending=True)
    row = queue_sms(patient)
    killed_mid_send_and_reaped(fake, row)

    row = deliver_until_settled(twilio_backends(fake), row)

    assert row.status == S.FAILED and row.attempts == 4 and fake.posts == []
    assert row.last_error == "provider lookup failed: network error: ConnectionError"
    assert row.delivery_attempts.filter(outcome="transient", error_code="network").count() == 3


def test_a_failed_lookup_waits_the_same_backoff_as_a_failed_send(patient, settings):
    settings.MESSAGING_RETRY_BASE_SECONDS = 10
    fake = FlakyLookupTwilio(lookups=[500], die_after_accepting=True)
    row = queue_sms(patient)
    killed_mid_send_and_reaped(fake, row)

    before = timezone.now()
    assert outbox_deliver_due(backends=twilio_backends(fake)).retried == 1
    row.refresh_from_db()

    assert row.status == S.PENDING and row.attempts == 2 and len(fake.posts) == 1
    wait = (row.next_attempt_at - before).total_seconds()
    assert backoff_seconds(2) == 20 and 19 <= wait <= 22
    assert row.last_error == "provider lookup failed: Twilio 500 error 500"


def test_a_lookup_that_fails_once_then_finds_the_sms_marks_it_sent_without_a_resend(patient):
    fake = FlakyLookupTwilio(lookups=[503], die_after_accepting=True)
    row = queue_sms(patient)
    killed_mid_send_and_reaped(fake, row)

    row = deliver_until_settled(twilio_backends(fake), row)

    assert row.status == S.SENT and row.last_error == ""
    assert len(fake.posts) == 1 and len(fake.gets) == 2
    assert row.provider_message_id == fake.remote_only[0]["sid"]
    assert [a.outcome for a in row.delivery_attempts.order_by("number")] == ["success", "transient"]


def test_a_lookup_that_fails_once_then_finds_nothing_sends_exactly_once(patient):
    fake = FlakyLookupTwilio(lookups=[503], die_before_sending=True)
    row = queue_sms(patient)
    killed_mid_send_and_reaped(fake, row)

    row = deliver_until_settled(twilio_backends(fake), row)

    assert row.status == S.SENT and row.attempts == 3
    assert len(fake.posts) == 1 and len(fake.accepted) == 1
    assert row.provider_message_id == fake.accepted[0]["sid"]
    assert [a.outcome for a in row.delivery_attempts.order_by("number")] == ["not_sent", "transient", "success"]
