"""TwilioSMS against a scripted HTTP layer (twilio.http.HttpClient subclass; never the
network): retries with backoff, permanent failures, ambiguous network errors and lookup."""
import datetime

import pytest
import requests
from django.utils import timezone

from apps.messaging.delivery import backoff_seconds, outbox_deliver_due
from apps.messaging.models import Channel, DeliveryAttempt, OutboundMessage, SmsOptOut
from apps.messaging.outbox import message_enqueue
from apps.messaging.sms import LocalOutboxSMS, TwilioSMS, get_sms_backend
from tests.messaging.outbox_helpers import deliver_until_settled, FakeTwilioHttp, no_kick, twilio_backends, twilio_settings  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_kick")
S = OutboundMessage.Status


def queue_sms(patient, key="k"):
    return message_enqueue(kind="follow_up", patient=patient, dedupe_key=key, channels=[Channel.SMS])[0]


def test_500_500_503_then_success_sends_exactly_one_sms_in_four_attempts(patient):
    fake = FakeTwilioHttp([500, 500, 503, 201])
    row = queue_sms(patient)

    row = deliver_until_settled(twilio_backends(fake), row)

    assert row.status == S.SENT
    assert len(fake.accepted) == 1 and len(fake.posts) == 4
    attempts = list(row.delivery_attempts.order_by("number"))
    assert [a.outcome for a in attempts] == ["transient", "transient", "transient", "success"]
    assert [a.http_status for a in attempts] == [500, 500, 503, 201]
    assert row.attempts == 4 and row.provider_message_id == fake.accepted[0]["sid"]
    post = fake.posts[0]
    assert post["data"]["To"] == patient.phone and post["data"]["From"] == "+12125550100"


def test_retries_wait_exponentially_longer(patient, settings):
    settings.MESSAGING_RETRY_BASE_SECONDS = 10
    fake = FakeTwilioHttp([500, 500])
    row = queue_sms(patient)
    backends = twilio_backends(fake)

    before = timezone.now()
    outbox_deliver_due(backends=backends)
    row.refresh_from_db()
    first_wait = (row.next_attempt_at - before).total_seconds()
    outbox_deliver_due(backends=backends, now=row.next_attempt_at)
    row.refresh_from_db()
    second_wait = (row.next_attempt_at - timezone.now()).total_seconds()

    assert 9 <= first_wait <= 12 and 18 <= second_wait <= 21
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [10, 20, 40]
    settings.MESSAGING_RETRY_MAX_SECONDS = 25
    assert backoff_seconds(5) == 25


def test_persistent_failure_ends_failed_after_the_limit_and_shows_on_the_staff_page(patient, settings, client_for, front_desk):
    settings.MESSAGING_MAX_ATTEMPTS = 3
    fake = FakeTwilioHttp([500] * 10)
    row = queue_sms(patient)

    row = deliver_until_settled(twilio_backends(fake), row)

    assert row.status == S.FAILED and row.attempts == 3 and len(fake.posts) == 3
    assert "500" in row.last_error
    page = client_for(front_desk).get("/staff/messages/outbox/?status=failed").content.decode()
    assert str(row.pk) in page and "Twilio 500" in page


def test_429_is_retried(patient):
    fake = FakeTwilioHttp([(429, {"code": 20429, "message": "Too Many Requests", "status": 429}), 201])
    row = deliver_until_settled(twilio_backends(fake), queue_sms(patient))
    assert row.status == S.SENT and row.attempts == 2


def test_invalid_number_is_one_attempt_and_never_retried(patient):
    fake = FakeTwilioHttp([(400, {"code": 21211, "message": "The 'To' number is not valid.", "status": 400})])
    row = queue_sms(patient)

    row = deliver_until_settled(twilio_backends(fake), row)
    outbox_deliver_due(backends=twilio_backends(fake), now=timezone.now() + datetime.timedelta(days=1))

    assert row.status == S.FAILED and len(fake.posts) == 1
    attempt = row.delivery_attempts.get()
    assert attempt.outcome == "permanent" and attempt.error_code == "21211" and attempt.http_status == 400


def test_unsubscribed_recipient_fails_and_records_the_opt_out(patient):
    fake = FakeTwilioHttp([(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400})])
    row = deliver_until_settled(twilio_backends(fake), queue_sms(patient))

    assert row.status == S.FAILED and len(fake.posts) == 1
    assert SmsOptOut.objects.filter(phone=patient.phone).exists()
    assert Channel.SMS not in [r.channel for r in message_enqueue(kind="follow_up", patient=patient, dedupe_key="next")]


def test_a_connection_error_that_never_reached_twilio_is_retried(patient):
    fake = FakeTwilioHttp([requests.ConnectionError("refused"), 201])
    row = deliver_until_settled(twilio_backends(fake), queue_sms(patient))

    assert row.status == S.SENT and len(fake.accepted) == 1
    assert list(row.delivery_attempts.values_list("outcome", flat=True)) == ["not_sent", "success"]


def test_a_read_timeout_after_twilio_accepted_is_found_and_not_resent(patient):
    fake = FakeTwilioHttp()
    row = queue_sms(patient)

    def timeout_after_accepting(method, uri, **kwargs):
        if method == "POST":
            fake.requests.append({"method": method, "uri": uri, "params": None, "data": kwargs.get("data")})
            fake.accept_remotely(kwargs["data"]["To"], kwargs["data"]["Body"])
            raise requests.ReadTimeout("read timed out")
        return FakeTwilioHttp.request(fake, method, uri, **kwargs)

    fake.request = timeout_after_accepting
    row = deliver_until_settled(twilio_backends(fake), row)

    assert row.status == S.SENT
    assert len(fake.posts) == 1  # found by lookup, never posted again
    assert row.provider_message_id == fake.remote_only[0]["sid"]
    assert [a.outcome for a in row.delivery_attempts.order_by("number")] == ["success"]


def test_lookup_failure_waits_instead_of_resending(patient):
    fake = FakeTwilioHttp([requests.ReadTimeout("t")])
    row = queue_sms(patient)
    backends = twilio_backends(fake)
    outbox_deliver_due(backends=backends)
    row.refresh_from_db()

    def broken_list(method, uri, **kwargs):
        raise requests.ConnectionError("down")

    fake.request = broken_list
    outbox_deliver_due(backends=backends, now=row.next_attempt_at + datetime.timedelta(seconds=1))
    row.refresh_from_db()

    # The failed lookup counts as an attempt (tests/messaging/test_delivery_lookup_failures.py).
    assert row.status == S.PENDING and row.attempts == 2 and len(fake.posts) == 1
    assert [a.outcome for a in row.delivery_attempts.order_by("number")] == ["unknown", "transient"]


def test_status_callback_url_carries_the_attempt_id(patient, settings):
    settings.MESSAGING_PUBLIC_BASE_URL = "https://clinic.example.org/"
    fake = FakeTwilioHttp()
    row = deliver_until_settled(twilio_backends(fake), queue_sms(patient))
    attempt = DeliveryAttempt.objects.get(message=row)
    assert fake.posts[0]["data"]["StatusCallback"] == f"https://clinic.example.org/webhooks/twilio/status/?attempt={attempt.pk}"


def test_backend_choice_follows_the_settings(settings, twilio_settings):
    settings.MESSAGING_SMS_BACKEND = ""
    assert isinstance(get_sms_backend(), TwilioSMS)
    settings.TWILIO_ACCOUNT_SID = ""
    assert isinstance(get_sms_backend(), LocalOutboxSMS)
    settings.MESSAGING_SMS_BACKEND = "local"
    settings.TWILIO_ACCOUNT_SID = "AC123"
    assert isinstance(get_sms_backend(), LocalOutboxSMS)
