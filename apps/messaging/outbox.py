"""Writing outbox rows: message_enqueue() and friends. Call them inside the transaction of the
event that causes the message, so the message exists exactly when the event does.
Delivery (claim, send, retry, reap) is apps/messaging/delivery.py.

This module imports neither delivery nor the tasks: "deliver this row soon" goes out through
the delivery_kick hook, which apps/messaging/apps.py connects to the Celery task
(apps/messaging/tasks.py), so delivery -> outbox never leads back to delivery."""
import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.hooks import Hook
from apps.core.timezones import zone_for
from apps.core.transitions import transition_rows
from apps.messaging.models import Channel, OutboundMessage, SmsOptOut
from apps.messaging.rendering import render_message
from apps.patients.models import Patient

log = logging.getLogger(__name__)

ALL_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.IN_APP)
# SMS kinds that answer a text the patient just sent (STOP confirmation, HELP): they go even
# to an opted-out number, once, as carriers expect.
REPLY_KIND_PREFIX = "sms_reply"


# --- quiet hours ----------------------------------------------------------------------------

def apply_quiet_hours(patient, when):
    """`when`, or the end of the patient's quiet hours if `when` falls inside them (in the
    patient's timezone; windows may wrap midnight, e.g. 21:00-08:00)."""
    start, end = getattr(patient, "quiet_hours_start", None), getattr(patient, "quiet_hours_end", None)
    if patient is None or start is None or end is None or start == end:
        return when
    tz = zone_for(patient)
    local = when.astimezone(tz)
    t = local.time()
    if start < end:
        inside = start <= t < end
        end_date = local.date()
    else:  # wraps midnight
        inside = t >= start or t < end
        end_date = local.date() + datetime.timedelta(days=1) if t >= start else local.date()
    if not inside:
        return when
    # fold=0: on a DST change the earlier of two wall-clock times; a gap time moves forward.
    resumed = datetime.datetime.combine(end_date, end, tzinfo=tz)
    return resumed.astimezone(datetime.timezone.utc)


# --- channels -------------------------------------------------------------------------------

def sms_opted_out(phone):
    return bool(phone) and SmsOptOut.objects.filter(phone=phone).exists()


def channels_for(*, patient, user, requested=None):
    """[(channel, address)] this recipient may get, by their preferences: SMS when they have a
    mobile number, sms_opt_in and have not texted STOP; email when they have an address and
    email_opt_in; in-app when they have a portal user."""
    requested = set(requested or ALL_CHANNELS)
    out = []
    if Channel.SMS in requested and patient is not None and patient.phone and patient.sms_opt_in and not sms_opted_out(patient.phone):
        out.append((Channel.SMS, patient.phone))
    if Channel.EMAIL in requested:
        if patient is not None:
            if patient.email and patient.email_opt_in:
                out.append((Channel.EMAIL, patient.email))
        elif user is not None and user.email:
            out.append((Channel.EMAIL, user.email))
    if Channel.IN_APP in requested and user is not None:
        out.append((Channel.IN_APP, ""))
    return out


# --- writing rows ---------------------------------------------------------------------------

def _get_or_create(dedupe_key, defaults):
    """Get-or-create on the unique dedupe_key, safe under concurrency: the INSERT comes first,
    in a savepoint (almost every key is new: one statement less than reading first); when the
    key exists (IntegrityError, at once or after a concurrent winner commits) only the
    savepoint is rolled back and the existing row is returned."""
    try:
        with transaction.atomic():
            return OutboundMessage.objects.create(dedupe_key=dedupe_key, **defaults), True
    except IntegrityError:
        return OutboundMessage.objects.get(dedupe_key=dedupe_key), False


# "Deliver this row in `countdown` seconds": receiver(*, message_id, countdown). The messaging
# app connects the Celery task (apps/messaging/apps.py, tasks.queue_delivery); with no receiver
# the periodic job delivers every row.
delivery_kick = Hook("delivery_kick", "(*, message_id, countdown) -> None: queue delivery of one row")


def kick_after_commit(message):
    """Queue immediate delivery of `message` after commit when it is due soon (short ETAs
    only: the periodic job delivers later ones, see NOTES.md). A broker that is down costs
    nothing but latency: the periodic job still finds the row."""
    if not settings.MESSAGING_KICK_ENABLED or not delivery_kick:
        return
    delay = (message.next_attempt_at - timezone.now()).total_seconds()
    if delay > settings.MESSAGING_KICK_MAX_DELAY_SECONDS:
        return
    message_id = str(message.pk)
    countdown = max(0, int(delay) + 1) if delay > 0 else 0

    def kick():
        try:
            delivery_kick.all(message_id=message_id, countdown=countdown)
        except Exception:  # broker down: the periodic job will deliver it
            log.warning("could not queue delivery of outbound message %s", message_id, exc_info=True)

    transaction.on_commit(kick)


def message_enqueue(*, kind, dedupe_key, patient=None, user=None, context=None, channels=None,
                    urgent=False, due_at=None, link="", not_after=None):
    """Queue the event `kind` for a patient (and/or a user) on every channel their preferences
    allow (see channels_for; `channels` narrows the choice). One row per channel, with the
    dedupe key "<dedupe_key>:<channel>": calling again for the same event returns the existing
    rows and creates nothing (get-or-create on a unique column, safe under concurrency).

    The words come from the MessageTemplate for (kind, patient's language), rendered now with
    the PHI-free `context`. Non-urgent SMS and email due inside the patient's quiet hours are
    moved to the end of them (unless that would pass `not_after`, e.g. the visit itself).
    Requires: call inside the causing event's transaction. Triggers: a delivery task after
    commit for rows due soon. Returns the rows (created or existing)."""
    if patient is None and user is not None and not user.is_staff:
        patient = Patient.objects.filter(user=user).first()
    if user is None and patient is not None:
        user = patient.user
    now = timezone.now()
    due_at = due_at or now
    language = getattr(patient, "preferred_language", "") or "en"
    ctx = dict(context or {})
    if patient is not None:
        ctx.setdefault("patient_first_name", patient.preferred_name or patient.first_name)
    if link:
        ctx.setdefault("link", link)
    rendered = None
    rows = []
    for channel, to in channels_for(patient=patient, user=user, requested=channels):
        rendered = rendered or render_message(kind=kind, language=language, context=ctx)
        when = due_at
        if not urgent and channel != Channel.IN_APP:
            quiet = apply_quiet_hours(patient, due_at)
            if not_after is None or quiet <= not_after:
                when = quiet
        body = {Channel.SMS: rendered.sms_body, Channel.EMAIL: rendered.email_body}.get(channel, rendered.sms_body)
        message, created = _get_or_create(
            f"{dedupe_key}:{channel}",
            {
                "patient": patient,
                "user": user,
                "channel": channel,
                "to": to,
                "subject": rendered.subject,
                "body": body,
                "link": link,
                "kind": kind,
                "language": rendered.template_language,
                "urgent": urgent,
                "due_at": when,
                "next_attempt_at": when,
            },
        )
        if created:
            kick_after_commit(message)
        rows.append(message)
    return rows


def sms_reply_enqueue(*, to, body, dedupe_key, patient=None, kind="sms_reply"):
    """An SMS answering a text the patient sent (two-way SMS): sent at once, ignoring quiet
    hours and opt-out (it answers them; STOP gets its one confirmation). Deduplicated on
    `dedupe_key` (the inbound MessageSid), so a replayed webhook queues no second answer."""
    if not kind.startswith(REPLY_KIND_PREFIX):
        raise ValueError("reply kinds start with sms_reply")
    now = timezone.now()
    message, created = _get_or_create(
        f"{dedupe_key}:{Channel.SMS}",
        {
            "patient": patient,
            "user": getattr(patient, "user", None),
            "channel": Channel.SMS,
            "to": to,
            "body": body,
            "kind": kind,
            "urgent": True,
            "due_at": now,
            "next_attempt_at": now,
        },
    )
    if created:
        kick_after_commit(message)
    return message


@transaction.atomic
def outbox_cancel_pending(*, dedupe_key_prefix, reason="cancelled"):
    """Cancel every still-PENDING row whose dedupe key starts with the prefix (e.g. the
    reminders of a cancelled visit): PENDING -> CANCELLED in one conditional UPDATE
    (transition_rows). A row already SENDING is left to finish. Returns the number cancelled."""
    return transition_rows(
        OutboundMessage.objects.filter(dedupe_key__startswith=dedupe_key_prefix),
        from_status=OutboundMessage.Status.PENDING, to=OutboundMessage.Status.CANCELLED,
        finished_at=timezone.now(), last_error=reason[:500],
    )
