"""A one-time sign-in code lives in its outbox row only while it may still be delivered: once
the row is SENT (one row or a batch) or FAILED (or CANCELLED: the same field list) the body is replaced and the row's
metadata stays. Other messages keep their words."""
import pytest

from apps.messaging.codes import SCRUBBED_BODY, send_sign_in_code
from apps.messaging.delivery import Backends, outbox_deliver_due, outbox_deliver_one
from apps.messaging.models import Channel, OutboundMessage, SmsOptOut, SmsOutboxEntry
from apps.messaging.outbox import message_enqueue
from apps.messaging.sms import PermanentSendError
from tests.messaging.push_helpers import push_settings  # noqa: F401

pytestmark = pytest.mark.django_db
PHONE = "+12125550123"


class RefusingSms:
    name = "refusing"

    def send(self, **kwargs):
        raise PermanentSendError("Twilio 400 error 21211", code="21211", http_status=400)

    def lookup(self, **kwargs):
        return None


def test_a_delivered_code_is_scrubbed_and_its_metadata_kept(push_settings, patient):
    row = send_sign_in_code(user=patient.user, phone=PHONE, code="4821-7730")
    assert "4821-7730" in OutboundMessage.objects.get(pk=row.pk).body  # waiting: the code is needed

    assert outbox_deliver_one(message_id=row.pk) == OutboundMessage.Status.SENT

    row.refresh_from_db()
    assert row.body == SCRUBBED_BODY
    assert "4821" not in row.body
    entry = SmsOutboxEntry.objects.get(message_id=row.pk)
    assert "4821-7730" in entry.body  # the phone got it
    assert (row.to, row.kind, row.provider_message_id, row.attempts) == (PHONE, "sms_reply_sign_in_code", entry.sid, 1)
    assert row.sent_at is not None


def test_codes_in_a_batch_are_scrubbed_and_other_messages_keep_their_words(push_settings, patient):
    codes = [send_sign_in_code(user=patient.user, phone=PHONE, code=f"CODE-000{i}") for i in range(3)]
    (reminder,) = message_enqueue(kind="follow_up", patient=patient, dedupe_key="scrub:follow", channels=[Channel.SMS])

    assert outbox_deliver_due().sent == 4

    assert set(OutboundMessage.objects.filter(pk__in=[c.pk for c in codes]).values_list("body", flat=True)) == {SCRUBBED_BODY}
    reminder_body = OutboundMessage.objects.get(pk=reminder.pk).body
    assert reminder_body and reminder_body != SCRUBBED_BODY
    assert SmsOutboxEntry.objects.filter(body__contains="CODE-000").count() == 3


def test_a_failed_code_is_scrubbed_too(push_settings, patient):
    row = send_sign_in_code(user=patient.user, phone=PHONE, code="9999-0000")
    outbox_deliver_due(backends=Backends(sms=RefusingSms()))
    row.refresh_from_db()
    assert (row.status, row.body) == (OutboundMessage.Status.FAILED, SCRUBBED_BODY)


def test_a_code_to_a_number_that_texted_stop_still_goes_and_is_scrubbed(push_settings, patient):
    """The person asked for it: like every reply, a code goes past STOP, and is scrubbed."""
    row = send_sign_in_code(user=patient.user, phone=PHONE, code="1111-2222")
    SmsOptOut.objects.create(phone=PHONE)  # replies still go (carriers expect the answer)
    assert outbox_deliver_one(message_id=row.pk) == OutboundMessage.Status.SENT
    row.refresh_from_db()
    assert row.body == SCRUBBED_BODY
