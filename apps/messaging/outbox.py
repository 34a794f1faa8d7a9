"""Writing outbox rows: message_enqueue(), messages_enqueue() (the same for many events at
once) and friends. Call them inside the transaction of the event that causes the message, so
the message exists exactly when the event does.
Delivery (claim, send, retry, reap) is apps/messaging/delivery.py.

Once per event: every row has a unique dedupe_key ("<event key>:<channel>"), and rows are
written by one INSERT ... ON CONFLICT DO NOTHING per 500 rows (bulk_create(ignore_conflicts=
True); SQLite: INSERT OR IGNORE), then read back by key: a row that already existed (written
earlier, or by a concurrent transaction that committed first; PostgreSQL makes the INSERT wait
for it) is returned as it is and nothing new is queued. One event or ten thousand go through
the same code, in a handful of statements per 500 rows.

This module imports neither delivery nor the tasks: "deliver this row soon" goes out through
the delivery_kick hook, which apps/messaging/apps.py connects to the Celery task
(apps/messaging/tasks.py), so delivery -> outbox never leads back to delivery."""
import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.hooks import Hook
from apps.core.timezones import zone_for
from apps.core.transitions import transition_rows
from apps.messaging.models import Channel, OutboundMessage, SmsOptOut
from apps.messaging.rendering import DEFAULT_LANGUAGE, render_message, templates_for
from apps.patients.models import Patient

log = logging.getLogger(__name__)

ALL_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.IN_APP)
# SMS kinds that answer a text the patient just sent (STOP confirmation, HELP): they go even
# to an opted-out number, once, as carriers expect.
REPLY_KIND_PREFIX = "sms_reply"
# Rows per INSERT and per read-back (well under SQLite's limit of bound variables).
CHUNK = 500
# A write that queues more rows due soon than this kicks this many batch runs
# (deliver_due, one per worker process it should keep busy) instead of one task per row.
KICK_FANOUT = settings.MESSAGING_KICK_FANOUT


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


def sms_opted_out_among(phones):
    """The numbers of `phones` that texted STOP (one query per CHUNK numbers)."""
    phones = sorted({p for p in phones if p})
    found = set()
    for i in range(0, len(phones), CHUNK):
        found.update(SmsOptOut.objects.filter(phone__in=phones[i:i + CHUNK]).values_list("phone", flat=True))
    return found


def channels_for(*, patient, user, requested=None, opted_out=None):
    """[(channel, address)] this recipient may get, by their preferences: SMS when they have a
    mobile number, sms_opt_in and have not texted STOP; email when they have an address and
    email_opt_in; in-app when they have a portal user. `opted_out`: the STOP numbers when the
    caller already knows them (a batch), else they are looked up."""
    requested = set(requested or ALL_CHANNELS)
    out = []
    if Channel.SMS in requested and patient is not None and patient.phone and patient.sms_opt_in:
        stopped = patient.phone in opted_out if opted_out is not None else sms_opted_out(patient.phone)
        if not stopped:
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


# --- kicking delivery ------------------------------------------------------------------------

# "Deliver soon": receiver(*, message_id, countdown). With a message id: that one row, in
# `countdown` seconds. With message_id=None: a batch run over every due row. The messaging app
# connects the Celery task (apps/messaging/apps.py, tasks.queue_delivery); with no receiver
# the periodic job delivers every row.
delivery_kick = Hook("delivery_kick", "(*, message_id, countdown) -> None: queue delivery of one row (None: of every due row)")


def _kick(*, message_id, countdown):
    try:
        delivery_kick.all(message_id=message_id, countdown=countdown)
    except Exception:  # broker down: the periodic job will deliver it
        log.warning("could not queue delivery of outbound message %s", message_id or "(batch)", exc_info=True)


def _countdown(message, now):
    """Seconds until the row is due, as a task countdown; None when it is due too late for a
    kick (short ETAs only: the periodic job delivers later ones, see NOTES.md)."""
    delay = (message.next_attempt_at - now).total_seconds()
    if delay > settings.MESSAGING_KICK_MAX_DELAY_SECONDS:
        return None
    return max(0, int(delay) + 1) if delay > 0 else 0


def kick_after_commit(message):
    """Queue immediate delivery of `message` after commit when it is due soon. A broker that
    is down costs nothing but latency: the periodic job still finds the row."""
    if not settings.MESSAGING_KICK_ENABLED or not delivery_kick:
        return
    countdown = _countdown(message, timezone.now())
    if countdown is None:
        return
    message_id = str(message.pk)
    transaction.on_commit(lambda: _kick(message_id=message_id, countdown=countdown))


def kick_batch_after_commit(*, countdown=0, runs=1):
    """Queue `runs` batch delivery runs after commit (many rows due at once: one task per row
    would cost a broker round trip and a claim each)."""
    if not settings.MESSAGING_KICK_ENABLED or not delivery_kick:
        return

    def kick():
        for _ in range(runs):
            _kick(message_id=None, countdown=countdown)

    transaction.on_commit(kick)


def kick_many_after_commit(messages):
    """Kick delivery of new rows: one task per row when they are few (lowest latency), else
    KICK_FANOUT batch runs from the soonest due time."""
    now = timezone.now()
    soon = [(countdown, m) for m in messages if (countdown := _countdown(m, now)) is not None]
    if len(soon) <= KICK_FANOUT:
        for _, message in soon:
            kick_after_commit(message)
    else:
        kick_batch_after_commit(countdown=min(c for c, _ in soon), runs=KICK_FANOUT)


# --- writing rows ---------------------------------------------------------------------------

@dataclass
class Outgoing:
    """One event for one recipient, as messages_enqueue takes it: message_enqueue's arguments."""

    kind: str
    dedupe_key: str
    patient: object = None
    user: object = None
    context: dict | None = None
    channels: tuple | None = None
    urgent: bool = False
    due_at: datetime.datetime | None = None
    link: str = ""
    not_after: datetime.datetime | None = None


def _recipients(events):
    """[(patient, user)] per event as message_enqueue resolves them: a non-staff user's
    patient, a patient's portal user. Two queries at most for the whole batch."""
    users_needing_patient = {e.user.pk for e in events if e.patient is None and e.user is not None and not e.user.is_staff}
    patient_of = {}
    if users_needing_patient:
        patient_of = {p.user_id: p for p in Patient.objects.filter(user_id__in=users_needing_patient)}
    pairs = []
    for event in events:
        patient, user = event.patient, event.user
        if patient is None and user is not None and not user.is_staff:
            patient = patient_of.get(user.pk)
        pairs.append((patient, user))
    # A patient's own user when none was given, loaded at once for patients that lack it.
    missing = {p.user_id for p, u in pairs if u is None and p is not None and p.user_id and not Patient.user.is_cached(p)}
    loaded = get_user_model().objects.in_bulk(list(missing)) if missing else {}

    def own_user(patient):
        if patient is None or not patient.user_id:
            return None
        return patient.user if Patient.user.is_cached(patient) else loaded.get(patient.user_id)

    return [(p, u if u is not None else own_user(p)) for p, u in pairs]


class _Renderer:
    """render_message for a batch: the templates of every (kind, language) in `pairs` read in
    one query when the first message is rendered (none when no event has a channel), each
    distinct (kind, language, context) rendered once."""

    def __init__(self, pairs):
        self.pairs = set(pairs)
        self.templates = {}
        self.done = {}

    def __call__(self, kind, language, context):
        if self.pairs:
            self.templates.update(templates_for(self.pairs))
            self.pairs = None
        try:
            key = (kind, language, tuple(sorted(context.items())))
            hash(key)
        except TypeError:
            return render_message(kind=kind, language=language, context=context, templates=self.templates)
        if key not in self.done:
            self.done[key] = render_message(kind=kind, language=language, context=context, templates=self.templates)
        return self.done[key]


def _language(patient):
    return getattr(patient, "preferred_language", "") or DEFAULT_LANGUAGE


def _rows_for(event, patient, user, *, now, opted_out, render):
    """The unsaved rows of one event: a channel each, words rendered once, quiet hours applied
    to non-urgent SMS and email unless that would pass `not_after`."""
    due_at = event.due_at or now
    language = _language(patient)
    ctx = dict(event.context or {})
    if patient is not None:
        ctx.setdefault("patient_first_name", patient.preferred_name or patient.first_name)
    if event.link:
        ctx.setdefault("link", event.link)
    rendered = None
    rows = []
    for channel, to in channels_for(patient=patient, user=user, requested=event.channels, opted_out=opted_out):
        rendered = rendered or render(event.kind, language, ctx)
        when = due_at
        if not event.urgent and channel != Channel.IN_APP:
            quiet = apply_quiet_hours(patient, due_at)
            if event.not_after is None or quiet <= event.not_after:
                when = quiet
        rows.append(OutboundMessage(
            id=uuid.uuid4(),
            dedupe_key=f"{event.dedupe_key}:{channel}",
            patient=patient,
            user=user,
            channel=channel,
            to=to,
            subject=rendered.subject,
            body={Channel.SMS: rendered.sms_body, Channel.EMAIL: rendered.email_body}.get(channel, rendered.sms_body),
            link=event.link,
            kind=event.kind,
            language=rendered.template_language,
            urgent=event.urgent,
            due_at=when,
            next_attempt_at=when,
        ))
    return rows


def outbox_rows_insert(rows):
    """Write unsaved rows (each with its own id) once per dedupe_key: one INSERT ... ON
    CONFLICT DO NOTHING per CHUNK rows, then one read-back of (key, id) that tells ours from
    rows already there. Returns ([the row stored under each key, in order], [rows created]).
    No savepoint: a duplicate raises nothing, so the caller's transaction stays usable."""
    stored, created = [], []
    by_key = {}  # dedupe_key -> the row stored under it
    for i in range(0, len(rows), CHUNK):
        chunk = [r for r in rows[i:i + CHUNK] if r.dedupe_key not in by_key]
        if chunk:
            OutboundMessage.objects.bulk_create(chunk, ignore_conflicts=True)
            ids = dict(OutboundMessage.objects.filter(dedupe_key__in={r.dedupe_key for r in chunk}).values_list("dedupe_key", "pk"))
            ours = {r.pk: r for r in chunk}
            existing = OutboundMessage.objects.in_bulk([pk for pk in ids.values() if pk not in ours])
            for row in chunk:
                pk = ids.get(row.dedupe_key)
                if pk is None:
                    # SQLite's INSERT OR IGNORE also swallows a CHECK failure; PostgreSQL raises it.
                    raise IntegrityError(f"outbox row {row.dedupe_key!r} was not written")
                if row.dedupe_key not in by_key:
                    by_key[row.dedupe_key] = ours[pk] if pk in ours else existing[pk]
                    if pk in ours:
                        created.append(ours[pk])
        stored.extend(by_key[r.dedupe_key] for r in rows[i:i + CHUNK])
    return stored, created


def messages_enqueue(*, events):
    """message_enqueue for many events at once (the Outgoing list): the same rows, words,
    channels, quiet hours and dedupe rule, in a few statements per CHUNK rows (recipients'
    users and STOP numbers read once, each distinct text rendered once). Returns, per event,
    its rows (created or existing).
    Requires: call inside the causing events' transaction. Triggers: delivery after commit
    for rows due soon (one task per row when few, else KICK_FANOUT batch runs)."""
    events = list(events)
    if not events:
        return []
    now = timezone.now()
    recipients = _recipients(events)
    opted_out = sms_opted_out_among(p.phone for p, _ in recipients if p is not None and p.phone and p.sms_opt_in)
    render = _Renderer((event.kind, _language(patient)) for event, (patient, _) in zip(events, recipients))
    per_event = [
        _rows_for(event, patient, user, now=now, opted_out=opted_out, render=render)
        for event, (patient, user) in zip(events, recipients)
    ]
    stored, created = outbox_rows_insert([row for rows in per_event for row in rows])
    kick_many_after_commit(created)
    out, at = [], 0
    for rows in per_event:
        out.append(stored[at:at + len(rows)])
        at += len(rows)
    return out


def message_enqueue(*, kind, dedupe_key, patient=None, user=None, context=None, channels=None,
                    urgent=False, due_at=None, link="", not_after=None):
    """Queue the event `kind` for a patient (and/or a user) on every channel their preferences
    allow (see channels_for; `channels` narrows the choice). One row per channel, with the
    dedupe key "<dedupe_key>:<channel>": calling again for the same event returns the existing
    rows and creates nothing (INSERT ... ON CONFLICT DO NOTHING on a unique column, safe under
    concurrency: see the module docstring).

    The words come from the MessageTemplate for (kind, patient's language), rendered now with
    the PHI-free `context`. Non-urgent SMS and email due inside the patient's quiet hours are
    moved to the end of them (unless that would pass `not_after`, e.g. the visit itself).
    Requires: call inside the causing event's transaction. Triggers: a delivery task after
    commit for rows due soon. Returns the rows (created or existing). messages_enqueue() is
    the same for many events."""
    event = Outgoing(kind=kind, dedupe_key=dedupe_key, patient=patient, user=user, context=context, channels=channels,
                     urgent=urgent, due_at=due_at, link=link, not_after=not_after)
    return messages_enqueue(events=[event])[0]


def sms_reply_enqueue(*, to, body, dedupe_key, patient=None, kind="sms_reply"):
    """An SMS answering a text the patient sent (two-way SMS): sent at once, ignoring quiet
    hours and opt-out (it answers them; STOP gets its one confirmation). Deduplicated on
    `dedupe_key` (the inbound MessageSid), so a replayed webhook queues no second answer."""
    if not kind.startswith(REPLY_KIND_PREFIX):
        raise ValueError("reply kinds start with sms_reply")
    now = timezone.now()
    (message,), created = outbox_rows_insert([OutboundMessage(
        id=uuid.uuid4(),
        dedupe_key=f"{dedupe_key}:{Channel.SMS}",
        patient=patient,
        user=getattr(patient, "user", None),
        channel=Channel.SMS,
        to=to,
        body=body,
        kind=kind,
        urgent=True,
        due_at=now,
        next_attempt_at=now,
    )])
    kick_many_after_commit(created)
    return message


def outbox_cancel_pending(*, dedupe_key_prefix, reason="cancelled", keep_prefix=None):
    """Cancel every still-PENDING row whose dedupe key starts with the prefix (e.g. the
    reminders of a cancelled visit), except those under `keep_prefix`: PENDING -> CANCELLED in
    one conditional UPDATE (transition_rows). A row already SENDING is left to finish. Returns
    the number cancelled."""
    return outbox_cancel_pending_many(prefixes=[(dedupe_key_prefix, keep_prefix)], reason=reason)


@transaction.atomic
def outbox_cancel_pending_many(*, prefixes, reason="cancelled"):
    """outbox_cancel_pending for many (prefix, keep_prefix or None) pairs. One pair: one
    conditional UPDATE. More: per 200 prefixes, one read of the PENDING rows under them (each
    prefix an indexed LIKE 'prefix%' on PostgreSQL; nothing is found for new events) and one
    conditional UPDATE of those not under their keep_prefix. Returns the number cancelled."""
    prefixes = list(prefixes)
    cancelled = 0
    now = timezone.now()
    if len(prefixes) == 1:  # one event: one UPDATE
        (prefix, keep), = prefixes
        rows = OutboundMessage.objects.filter(dedupe_key__startswith=prefix)
        return transition_rows(
            rows.exclude(dedupe_key__startswith=keep) if keep else rows,
            from_status=OutboundMessage.Status.PENDING, to=OutboundMessage.Status.CANCELLED,
            finished_at=now, last_error=reason[:500],
        )
    pending = OutboundMessage.objects.filter(status=OutboundMessage.Status.PENDING)
    for i in range(0, len(prefixes), 200):
        chunk = prefixes[i:i + 200]
        under = Q(*[("dedupe_key__startswith", prefix) for prefix, _ in chunk], _connector=Q.OR)
        found = list(pending.filter(under).values_list("pk", "dedupe_key"))
        if not found:
            continue
        doomed = [pk for pk, key in found
                  if any(key.startswith(prefix) and not (keep and key.startswith(keep)) for prefix, keep in chunk)]
        if doomed:
            cancelled += transition_rows(
                OutboundMessage.objects.filter(pk__in=doomed),
                from_status=OutboundMessage.Status.PENDING, to=OutboundMessage.Status.CANCELLED,
                finished_at=now, last_error=reason[:500],
            )
    return cancelled
