"""Twilio webhooks: delivery status callbacks and inbound SMS. Both verify X-Twilio-Signature
over the full public URL (MESSAGING_PUBLIC_BASE_URL + path and query, since behind a proxy the
request's own host differs) and the POST parameters. No auth token configured, a missing or a
wrong signature: 403 and nothing is read or written. CSRF-exempt (Twilio has no CSRF token;
the signature is the authentication).

A signed request is still read as hostile input (apps/core/validation.py), and always answered
2xx, since Twilio retries anything else for hours: a MessageSid that is not a short token, or a
From / To / MessageStatus / ErrorCode that is not storable text fitting its column (a NUL, 10,000
characters for a 32-character column), is rejected: logged (names of the parameters only, no
content), nothing written. A NUL in an inbound Body is kept as U+FFFD (two_way.py): the patient's
message is recorded."""
import logging
import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm

from apps.core import validation
from apps.messaging.delivery_status import delivery_status_record
from apps.messaging.models import DeliveryStatusEvent, InboundSms
from apps.messaging.two_way import sms_inbound_receive

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

# Twilio's SIDs are 34 characters ("SM" + 32 hex); ours may name other channels
# ("email-<id>", which the status callback must record and not apply). Fits the columns.
_SID = re.compile(r"[A-Za-z0-9_-]{1,%d}" % InboundSms._meta.get_field("sid").max_length)
_COLUMNS = {
    "From": InboundSms._meta.get_field("from_number").max_length,
    "To": InboundSms._meta.get_field("to_number").max_length,
    "MessageStatus": DeliveryStatusEvent._meta.get_field("status").max_length,
    "SmsStatus": DeliveryStatusEvent._meta.get_field("status").max_length,
    "ErrorCode": DeliveryStatusEvent._meta.get_field("error_code").max_length,
}


def public_url(request):
    base = settings.MESSAGING_PUBLIC_BASE_URL.rstrip("/")
    if base:
        return base + request.get_full_path()
    return request.build_absolute_uri()


def twilio_signature_valid(request):
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER, ""))
    try:
        return RequestValidator(token).validate(public_url(request), request.POST, signature, algorithm=algorithm)
    except Exception:
        return False


def _forbidden(request):
    log.warning("rejected Twilio webhook with a missing or invalid signature at %s", request.path)
    return HttpResponseForbidden("invalid signature")


def _unreadable(params):
    """The names of the parameters we cannot record (see the module docstring), sorted."""
    bad = set()
    for name in ("MessageSid", "SmsSid"):
        value = params.get(name, "")
        if value and not _SID.fullmatch(value):
            bad.add(name)
    for name, max_length in _COLUMNS.items():
        value = params.get(name, "")
        if value and (validation.text_problem(value) or len(value) > max_length):
            bad.add(name)
    return sorted(bad)


def _rejected(request, bad):
    # Parameter names only: the values may be a patient's number or words.
    log.warning("ignored a signed Twilio webhook at %s: unreadable %s", request.path, ", ".join(bad))


@csrf_exempt
@require_POST
def twilio_status(request):
    if not twilio_signature_valid(request):
        return _forbidden(request)
    bad = _unreadable(request.POST)
    if bad:
        _rejected(request, bad)
        return HttpResponse(status=204)
    delivery_status_record(
        message_sid=request.POST.get("MessageSid", "") or request.POST.get("SmsSid", ""),
        status=request.POST.get("MessageStatus", "") or request.POST.get("SmsStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
        attempt_id=request.GET.get("attempt"),
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound_sms(request):
    if not twilio_signature_valid(request):
        return _forbidden(request)
    bad = _unreadable(request.POST)
    if bad:
        _rejected(request, bad)
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")
    sid = request.POST.get("MessageSid", "") or request.POST.get("SmsSid", "")
    sender = request.POST.get("From", "")
    if sid and sender:
        sms_inbound_receive(sid=sid, from_number=sender, to_number=request.POST.get("To", ""), body=request.POST.get("Body", ""))
    # The answer goes through our outbox (retried, recorded), so Twilio gets empty TwiML.
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
