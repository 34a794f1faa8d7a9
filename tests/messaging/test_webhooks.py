"""Twilio webhooks: signatures (forged, missing, no token configured, proxy URL), status
callbacks and their replays, inbound SMS replays."""
import pytest

from apps.messaging.delivery import outbox_deliver_due
from apps.messaging.models import Channel, DeliveryStatusEvent, InboundSms, OutboundMessage, SmsOptOut
from apps.messaging.outbox import message_enqueue
from tests.messaging.outbox_helpers import AUTH_TOKEN, FakeTwilioHttp, no_kick, signed_post, twilio_backends, twilio_settings  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_kick", "twilio_settings")
STATUS = "/webhooks/twilio/status/"
INBOUND = "/webhooks/twilio/sms/"
S = OutboundMessage.Status


@pytest.fixture
def sent_sms(patient):
    fake = FakeTwilioHttp()
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="k", channels=[Channel.SMS])
    outbox_deliver_due(backends=twilio_backends(fake))
    row = OutboundMessage.objects.get()
    assert row.status == S.SENT
    return row


def status_params(row, status, **extra):
    return {"MessageSid": row.provider_message_id, "MessageStatus": status, "AccountSid": "AC" + "0" * 32, **extra}


def snapshot():
    return (
        list(OutboundMessage.objects.values_list("pk", "status", "provider_status", "delivered_at", "last_error")),
        DeliveryStatusEvent.objects.count(),
        InboundSms.objects.count(),
    )


def test_a_valid_delivered_callback_updates_message_and_attempt(client, sent_sms):
    response = signed_post(client, STATUS, status_params(sent_sms, "delivered"))

    assert response.status_code == 204
    sent_sms.refresh_from_db()
    assert sent_sms.provider_status == "delivered" and sent_sms.delivered_at is not None
    assert sent_sms.status == S.SENT
    assert sent_sms.delivery_attempts.get().provider_status == "delivered"


def test_a_replayed_callback_changes_nothing_the_second_time(client, sent_sms):
    params = status_params(sent_sms, "delivered")
    signed_post(client, STATUS, params)
    before = snapshot()

    again = signed_post(client, STATUS, params)

    assert again.status_code == 204
    assert snapshot() == before


@pytest.mark.parametrize("status", ["failed", "undelivered"])
def test_failed_or_undelivered_marks_the_message_failed_for_staff(client, sent_sms, status):
    signed_post(client, STATUS, status_params(sent_sms, status, ErrorCode="30003"))
    sent_sms.refresh_from_db()
    assert sent_sms.status == S.FAILED and "30003" in sent_sms.last_error


def test_statuses_never_go_backwards(client, sent_sms):
    signed_post(client, STATUS, status_params(sent_sms, "delivered"))
    signed_post(client, STATUS, status_params(sent_sms, "sent"))
    sent_sms.refresh_from_db()
    assert sent_sms.provider_status == "delivered"
    assert DeliveryStatusEvent.objects.count() == 2


def test_a_callback_for_a_lost_attempt_records_its_sid(client, patient):
    """The worker died after Twilio accepted: the callback (attempt id in its URL) tells us the
    sid, and the next delivery run marks the row SENT without a new send."""
    from apps.messaging.delivery import outbox_claim_due, outbox_reap_stuck
    from apps.messaging.models import DeliveryAttempt
    from django.utils import timezone
    import datetime

    message_enqueue(kind="follow_up", patient=patient, dedupe_key="k", channels=[Channel.SMS])
    token, ids = outbox_claim_due()
    attempt = DeliveryAttempt.objects.create(message_id=ids[0], number=1, claim_token=token)
    OutboundMessage.objects.filter(pk=ids[0]).update(attempts=1)
    url = f"{STATUS}?attempt={attempt.pk}"

    response = signed_post(client, url, {"MessageSid": "SMlost", "MessageStatus": "sent"})
    outbox_reap_stuck(now=timezone.now() + datetime.timedelta(hours=1))
    fake = FakeTwilioHttp()
    outbox_deliver_due(backends=twilio_backends(fake))

    assert response.status_code == 204
    row = OutboundMessage.objects.get()
    assert row.status == S.SENT and row.provider_message_id == "SMlost"
    assert fake.posts == []


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_forged_signature_is_403_and_changes_nothing(client, sent_sms, path):
    before = snapshot()
    params = {**status_params(sent_sms, "failed"), "From": "+12125559999", "Body": "STOP"}
    response = signed_post(client, path, params, token="not-the-token")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_missing_signature_is_403(client, sent_sms, path):
    before = snapshot()
    response = client.post(path, {**status_params(sent_sms, "failed"), "From": "+12125559999", "Body": "STOP"})
    assert response.status_code == 403
    assert snapshot() == before


def test_a_signature_over_different_params_is_403(client, sent_sms):
    from twilio.request_validator import RequestValidator

    signed_for = status_params(sent_sms, "delivered")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"http://testserver{STATUS}", signed_for)
    response = signed_post(client, STATUS, status_params(sent_sms, "failed"), signature=signature)
    assert response.status_code == 403
    sent_sms.refresh_from_db()
    assert sent_sms.status == S.SENT


@pytest.mark.parametrize("path", [STATUS, INBOUND])
def test_without_an_auth_token_every_webhook_is_403(client, settings, path, db):
    settings.TWILIO_AUTH_TOKEN = ""
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "From": "+12125559999", "Body": "HELP"}
    response = signed_post(client, path, params, token="")
    assert response.status_code == 403
    assert InboundSms.objects.count() == 0 and DeliveryStatusEvent.objects.count() == 0


def test_behind_a_proxy_the_public_url_is_what_is_signed(client, settings, patient):
    settings.MESSAGING_PUBLIC_BASE_URL = "https://clinic.example.org"
    params = {"MessageSid": "SMin1", "From": patient.phone, "To": "+12125550100", "Body": "HELP"}

    internal = signed_post(client, INBOUND, params)  # signed over http://testserver/...: wrong
    public = signed_post(client, INBOUND, params, url=f"https://clinic.example.org{INBOUND}")

    assert internal.status_code == 403
    assert public.status_code == 200 and b"<Response></Response>" in public.content
    assert InboundSms.objects.count() == 1


def test_webhooks_refuse_get(client):
    assert client.get(STATUS).status_code == 405
    assert client.get(INBOUND).status_code == 405


def test_inbound_answers_empty_twiml_and_a_replay_changes_nothing(client, patient):
    params = {"MessageSid": "SMin2", "From": patient.phone, "To": "+12125550100", "Body": "STOP"}

    first = signed_post(client, INBOUND, params)
    before = snapshot()
    second = signed_post(client, INBOUND, params)

    assert first.status_code == second.status_code == 200
    assert first["Content-Type"].startswith("text/xml") and b"<Response></Response>" in first.content
    assert snapshot() == before
    assert InboundSms.objects.get().sid == "SMin2"
    assert OutboundMessage.objects.filter(to=patient.phone, kind__startswith="sms_reply").count() == 1
    assert SmsOptOut.objects.filter(phone=patient.phone).count() == 1


# --- a callback moves only the SMS it names, along the table --------------------------------

def test_an_undelivered_after_delivered_leaves_the_sms_delivered(client, sent_sms):
    signed_post(client, STATUS, status_params(sent_sms, "delivered"))
    sent_sms.refresh_from_db()
    delivered_at = sent_sms.delivered_at

    response = signed_post(client, STATUS, status_params(sent_sms, "undelivered", ErrorCode="30003"))

    assert response.status_code == 204
    sent_sms.refresh_from_db()
    assert (sent_sms.status, sent_sms.provider_status, sent_sms.delivered_at) == (S.SENT, "delivered", delivered_at)
    assert sent_sms.last_error == "" and sent_sms.finished_at is None
    assert sent_sms.delivery_attempts.get().provider_status == "delivered"
    assert list(DeliveryStatusEvent.objects.order_by("received_at").values_list("status", flat=True)) == ["delivered", "undelivered"]


def test_a_delivered_after_a_failure_leaves_the_sms_failed_without_a_delivery_time(client, sent_sms):
    signed_post(client, STATUS, status_params(sent_sms, "failed", ErrorCode="30008"))

    signed_post(client, STATUS, status_params(sent_sms, "delivered"))

    sent_sms.refresh_from_db()
    assert (sent_sms.status, sent_sms.provider_status, sent_sms.delivered_at) == (S.FAILED, "failed", None)
    assert "30008" in sent_sms.last_error


def test_read_may_follow_delivered(client, sent_sms):
    signed_post(client, STATUS, status_params(sent_sms, "delivered"))
    signed_post(client, STATUS, status_params(sent_sms, "read"))
    sent_sms.refresh_from_db()
    assert (sent_sms.status, sent_sms.provider_status) == (S.SENT, "read") and sent_sms.delivered_at is not None


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.IN_APP])
def test_a_callback_naming_an_email_or_in_app_row_touches_nothing(client, patient, channel):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="k", channels=[channel])
    outbox_deliver_due()
    row = OutboundMessage.objects.get()
    attempt = row.delivery_attempts.get()
    sid = attempt.provider_message_id  # "email-<attempt id>" or "notification-<id>", not a carrier's
    assert row.status == S.SENT and sid.startswith(("email-", "notification-"))
    before = snapshot()

    response = signed_post(client, STATUS, {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "30003"})
    by_attempt = signed_post(client, f"{STATUS}?attempt={attempt.pk}", {"MessageSid": "SMother", "MessageStatus": "undelivered"})

    assert response.status_code == by_attempt.status_code == 204
    assert snapshot()[0] == before[0]  # the row is as it was: SENT, no error
    attempt.refresh_from_db()
    assert attempt.provider_message_id == sid and attempt.provider_status in ("sent", "delivered")
    assert set(DeliveryStatusEvent.objects.values_list("message_id", flat=True)) == {None}


def test_a_callback_whose_attempt_has_another_sid_does_not_move_that_sms(client, sent_sms):
    attempt = sent_sms.delivery_attempts.get()

    signed_post(client, f"{STATUS}?attempt={attempt.pk}", {"MessageSid": "SMsomeoneelse", "MessageStatus": "failed"})

    sent_sms.refresh_from_db()
    attempt.refresh_from_db()
    assert sent_sms.status == S.SENT and attempt.provider_message_id == sent_sms.provider_message_id
    assert DeliveryStatusEvent.objects.get().message_id is None
