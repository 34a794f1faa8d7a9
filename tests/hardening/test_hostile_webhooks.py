"""Correctly signed Twilio webhooks with hostile content always answer 2xx (Twilio retries
anything else for hours) and record or reject the message cleanly: a NUL in an inbound Body is
recorded (as U+FFFD) and routed as usual; a From, To, MessageSid, MessageStatus or ErrorCode
that cannot be stored in its column (NUL, 10,000 characters for a 32-character column) is
rejected, with nothing written and a log line naming only the parameters. Runs on SQLite and
PostgreSQL (which refuses NUL and over-long varchar where SQLite stores them)."""
import logging

import pytest

from apps.messaging.delivery import outbox_deliver_due
from apps.messaging.models import Channel, DeliveryStatusEvent, InboundSms, OutboundMessage, SmsOptOut
from apps.messaging.outbox import message_enqueue
from apps.messaging.threads.models import Message, Thread
from tests.messaging.outbox_helpers import FakeTwilioHttp, no_kick, signed_post, twilio_backends, twilio_settings  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_kick", "twilio_settings")]

STATUS = "/webhooks/twilio/status/"
INBOUND = "/webhooks/twilio/sms/"
LONG = "x" * 10_000
EMPTY_TWIML = b"<Response></Response>"


def written():
    return (InboundSms.objects.count(), DeliveryStatusEvent.objects.count(), SmsOptOut.objects.count(),
            OutboundMessage.objects.count(), Message.objects.count(), Thread.objects.count(),
            list(OutboundMessage.objects.values_list("pk", "status", "provider_status", "delivered_at")))


def inbound(patient, **params):
    return {"MessageSid": "SM" + "a" * 32, "From": patient.phone, "To": "+12125550100", "Body": "Running late", **params}


@pytest.fixture
def sent_sms(patient):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="k", channels=[Channel.SMS])
    outbox_deliver_due(backends=twilio_backends(FakeTwilioHttp()))
    return OutboundMessage.objects.get()


# --- inbound SMS ------------------------------------------------------------------------------

def test_a_nul_in_the_body_is_recorded_and_reaches_the_patients_thread(client, patient):
    response = signed_post(client, INBOUND, inbound(patient, Body="Can I bring my son\x00 too?"))

    assert response.status_code == 200 and EMPTY_TWIML in response.content
    row = InboundSms.objects.get()
    assert row.body == "Can I bring my son\ufffd too?"
    assert row.patient == patient and row.action == "thread"
    assert Message.objects.get(thread__patient=patient).body == "Can I bring my son\ufffd too?"


def test_a_nul_inside_a_keyword_is_not_read_as_the_keyword(client, patient):
    response = signed_post(client, INBOUND, inbound(patient, Body="STOP\x00"))

    assert response.status_code == 200
    assert InboundSms.objects.get().action == "thread"
    assert not SmsOptOut.objects.exists()


def test_a_body_past_twilios_longest_is_kept_to_1600_characters(client, patient):
    response = signed_post(client, INBOUND, inbound(patient, Body=LONG))

    assert response.status_code == 200
    assert len(InboundSms.objects.get().body) == 1600


@pytest.mark.parametrize("name, value", [
    ("From", LONG), ("From", "+1212555\x000199"), ("To", LONG), ("To", "+1212\x00"),
    ("MessageSid", LONG), ("MessageSid", "SM\x00" + "a" * 31), ("MessageSid", "SM 1"), ("SmsSid", LONG),
], ids=["long From", "NUL From", "long To", "NUL To", "long MessageSid", "NUL MessageSid", "MessageSid with a space", "long SmsSid"])
def test_an_unstorable_number_or_sid_is_rejected_with_2xx_and_nothing_written(client, patient, caplog, name, value):
    params = inbound(patient, **{name: value})
    before = written()

    with caplog.at_level(logging.WARNING, logger="apps.messaging.webhooks"):
        response = signed_post(client, INBOUND, params)

    assert response.status_code == 200 and EMPTY_TWIML in response.content
    assert written() == before
    assert f"ignored a signed Twilio webhook at {INBOUND}: unreadable {name}" in caplog.text
    assert value not in caplog.text and patient.phone not in caplog.text  # names only, never the content


def test_a_twilio_sid_and_an_e164_number_still_go_through(client, patient):
    response = signed_post(client, INBOUND, inbound(patient, Body="HELP"))

    assert response.status_code == 200
    assert InboundSms.objects.get().action == "help"


# --- status callbacks ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, value", [
    ("MessageSid", LONG), ("MessageSid", "SM\x00x"), ("MessageStatus", LONG), ("MessageStatus", "deliv\x00ered"),
    ("ErrorCode", LONG), ("ErrorCode", "30\x0003"),
], ids=["long MessageSid", "NUL MessageSid", "long MessageStatus", "NUL MessageStatus", "long ErrorCode", "NUL ErrorCode"])
def test_an_unstorable_status_callback_is_204_and_moves_nothing(client, sent_sms, name, value):
    params = {"MessageSid": sent_sms.provider_message_id, "MessageStatus": "undelivered", "ErrorCode": "30003", name: value}
    before = written()

    response = signed_post(client, STATUS, params)

    assert response.status_code == 204
    assert written() == before


def test_a_hostile_attempt_id_in_the_callback_url_names_no_attempt(client, sent_sms):
    for attempt in ("99999999999999999999", "x" * 5_000):
        response = signed_post(client, f"{STATUS}?attempt={attempt}", {"MessageSid": "SMunknown", "MessageStatus": "sent"})

        assert response.status_code == 204
    sent_sms.refresh_from_db()
    assert sent_sms.provider_message_id != "SMunknown"


def test_a_clean_callback_still_applies(client, sent_sms):
    response = signed_post(client, STATUS, {"MessageSid": sent_sms.provider_message_id, "MessageStatus": "delivered"})

    assert response.status_code == 204
    sent_sms.refresh_from_db()
    assert sent_sms.provider_status == "delivered" and sent_sms.delivered_at is not None
