"""Twilio webhooks: delivery status callbacks and inbound SMS. Both verify X-Twilio-Signature
over the full public URL (MESSAGING_PUBLIC_BASE_URL + path and query, since behind a proxy the
request's own host differs) and the POST parameters. No auth token configured, a missing or a
wrong signature: 403 and nothing is read or written. CSRF-exempt (Twilio has no CSRF token;
the signature is the authentication)."""
import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm

from apps.messaging.delivery import delivery_status_record
from apps.messaging.two_way import sms_inbound_receive

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


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


@csrf_exempt
@require_POST
def twilio_status(request):
    if not twilio_signature_valid(request):
        return _forbidden(request)
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
    sid = request.POST.get("MessageSid", "") or request.POST.get("SmsSid", "")
    sender = request.POST.get("From", "")
    if sid and sender:
        sms_inbound_receive(sid=sid, from_number=sender, to_number=request.POST.get("To", ""), body=request.POST.get("Body", ""))
    # The answer goes through our outbox (retried, recorded), so Twilio gets empty TwiML.
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
