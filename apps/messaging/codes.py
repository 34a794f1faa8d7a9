"""One-time sign-in codes by SMS (accounts' sign_in_code_sms hook, connected in apps.py).

A code answers the person's own request (sign in by code, or verify a new sign-in number), so
it goes like the replies of two-way SMS: at once, urgent, past quiet hours, as one outbox row
delivered exactly once by the usual worker. The text names no patient and carries no health
information; the code expires in ACCOUNT_LOGIN_BY_CODE_TIMEOUT seconds."""
import uuid

from django.conf import settings

from apps.messaging.outbox import sms_reply_enqueue

KIND = "sms_reply_sign_in_code"
# Kinds whose body is a credential: once the row is SENT, FAILED or CANCELLED the body is
# replaced by SCRUBBED_BODY (apps/messaging/delivery.py), so the code lives only as long as
# it may be delivered.
SECRET_KINDS = frozenset({KIND})
SCRUBBED_BODY = "[sign-in code removed after delivery]"


def sign_in_code_text(code):
    minutes = max(1, settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT // 60)
    return f"{settings.CLINIC_NAME}: your sign-in code is {code}. It expires in {minutes} minutes. Never share it."


def send_sign_in_code(*, user, phone, code):
    """Queue the code's SMS to `phone` (inside the caller's transaction, if any). Each request
    is its own message: a resend is a new code."""
    return sms_reply_enqueue(to=phone, body=sign_in_code_text(code), dedupe_key=f"sign_in_code:{uuid.uuid4()}", kind=KIND)
