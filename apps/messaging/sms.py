"""Sending SMS behind one small interface, and email in the same shape.

A sender has two methods:

    send(*, to, body, subject="", message_id, attempt_id) -> SendResult
        raises PermanentSendError (never retried) or TransientSendError (retried with
        backoff; `ambiguous=True` when the provider may have accepted it anyway, e.g. a read
        timeout, so the next attempt first asks lookup()).
    lookup(*, to, body, attempt_id, since) -> SendResult | None
        "did that earlier attempt reach the provider?" None means it certainly did not (or,
        for email, that nobody can tell: email is at-least-once). Raises TransientSendError
        when it cannot answer now.

Backends: LocalOutboxSMS (default without TWILIO_ACCOUNT_SID: SmsOutboxEntry rows),
TwilioSMS (twilio.rest.Client; tests inject a twilio.http.HttpClient, never the network),
DjangoEmailSender (Django's email backend).
"""
import logging
import smtplib
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from twilio.base import values
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from apps.messaging.models import SmsOutboxEntry

log = logging.getLogger(__name__)

# Twilio error codes that no retry can fix (https://www.twilio.com/docs/api/errors).
TWILIO_INVALID_TO = 21211
TWILIO_UNSUBSCRIBED = 21610
TWILIO_NOT_MOBILE = 21614


@dataclass
class SendResult:
    provider_message_id: str
    provider_status: str = ""
    http_status: int | None = None


class SendError(Exception):
    transient = False

    def __init__(self, message, *, code="", http_status=None, ambiguous=False):
        super().__init__(message)
        self.code = str(code or "")
        self.http_status = http_status
        self.ambiguous = ambiguous


class TransientSendError(SendError):
    transient = True


class PermanentSendError(SendError):
    pass


def _status_callback_url(attempt_id):
    """The status webhook, carrying the attempt id: even when the worker dies right after
    Twilio accepted the message, the callback tells us the sid of that attempt."""
    base = settings.MESSAGING_PUBLIC_BASE_URL.rstrip("/")
    if not base:
        return None
    return f"{base}/webhooks/twilio/status/?attempt={attempt_id}"


def slow_local_write(write):
    """write() as a local provider's "send" (its own commit: it plays the provider). With
    MESSAGING_SMS_TEST_DELAY (tests only) it is slow, half before and half after the write,
    so a killed worker can die on either side of the "provider" accepting the message."""
    delay = settings.MESSAGING_SMS_TEST_DELAY
    if delay:
        time.sleep(delay / 2)
    result = write()
    if delay:
        time.sleep(delay / 2)
    return result


class LocalOutboxSMS:
    """Writes each SMS as an SmsOutboxEntry row (slow_local_write)."""

    name = "local"

    def send(self, *, to, body, subject="", message_id=None, attempt_id=None):
        entry = slow_local_write(lambda: SmsOutboxEntry.objects.create(
            sid=f"LO{uuid.uuid4().hex}",
            attempt_id=attempt_id,
            message_id=message_id,
            to=to,
            from_number=settings.TWILIO_FROM_NUMBER,
            body=body,
        ))
        return SendResult(provider_message_id=entry.sid, provider_status="sent")

    def lookup(self, *, to, body, attempt_id, since):
        entry = SmsOutboxEntry.objects.filter(attempt_id=attempt_id).first()
        return SendResult(entry.sid, "sent") if entry else None


def _classify_twilio(exc):
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None) or status
    message = f"Twilio {status} error {code}"
    if status == 429 or (status or 0) >= 500:
        return TransientSendError(message, code=code, http_status=status)
    return PermanentSendError(message, code=code, http_status=status)


def _lookup_error(exc):
    """A failed message-list call as a TransientSendError that says what failed. A non-200 page
    comes as TwilioException("Unable to fetch page", response), not as TwilioRestException."""
    status = getattr(exc, "status", None)
    if status is None and len(exc.args) > 1:
        status = getattr(exc.args[1], "status_code", None)
    if status is not None:
        code = getattr(exc, "code", None) or status
        return TransientSendError(f"Twilio {status} error {code}", code=code, http_status=status)
    return TransientSendError(f"network error: {type(exc).__name__}", code="network")


class TwilioSMS:
    name = "twilio"

    def __init__(self, *, account_sid=None, auth_token=None, from_number=None, http_client=None):
        self.from_number = from_number or settings.TWILIO_FROM_NUMBER
        self.client = Client(
            account_sid or settings.TWILIO_ACCOUNT_SID,
            auth_token or settings.TWILIO_AUTH_TOKEN,
            http_client=http_client or TwilioHttpClient(timeout=settings.MESSAGING_PROVIDER_TIMEOUT_SECONDS),
        )

    def send(self, *, to, body, subject="", message_id=None, attempt_id=None):
        callback = _status_callback_url(attempt_id) if attempt_id else None
        try:
            message = self.client.messages.create(
                to=to, from_=self.from_number, body=body, status_callback=callback or values.unset
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _classify_twilio(exc) from exc
        except Exception as exc:
            # Connection refused, DNS, read timeout...: Twilio may or may not have the message.
            raise TransientSendError(f"network error: {type(exc).__name__}", code="network", ambiguous=True) from exc
        return SendResult(provider_message_id=message.sid, provider_status=message.status or "", http_status=201)

    def lookup(self, *, to, body, attempt_id, since):
        """Recent messages to `to` from our number with the same body, created after the attempt
        started (minus clock skew). Twilio has no idempotency key for Messages, so this is how a
        lost attempt is found."""
        try:
            recent = self.client.messages.list(to=to, from_=self.from_number, limit=20, page_size=20)
        except Exception as exc:
            # Whatever went wrong, the answer may come next time: never a reason to resend.
            raise _lookup_error(exc) from exc
        earliest = since - timedelta(minutes=2)
        for message in recent:
            if message.body == body and (message.date_created is None or message.date_created >= earliest):
                return SendResult(message.sid, message.status or "")
        return None


class DjangoEmailSender:
    """Email through Django's configured backend (SMTP, files under var/outbox/email, locmem)."""

    name = "email"

    def send(self, *, to, body, subject="", message_id=None, attempt_id=None):
        email = EmailMessage(
            subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to],
            headers={"X-Clinic-Message-Id": str(message_id or ""), "X-Clinic-Attempt-Id": str(attempt_id or "")},
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentSendError("recipient refused", code="smtp_recipient_refused") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientSendError(f"smtp error: {type(exc).__name__}", code="smtp", ambiguous=False) from exc
        return SendResult(provider_message_id=f"email-{attempt_id}", provider_status="sent")

    def lookup(self, *, to, body, attempt_id, since):
        return None  # SMTP cannot be asked: a lost email attempt is sent again (at-least-once).


def get_sms_backend():
    choice = settings.MESSAGING_SMS_BACKEND or ("twilio" if settings.TWILIO_ACCOUNT_SID else "local")
    if choice == "twilio":
        return TwilioSMS()
    return LocalOutboxSMS()


def get_email_sender():
    return DjangoEmailSender()

