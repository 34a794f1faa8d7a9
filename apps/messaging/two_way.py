"""Two-way SMS: what a patient's text means, and the answer it gets.

Keywords (the whole text, case and trailing punctuation ignored):
  STOP, STOPALL, UNSUBSCRIBE, END, QUIT, OPTOUT, REVOKE -> opt out (no SMS until START)
  START, UNSTOP                                         -> opt back in
  HELP, INFO                                            -> help text
  C, YES, CONFIRM                                       -> confirm the next visit (hook)
  X, CANCEL                                             -> cancel the next visit (hook)
  anything else                                         -> the patient's thread (hook)

CANCEL and YES are Twilio's default opt-out / opt-in keywords; here they mean "cancel the
visit" and "confirm", as the product asks. In production the Twilio Messaging Service's
Advanced Opt-Out must drop CANCEL (and YES) from its keyword lists, or Twilio itself blocks the
number on CANCEL.

Extension points (scheduling sits above messaging; this module imports nothing of it):
  sms_confirm / sms_cancel: Hooks; a receiver(*, patient, inbound) -> str answer SMS, or None
    to pass. The first answer wins; with none, the patient is told there is no upcoming
    visit. Scheduling connects receivers that confirm / cancel the patient's next PLANNED
    visit within the cancellation policy (apps/scheduling/apps.py).
  route_to_thread(inbound): free text from a matched patient lands in their secure thread
    (apps/messaging/threads/services.py, sms_route_to_thread).
"""
import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.core import validation
from apps.core.hooks import Hook
from apps.messaging.models import InboundSms, SmsOptOut
from apps.messaging.outbox import sms_reply_enqueue
from apps.messaging.threads.services import sms_route_to_thread
from apps.patients.models import Patient

log = logging.getLogger(__name__)

OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "OPTOUT", "REVOKE"}
OPT_IN = {"START", "UNSTOP"}
HELP = {"HELP", "INFO"}
CONFIRM = {"C", "YES", "CONFIRM"}
CANCEL = {"X", "CANCEL"}
MAX_BODY = 1600  # Twilio's longest inbound message


def keyword_of(body):
    text = re.sub(r"[\s.!?,;:]+$", "", (body or "").strip()).upper()
    return text if len(text) <= 16 and text.isalpha() else ""


sms_confirm = Hook("sms_confirm", "(*, patient, inbound) -> answer SMS text, or None to pass")
sms_cancel = Hook("sms_cancel", "(*, patient, inbound) -> answer SMS text, or None to pass")


def default_confirm_handler(*, patient, inbound):
    return f"{settings.CLINIC_NAME}: we could not find an upcoming visit to confirm. Call {settings.CLINIC_PHONE} for help."


def default_cancel_handler(*, patient, inbound):
    return f"{settings.CLINIC_NAME}: we could not find an upcoming visit to cancel. Call {settings.CLINIC_PHONE} for help."


def route_to_thread(inbound):
    """Put a free-text SMS from a matched patient into their secure thread for staff (the most
    recently active open thread, or a new one "Text message"), as an SMS message; staff are
    notified. An SMS with no single matching patient (a shared family phone) has no thread:
    its InboundSms row (status needs_staff) is what staff work from."""
    message = sms_route_to_thread(inbound=inbound)
    if message is None:
        log.info("inbound SMS %s needs staff (no single patient)", inbound.pk)


def _texts():
    name, phone = settings.CLINIC_NAME, settings.CLINIC_PHONE
    return {
        "opt_out": f"{name}: you will get no more text messages from us. Reply START to receive them again.",
        "opt_in": f"{name}: you will receive text messages from us again. Reply STOP to stop, HELP for help.",
        "help": f"{name}: reply C to confirm or X to cancel your next visit, STOP to stop texts. Call {phone}. In an emergency call 911.",
        "thread": f"{name}: thank you, your message was passed to your care team. In an emergency call 911.",
        "unknown_number": f"{name}: we could not match this number to a patient. Please call {phone}. In an emergency call 911.",
    }


def _match_patient(phone):
    """The one active patient with this mobile number; None when nobody or several share it
    (a family phone): then staff decide."""
    found = list(Patient.objects.active().filter(phone=phone).select_related("user")[:2])
    return (found[0] if len(found) == 1 else None), len(found)


@transaction.atomic
def sms_inbound_receive(*, sid, from_number, to_number="", body=""):
    """Record an inbound SMS (once per MessageSid: a replayed webhook returns the first row and
    does nothing else), act on its keyword, and queue one answer SMS through the outbox.
    Returns (inbound, created). The numbers and the sid must fit their columns (the webhook
    checks them); a NUL or unpaired surrogate in the body is kept as U+FFFD, since PostgreSQL
    cannot store it and the message must not be lost."""
    body = validation.storable_text(body or "")[:MAX_BODY]
    try:
        with transaction.atomic():
            inbound = InboundSms.objects.create(sid=sid, from_number=from_number, to_number=to_number, body=body)
    except IntegrityError:
        return InboundSms.objects.get(sid=sid), False

    texts = _texts()
    keyword = keyword_of(body)
    patient, matches = _match_patient(from_number)
    inbound.patient = patient
    inbound.keyword = keyword if keyword in OPT_OUT | OPT_IN | HELP | CONFIRM | CANCEL else ""

    if keyword in OPT_OUT:
        SmsOptOut.objects.get_or_create(phone=from_number, defaults={"keyword": keyword})
        inbound.action, reply = "opt_out", texts["opt_out"]
    elif keyword in OPT_IN:
        SmsOptOut.objects.filter(phone=from_number).delete()
        inbound.action, reply = "opt_in", texts["opt_in"]
    elif keyword in HELP:
        inbound.action, reply = "help", texts["help"]
    elif keyword in CONFIRM | CANCEL:
        inbound.action = "confirm" if keyword in CONFIRM else "cancel"
        if patient is None:
            inbound.status = InboundSms.Status.NEEDS_STAFF if matches else InboundSms.Status.UNMATCHED
            reply = texts["unknown_number"] if not matches else texts["thread"]
        else:
            hook, default = (sms_confirm, default_confirm_handler) if keyword in CONFIRM else (sms_cancel, default_cancel_handler)
            reply = hook.first(patient=patient, inbound=inbound) or default(patient=patient, inbound=inbound)
    else:
        inbound.action = "thread"
        inbound.status = InboundSms.Status.NEEDS_STAFF if matches else InboundSms.Status.UNMATCHED
        reply = texts["thread"] if matches else texts["unknown_number"]

    if reply:
        inbound.reply = sms_reply_enqueue(
            to=from_number, body=reply, patient=patient, dedupe_key=f"sms-reply:{sid}", kind=f"sms_reply_{inbound.action}"
        )
    inbound.save(update_fields=["patient", "keyword", "action", "status", "reply"])
    if inbound.status == InboundSms.Status.NEEDS_STAFF:
        route_to_thread(inbound)
    return inbound, True
