"""Provider delivery-status callbacks (Twilio's StatusCallback): the carrier's word on an SMS
we sent, recorded once per (sid, status) and applied to the attempt and row it names. Sending
itself is apps/messaging/delivery.py; the webhook view is apps/messaging/webhooks.py."""
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.transitions import lock, transition
from apps.messaging.models import Channel, DeliveryAttempt, DeliveryStatusEvent, OutboundMessage, SmsOptOut
from apps.messaging.sms import TWILIO_UNSUBSCRIBED

Status = OutboundMessage.Status

STATUS_RANK = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "undelivered": 4, "failed": 4, "read": 5}
FAILED_STATUSES = {"failed", "undelivered"}
FINAL_STATUSES = {"delivered", "undelivered", "failed", "read"}


def _carrier_status_advances(current, new):
    """Whether the carrier's `new` status replaces `current`. Statuses never move backwards (a
    late "sent" after "delivered"), and the carrier's first final word stands: after
    delivered, undelivered or failed nothing replaces it but "read" after "delivered"."""
    if current in FINAL_STATUSES:
        return current == "delivered" and new == "read"
    return STATUS_RANK.get(new, 0) >= STATUS_RANK.get(current, -1)


def _sms_attempt(message_sid, attempt_id):
    """The SMS attempt a callback names: by its sid, else by the attempt id in the callback URL
    when that attempt has no other sid. Only SMS: an email's "email-<id>" or an in-app
    "notification-<id>" names no carrier message, so no callback may move those rows."""
    attempts = DeliveryAttempt.objects.filter(message__channel=Channel.SMS)
    attempt = attempts.filter(provider_message_id=message_sid).first()
    if attempt is not None or not attempt_id:
        return attempt
    try:
        attempt = attempts.filter(pk=uuid.UUID(str(attempt_id))).first()
    except ValueError:
        return None
    if attempt is not None and attempt.provider_message_id not in ("", message_sid):
        return None  # that attempt is another SMS: this callback does not name it
    return attempt


@transaction.atomic
def delivery_status_record(*, message_sid, status, error_code="", attempt_id=None):
    """Apply a provider delivery-status callback to the SMS it names. Idempotent: the (sid,
    status) pair is stored once (unique constraint); a replay returns None and changes
    nothing. A callback that names no SMS of ours (unknown sid, an email's or in-app id) is
    kept as an event and moves nothing.

    The carrier's status only moves forward (see _carrier_status_advances): a late "sent"
    after "delivered" is kept as an event only, and so is a failed/undelivered after
    "delivered" (the handset's report stands: the row stays SENT with its delivered_at) or a
    "delivered" after a failure (the row stays FAILED, with no delivered_at). failed or
    undelivered before any delivery moves the row SENT -> FAILED for staff through core's
    transition() (the table allows it; it is not resent: the carrier refused it)."""
    status = (status or "").lower()
    if not message_sid or not status:
        return None
    try:
        with transaction.atomic():
            event = DeliveryStatusEvent.objects.create(message_sid=message_sid, status=status, error_code=str(error_code or "")[:32])
    except IntegrityError:
        return None
    attempt = _sms_attempt(message_sid, attempt_id)
    if attempt is None:
        return event
    message = lock(OutboundMessage, attempt.message_id)
    event.message = message
    event.save(update_fields=["message"])
    now = timezone.now()
    # The sid is how a send by a worker that died before recording it is recognised later.
    if not attempt.provider_message_id:
        attempt.provider_message_id = message_sid
    if _carrier_status_advances(attempt.provider_status, status):
        attempt.provider_status = status
    attempt.save(update_fields=["provider_message_id", "provider_status"])

    fields = {}
    if message.provider_message_id in ("", message_sid) and _carrier_status_advances(message.provider_status, status):
        fields = {"provider_message_id": message_sid, "provider_status": status}
        if status == "delivered" and message.delivered_at is None:
            fields["delivered_at"] = now
    if str(error_code) == str(TWILIO_UNSUBSCRIBED) and message.channel == Channel.SMS:
        SmsOptOut.objects.get_or_create(phone=message.to, defaults={"keyword": "carrier"})
    if fields and status in FAILED_STATUSES and message.status == Status.SENT:
        last_error = f"carrier reported {status}" + (f" (error {error_code})" if error_code else "")
        transition(message, Status.FAILED, locked=True, actor_label="carrier",
                   fields={**fields, "finished_at": now, "last_error": last_error})
    elif fields:
        for name, value in fields.items():
            setattr(message, name, value)
        message.save(update_fields=list(fields))
    return event
