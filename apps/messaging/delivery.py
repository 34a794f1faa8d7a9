"""Delivering outbox rows: claim, send, record, retry and reap. The provider's status
callbacks are apps/messaging/delivery_status.py.

How a row is never sent twice, even when workers die
----------------------------------------------------
1. Claim. A conditional UPDATE moves due rows PENDING -> SENDING with a fresh claim_token
   (``UPDATE ... WHERE id IN (...) AND status='pending' AND next_attempt_at <= now``) and the
   claiming process's heartbeat name (claimed_by, apps/core/tasks.py). Only rows that carry
   our token afterwards are ours: two workers never both win a row (on PostgreSQL the
   candidates are read FOR UPDATE SKIP LOCKED, so two claimers take different rows instead of
   colliding). Every status change here is such a conditional UPDATE through core's
   transition_rows(), which refuses any move OutboundMessage.TRANSITIONS does not list
   (InvalidTransition, nothing written).
2. Write-ahead attempt. Before the provider call, one committed transaction re-checks the
   claim (a conditional UPDATE on id + token + SENDING that also refreshes claimed_at) and
   inserts a DeliveryAttempt in state IN_FLIGHT: for a whole batch at once (see "sending a
   batch" below), or for one row. The claim is re-checked and refreshed again at least every
   CLAIM_REFRESH_SECONDS while the batch's provider calls go on. The provider call carries
   the attempt id (local outbox: a column; Twilio: the StatusCallback URL ``?attempt=<id>``).
   Preferences (STOP, opt-outs, a visit no longer planned) are checked when the batch is read,
   just before its write-ahead.
3. Finish. One transaction records the outcome and moves the row (SENT; PENDING with
   backoff; FAILED), conditional on still holding the claim; successes of a batch are
   recorded together, at least every RECORD_EVERY_SECONDS.
4. Reap. A SENDING row belongs to a dead worker when the process named in claimed_by has
   not beaten for PROCESS_STALE_SECONDS (20 s) and its claim was last refreshed at least
   CLAIM_GRACE_SECONDS (20 s) ago: that grace exceeds the refresh interval plus the provider
   HTTP timeout, so no provider call made under the claim can still be running, even if the
   process were merely unable to beat. A row claimed by a process without a heartbeat (a
   shell, the threads pool) is presumed dead after MESSAGING_SENDING_TIMEOUT_SECONDS, which
   exceeds the send task's hard time limit. The reaper runs every 5 s and inside every
   delivery run, so a killed worker's rows go out again within about 25 s of its death. It
   only moves the row back to PENDING (conditional UPDATE on its token, with the same
   condition) and marks its IN_FLIGHT attempt UNKNOWN. It sends nothing.
5. Reconcile before resending. When such a row is claimed again, every earlier attempt that
   is UNKNOWN (lost worker, or an ambiguous network error such as a read timeout) or SUCCESS
   (a sender that finished its attempt but lost the row) is checked first: a provider id is
   already on it (a status callback arrived carrying the attempt id), or the backend's
   lookup() finds it (local outbox: the entry with that attempt id; Twilio: a recent message
   to that number with that body). Then the row becomes SENT without a new provider call.
   Only when the backend says the attempt never arrived is the message sent again; when it
   cannot tell now (the lookup itself fails), that counts as an attempt: the row waits and
   retries with backoff, and ends FAILED after MESSAGING_MAX_ATTEMPTS without a resend.
   Email cannot be looked up (SMTP has no query), so a lost email attempt is sent again:
   email is at-least-once. In-app delivery writes the Notification and SENT in one
   transaction, so it is exactly-once without any of this.
"""
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Exists, F, OuterRef, PositiveIntegerField, PositiveSmallIntegerField, Q, Subquery, Value, When
from django.utils import timezone

from apps.core.tasks import PROCESS_STALE_SECONDS, current_process_id, fresh_process_beats
from apps.core.transitions import transition_rows
from apps.messaging.models import Channel, DeliveryAttempt, OutboundMessage, SmsOptOut
from apps.messaging.codes import SCRUBBED_BODY, SECRET_KINDS
from apps.messaging.outbox import REPLY_KIND_PREFIX, kick_after_commit, kick_batch_after_commit, sms_opted_out
from apps.messaging.push.providers import InvalidPushToken, get_push_sender
from apps.messaging.push.services import device_retire_invalid_token, push_suppressed_reason
from apps.messaging.reminders import reminder_suppressed_reason
from apps.messaging.services import notify
from apps.messaging.sms import (
    TWILIO_UNSUBSCRIBED, SendError, SendResult, TransientSendError, get_email_sender, get_sms_backend,
)

log = logging.getLogger(__name__)

Status = OutboundMessage.Status
Outcome = DeliveryAttempt.Outcome

# A delivery run also reaps dead workers' claims, at most this often (seconds).
REAP_EVERY_SECONDS = 5
_clock = time.monotonic  # seconds, for time budgets and refresh intervals (tests move it)


@dataclass
class Backends:
    """The senders one delivery run uses; tests pass their own."""

    sms: object = None
    email: object = None
    push: object = None

    def __post_init__(self):
        self.sms = self.sms or get_sms_backend()
        self.email = self.email or get_email_sender()
        self.push = self.push or get_push_sender()

    def for_channel(self, channel):
        return {Channel.SMS: self.sms, Channel.PUSH: self.push}.get(channel, self.email)


@dataclass
class RunReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    lost: int = 0
    reaped: int = 0
    # Stopped by its time budget with rows still claimed or due: another run should follow.
    more: bool = False
    statuses: dict = field(default_factory=dict)

    def count(self, message_id, status):
        self.statuses[str(message_id)] = status
        if status == Status.SENT:
            self.sent += 1
        elif status == Status.PENDING:
            self.retried += 1
        elif status == Status.FAILED:
            self.failed += 1
        elif status == Status.CANCELLED:
            self.cancelled += 1
        else:
            self.lost += 1


def backoff_seconds(attempt_number):
    """Exponential: base * 2**(n-1), capped at MESSAGING_RETRY_MAX_SECONDS."""
    base = settings.MESSAGING_RETRY_BASE_SECONDS
    return min(settings.MESSAGING_RETRY_MAX_SECONDS, base * (2 ** max(0, attempt_number - 1)))


# --- moving rows ----------------------------------------------------------------------------
# Every status change below is a conditional UPDATE through core's transition_rows: the
# WHERE holds the expected status (and our claim token), the row count says whether we won,
# and OutboundMessage.TRANSITIONS must allow the move or nothing is written.

def _claimed(message_id, token):
    """The one row, while this worker's claim (token) is on it."""
    return OutboundMessage.objects.filter(pk=message_id, claim_token=token)


# --- claiming -------------------------------------------------------------------------------

def outbox_claim_due(*, now=None, limit=None, message_ids=None):
    """Claim up to `limit` due rows (or only `message_ids`, when due): PENDING -> SENDING with
    one new claim token and this process's heartbeat name, by a conditional UPDATE. Returns
    (token, [ids actually won]); a row another worker claimed first is simply not in the list."""
    token, won, _ = _claim(now=now, limit=limit, message_ids=message_ids)
    return token, won


def _claim(*, now=None, limit=None, message_ids=None):
    """outbox_claim_due, also returning how many candidates there were (fewer than `limit`:
    nothing else was due)."""
    now = now or timezone.now()
    limit = limit or settings.MESSAGING_BATCH_SIZE
    candidates = OutboundMessage.objects.due(now)
    if message_ids is not None:
        candidates = candidates.filter(pk__in=message_ids)
    # Urgent first, then by due time, then oldest first: rows taken back from a dead worker
    # go out before a backlog that fell due at the same moment.
    candidates = candidates.order_by("-urgent", "next_attempt_at", "created_at")
    token = uuid.uuid4()
    skip_locked = connection.features.has_select_for_update_skip_locked
    if skip_locked:
        # Rows another worker is claiming at this moment are skipped, not waited for: two
        # workers claiming at once take two different batches (the row locks last until the
        # claim commits). SQLite has no row locks: one writer at a time.
        candidates = candidates.select_for_update(skip_locked=True)
    with transaction.atomic() if skip_locked else contextlib.nullcontext():
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return None, [], 0
        # The WHERE repeats the status guard (the claim is this UPDATE, not the row lock: on
        # SQLite there is none, and on PostgreSQL a claimer that read the rows before our
        # commit blocks on them, then re-evaluates status='pending' and skips them).
        moved = transition_rows(
            OutboundMessage.objects.filter(pk__in=ids, next_attempt_at__lte=now),
            from_status=Status.PENDING, to=Status.SENDING, claim_token=token, claimed_at=now,
            claimed_by=current_process_id(),
        )
    if moved == len(ids):
        return token, ids, len(ids)  # every candidate is ours: no need to ask which
    won = list(OutboundMessage.objects.filter(pk__in=ids, claim_token=token, status=Status.SENDING).values_list("pk", flat=True))
    return token, won, len(ids)


def _release_unstarted(token, ids):
    """Give back claimed rows this run never started (time budget, soft time limit): back to
    PENDING, and an IN_FLIGHT attempt written ahead for one of them is taken back with it (no
    provider call was made for it: nothing to reconcile)."""
    if not ids:
        return
    with transaction.atomic():
        ours = list(OutboundMessage.objects.filter(pk__in=list(ids), claim_token=token, status=Status.SENDING)
                    .select_for_update().values_list("pk", flat=True))
        if not ours:
            return
        unsent = DeliveryAttempt.objects.filter(message_id__in=ours, claim_token=token, outcome=Outcome.IN_FLIGHT)
        written_ahead = set(unsent.values_list("message_id", flat=True))
        unsent.delete()
        transition_rows(
            OutboundMessage.objects.filter(pk__in=ours, claim_token=token),
            from_status=Status.SENDING, to=Status.PENDING, claim_token=None, claimed_at=None, claimed_by="",
            attempts=Case(When(pk__in=written_ahead, then=F("attempts") - 1), default=F("attempts"), output_field=PositiveIntegerField()),
        )


# --- finishing ------------------------------------------------------------------------------

def _finish(message, token, attempt, *, outcome, result=None, error=None, now=None):
    """Record the attempt's outcome and move the row, in one transaction, conditional on still
    holding the claim. Returns the row's new status (None when the claim was lost)."""
    now = now or timezone.now()
    claimed = _claimed(message.pk, token)
    with transaction.atomic():
        if attempt is not None:
            attempt.outcome = outcome
            attempt.finished_at = now
            if result is not None:
                attempt.provider_message_id = result.provider_message_id or attempt.provider_message_id
                attempt.provider_status = result.provider_status
                attempt.http_status = result.http_status
            if error is not None:
                attempt.error = str(error)[:1000]
                attempt.error_code = error.code if isinstance(error, SendError) else ""
                attempt.http_status = getattr(error, "http_status", None)
            attempt.save(update_fields=["outcome", "finished_at", "provider_message_id", "provider_status", "http_status", "error", "error_code"])

        if outcome == Outcome.SUCCESS:
            fields = {
                "sent_at": now, "claim_token": None,
                "provider_message_id": result.provider_message_id if result else "",
                "provider_status": (result.provider_status if result else "") or "sent", "last_error": "",
                **_scrubbed(message),
            }
            if transition_rows(claimed, from_status=Status.SENDING, to=Status.SENT, **fields):
                return Status.SENT
            # Reaped while we were sending: stop any resend that has not started yet.
            if transition_rows(OutboundMessage.objects.filter(pk=message.pk), from_status=Status.PENDING, to=Status.SENT, **fields):
                return Status.SENT
            return None

        error_text = str(error)[:1000] if error is not None else ""
        if outcome == Outcome.PERMANENT or (attempt is not None and attempt.number >= settings.MESSAGING_MAX_ATTEMPTS):
            if error is not None and getattr(error, "code", "") == str(TWILIO_UNSUBSCRIBED) and message.channel == Channel.SMS:
                SmsOptOut.objects.get_or_create(phone=message.to, defaults={"keyword": "carrier"})
            if isinstance(error, InvalidPushToken) and message.channel == Channel.PUSH:
                device_retire_invalid_token(device_id=message.to, token=error.token)
            updated = transition_rows(
                claimed, from_status=Status.SENDING, to=Status.FAILED, finished_at=now, claim_token=None, last_error=error_text,
                **_scrubbed(message),
            )
            return Status.FAILED if updated else None

        # Transient (or unknown): back to PENDING after a backoff.
        number = attempt.number if attempt is not None else max(1, message.attempts)
        retry_at = now + timedelta(seconds=backoff_seconds(number))
        updated = transition_rows(
            claimed, from_status=Status.SENDING, to=Status.PENDING,
            claim_token=None, claimed_at=None, claimed_by="", next_attempt_at=retry_at, last_error=error_text,
        )
        if updated:
            message.next_attempt_at = retry_at
            kick_after_commit(message)
            return Status.PENDING
        return None


def _scrubbed(message):
    """The fields that wipe a one-time code from a row that will not be sent again (the
    row's metadata stays: who, when, which provider id)."""
    return {"body": SCRUBBED_BODY} if message.kind in SECRET_KINDS else {}


def _suppressed(message):
    """Why this row must not go out any more (preferences changed since it was queued)."""
    patient = message.patient
    if message.channel == Channel.PUSH:
        return push_suppressed_reason(message)
    if message.channel == Channel.SMS and not message.kind.startswith(REPLY_KIND_PREFIX):
        stopped = message.stopped if hasattr(message, "stopped") else sms_opted_out(message.to)
        if stopped:
            return "recipient texted STOP"
        if patient is not None and not patient.sms_opt_in:
            return "patient turned SMS off"
    if message.channel == Channel.EMAIL and patient is not None and not patient.email_opt_in:
        return "patient turned email off"
    # A reminder of a visit cancelled or moved after the row was claimed (the cancel only
    # cancels PENDING rows): re-checked here, just before the provider call.
    return reminder_suppressed_reason(message)


def _reconcile(message, sender):
    """Did an earlier attempt of this row already reach the provider? Returns (attempt,
    SendResult) for the one that did, or None. Raises TransientSendError when it cannot tell."""
    earlier = list(message.delivery_attempts.filter(outcome__in=[Outcome.UNKNOWN, Outcome.SUCCESS]).order_by("number"))
    for attempt in earlier:
        if attempt.provider_message_id:
            return attempt, SendResult(attempt.provider_message_id, attempt.provider_status or "sent")
        found = sender.lookup(to=message.to, body=message.body, attempt_id=attempt.pk, since=attempt.started_at)
        if found is not None:
            return attempt, found
        DeliveryAttempt.objects.filter(pk=attempt.pk, outcome=attempt.outcome).update(outcome=Outcome.NOT_SENT)
    return None


def _lookup_failed(message, token, exc):
    """The provider could not say whether an earlier attempt reached it. That costs an attempt
    like a transient send failure (recorded, same backoff, FAILED after MESSAGING_MAX_ATTEMPTS):
    otherwise a row whose lookups keep failing would come back forever. Nothing is sent, and
    the earlier attempt stays UNKNOWN, so the next claim asks again before any resend."""
    error = TransientSendError(f"provider lookup failed: {exc}", code=exc.code, http_status=exc.http_status)
    with transaction.atomic():
        attempt = _start_attempt(message, token)
        if attempt is None:
            return None
        # TRANSIENT, not UNKNOWN: this attempt made no send, so there is nothing of it to look up.
        return _finish(message, token, attempt, outcome=Outcome.TRANSIENT, error=error)


def _start_attempt(message, token):
    """Count an attempt and record it, if the claim is still ours (inside the caller's
    transaction). Returns the DeliveryAttempt, or None when the claim was lost. No status
    change: the row stays SENDING."""
    if not _claimed(message.pk, token).filter(status=Status.SENDING).update(
        claimed_at=timezone.now(), attempts=F("attempts") + 1
    ):
        return None
    attempt = DeliveryAttempt.objects.create(message=message, number=message.attempts + 1, claim_token=token)
    message.attempts += 1
    return attempt


def _deliver_in_app(message, token, now):
    """The Notification and SENT commit together: exactly once, no provider involved."""
    with transaction.atomic():
        number = message.attempts + 1
        if not transition_rows(
            _claimed(message.pk, token), from_status=Status.SENDING, to=Status.SENT,
            sent_at=now, claim_token=None, attempts=F("attempts") + 1, provider_status="delivered", delivered_at=now,
        ):
            return None
        notification = notify(user=message.user, kind=message.kind, title=message.subject or message.kind, body=message.body, link=message.link, urgent=message.urgent)
        DeliveryAttempt.objects.create(
            message=message, number=number, claim_token=token, started_at=now, finished_at=now,
            outcome=Outcome.SUCCESS, provider_message_id=f"notification-{notification.pk}", provider_status="delivered",
        )
    return Status.SENT


def _load_claimed(ids, token):
    """The rows of `ids` still claimed by `token`, with patient, user and whether the number
    texted STOP (one query), in the order of `ids`."""
    rows = OutboundMessage.objects.select_related("patient", "user").annotate(
        stopped=Exists(SmsOptOut.objects.filter(phone=OuterRef("to")))
    ).filter(pk__in=list(ids), claim_token=token, status=Status.SENDING)
    by_id = {m.pk: m for m in rows}
    return [by_id[i] for i in ids if i in by_id]


def _cancel_suppressed(message, token, reason):
    updated = transition_rows(
        _claimed(message.pk, token), from_status=Status.SENDING, to=Status.CANCELLED,
        claim_token=None, finished_at=timezone.now(), last_error=reason, **_scrubbed(message),
    )
    return Status.CANCELLED if updated else None


def outbox_send_claimed(*, message_id, token, backends=None):
    """Send one row this worker claimed (token). Records a DeliveryAttempt; the row ends SENT,
    PENDING (transient failure, retried after backoff), FAILED (permanent, or out of attempts)
    or CANCELLED (preferences changed). Returns the new status, or None when the claim was
    lost (reaped); safe to call again."""
    # The row, its patient and whether its number texted STOP, fresh right before the call.
    loaded = _load_claimed([message_id], token)
    return _send_loaded(loaded[0], token, backends or Backends()) if loaded else None


def _send_loaded(message, token, backends, reason=None):
    """outbox_send_claimed for a row already loaded (and, when `reason` is given, already
    checked by _suppressed)."""
    now = timezone.now()
    reason = _suppressed(message) if reason is None else reason
    if reason:
        return _cancel_suppressed(message, token, reason)

    if message.channel == Channel.IN_APP:
        return _deliver_in_app(message, token, now)

    sender = backends.for_channel(message.channel)
    try:
        previous = _reconcile(message, sender) if message.attempts else None
    except TransientSendError as exc:
        return _lookup_failed(message, token, exc)
    if previous is not None:
        attempt, result = previous
        attempt.outcome = Outcome.SUCCESS  # it did reach the provider
        return _finish(message, token, attempt, outcome=Outcome.SUCCESS, result=result)

    # Write-ahead: the claim is still ours and the attempt exists before the provider call.
    with transaction.atomic():
        attempt = _start_attempt(message, token)
    if attempt is None:
        return None

    try:
        result = sender.send(to=message.to, body=message.body, subject=message.subject, message_id=message.pk, attempt_id=attempt.pk)
    except SendError as exc:
        if exc.transient:
            outcome = Outcome.UNKNOWN if exc.ambiguous else Outcome.TRANSIENT
            return _finish(message, token, attempt, outcome=outcome, error=exc)
        return _finish(message, token, attempt, outcome=Outcome.PERMANENT, error=exc)
    except Exception as exc:  # a bug or a soft time limit mid-call: we cannot know; reconcile later
        log.exception("unexpected error sending outbound message %s", message.pk)
        return _finish(message, token, attempt, outcome=Outcome.UNKNOWN, error=TransientSendError(type(exc).__name__, code="unexpected", ambiguous=True))
    return _finish(message, token, attempt, outcome=Outcome.SUCCESS, result=result)


# --- sending a batch ------------------------------------------------------------------------
# The rows of one claim, in a handful of statements per batch instead of a few per row: one
# read (rows, patients, STOP list), one write-ahead transaction for every row sent for the
# first time (the claim re-checked and refreshed by one conditional UPDATE, then every
# IN_FLIGHT attempt inserted), the provider calls, and one transaction that records up to a
# batch of successes. Rows that need more (in-app, reconcile of an earlier attempt, a
# suppressed row, a failed send) take the one-row path above.
#
# The claim is re-checked (conditional UPDATE, claimed_at refreshed) at least every
# CLAIM_REFRESH_SECONDS before a provider call, and the reaper never takes a claim refreshed
# within CLAIM_GRACE_SECONDS, which exceeds that plus the provider's HTTP timeout: a provider
# call can only start while no reaper can take its row, and ends before one could. A crash
# between a provider call and the recording of its success leaves an IN_FLIGHT attempt, which
# the reaper marks UNKNOWN and the next claim reconciles (found: SENT, no resend).

CLAIM_REFRESH_SECONDS = 3
CLAIM_GRACE_SECONDS = max(PROCESS_STALE_SECONDS, settings.MESSAGING_PROVIDER_TIMEOUT_SECONDS + CLAIM_REFRESH_SECONDS + 2)
# Successes are recorded at least this often (and after every batch).
RECORD_EVERY_SECONDS = 0.5


def _per_row(pairs, output_field, default):
    """The value for each row's pk: a plain value when they are all the same (the usual case:
    compiling a CASE of a whole batch costs a few ms of CPU), else CASE WHEN pk = ... ."""
    values = {value for _, value in pairs}
    if len(values) == 1:
        return Value(values.pop(), output_field=output_field)
    return Case(*[When(pk=pk, then=Value(value)) for pk, value in pairs], default=default, output_field=output_field)


def _unless_set(field, value):
    """`value`, but keep what is already in `field` (a provider status callback may have
    landed between the provider call and this write)."""
    return Case(When(**{field: ""}, then=value), default=F(field), output_field=CharField())


def _refresh_claims(ids, token, *, start=False):
    """Re-check and refresh the claim on `ids` (start: also count an attempt of each) by one
    conditional UPDATE; the ids still ours."""
    values = {"claimed_at": timezone.now()}
    if start:
        values["attempts"] = F("attempts") + 1
    if OutboundMessage.objects.filter(pk__in=ids, claim_token=token, status=Status.SENDING).update(**values) == len(ids):
        return set(ids)
    return set(OutboundMessage.objects.filter(pk__in=ids, claim_token=token, status=Status.SENDING).values_list("pk", flat=True))


def _start_attempts(messages, token):
    """The batch's write-ahead: one transaction that re-checks the claim on every row, counts
    an attempt of each and inserts their IN_FLIGHT DeliveryAttempts. Returns [(message,
    attempt)] for the rows still ours."""
    with transaction.atomic():
        ours = _refresh_claims([m.pk for m in messages], token, start=True)
        started = []
        for message in messages:
            if message.pk in ours:
                message.attempts += 1
                started.append((message, DeliveryAttempt(message=message, number=message.attempts, claim_token=token)))
        DeliveryAttempt.objects.bulk_create([a for _, a in started])
    return started


def _record_sent(token, done):
    """Record the successes `done` [(message, attempt, SendResult)] in one transaction: the
    attempts SUCCESS, the rows still claimed SENDING -> SENT (one conditional UPDATE that
    copies each row's provider id from its attempt), and a row reaped meanwhile through
    _finish's own path (it stops a resend). Returns {message id: status or None}."""
    if not done:
        return {}
    now = timezone.now()
    by_attempt = [(a.pk, r) for _, a, r in done]
    with transaction.atomic():
        DeliveryAttempt.objects.filter(pk__in=[pk for pk, _ in by_attempt]).update(
            outcome=Outcome.SUCCESS, finished_at=now,
            provider_message_id=_per_row([(pk, r.provider_message_id or "") for pk, r in by_attempt], CharField(), F("provider_message_id")),
            provider_status=_unless_set("provider_status", _per_row(
                [(pk, r.provider_status or "") for pk, r in by_attempt], CharField(), F("provider_status"))),
            http_status=_per_row([(pk, r.http_status) for pk, r in by_attempt], PositiveSmallIntegerField(), F("http_status")),
        )
        ids = [m.pk for m, _, _ in done]
        sid_of_attempt = DeliveryAttempt.objects.filter(message_id=OuterRef("pk"), claim_token=token, outcome=Outcome.SUCCESS)
        moved = transition_rows(
            OutboundMessage.objects.filter(pk__in=ids, claim_token=token), from_status=Status.SENDING, to=Status.SENT,
            sent_at=now, claim_token=None, last_error="",
            provider_message_id=Subquery(sid_of_attempt.order_by("-number").values("provider_message_id")[:1]),
            provider_status=_unless_set("provider_status", _per_row(
                [(m.pk, r.provider_status or "sent") for m, _, r in done], CharField(), F("provider_status"))),
            **_scrubbed_batch([m for m, _, _ in done]),
        )
        ours = set(ids)
        if moved != len(ids):  # some were reaped meanwhile: ours are the rows this UPDATE sent
            ours = set(OutboundMessage.objects.filter(pk__in=ids, status=Status.SENT, sent_at=now).values_list("pk", flat=True))
    statuses = {m.pk: Status.SENT for m, _, _ in done if m.pk in ours}
    for message, attempt, result in done:
        if message.pk not in ours:  # reaped while we were sending
            statuses[message.pk] = _finish(message, token, attempt, outcome=Outcome.SUCCESS, result=result, now=now)
    return statuses


def _scrubbed_batch(messages):
    """_scrubbed for the rows of one UPDATE: the code's rows get SCRUBBED_BODY, the others
    keep theirs (nothing added to the statement when the batch holds no code)."""
    secret = [m.pk for m in messages if m.kind in SECRET_KINDS]
    if not secret:
        return {}
    return {"body": Case(When(pk__in=secret, then=Value(SCRUBBED_BODY)), default=F("body"), output_field=CharField())}


def _send_batch(token, ids, backends, report, out_of_time, unstarted):
    """Send the rows of one claim (see above). `unstarted` (a set of ids, the caller gives
    back what is left in it) loses each row just before the provider call or the one-row path
    takes it: what remains when the budget runs out, or on a crash, was never sent."""
    first, single = [], []
    for message in _load_claimed(ids, token):
        if message.channel == Channel.IN_APP or message.attempts:
            single.append((message, None))  # exactly-once in-app, or reconcile first
        elif reason := _suppressed(message):
            single.append((message, reason))
        else:
            first.append(message)
    for message, reason in single:
        unstarted.discard(message.pk)
        report.count(message.pk, _send_loaded(message, token, backends, reason=reason))
    started = _start_attempts(first, token) if first else []
    checked = _clock()
    done, since = [], None

    def record():
        nonlocal done, since
        for message_id, status in _record_sent(token, done).items():
            report.count(message_id, status)
        done, since = [], None

    try:
        while started:
            if out_of_time():
                return
            if _clock() - checked > CLAIM_REFRESH_SECONDS:
                record()
                ours = _refresh_claims([m.pk for m, _ in started], token)
                for message, _ in started:
                    if message.pk not in ours:
                        unstarted.discard(message.pk)
                        report.count(message.pk, None)  # reaped: its new claimer reconciles
                started = [(m, a) for m, a in started if m.pk in ours]
                checked = _clock()
                continue
            message, attempt = started.pop(0)
            unstarted.discard(message.pk)
            sender = backends.for_channel(message.channel)
            try:
                result = sender.send(to=message.to, body=message.body, subject=message.subject, message_id=message.pk, attempt_id=attempt.pk)
            except SendError as exc:
                outcome = (Outcome.UNKNOWN if exc.ambiguous else Outcome.TRANSIENT) if exc.transient else Outcome.PERMANENT
                report.count(message.pk, _finish(message, token, attempt, outcome=outcome, error=exc))
                continue
            except Exception as exc:  # a bug or a soft time limit mid-call: we cannot know; reconcile later
                log.exception("unexpected error sending outbound message %s", message.pk)
                error = TransientSendError(type(exc).__name__, code="unexpected", ambiguous=True)
                report.count(message.pk, _finish(message, token, attempt, outcome=Outcome.UNKNOWN, error=error))
                continue
            done.append((message, attempt, result))
            if since is None:
                since = _clock()
            if _clock() - since >= RECORD_EVERY_SECONDS:
                record()
    finally:
        record()


def outbox_deliver_due(*, now=None, limit=None, backends=None, time_budget=None):
    """Claim and send due rows, batch after batch, until none is due or `time_budget` seconds
    have passed (then report.more is set). Rows claimed but not started when the budget runs
    out are given back. Every REAP_EVERY_SECONDS the run also takes back the claims of dead
    workers (outbox_reap_stuck), which it then sends itself."""
    backends = backends or Backends()
    report = RunReport()
    started = _clock()
    reaped_at = None

    def out_of_time():
        return time_budget is not None and _clock() - started > time_budget

    limit = limit or settings.MESSAGING_BATCH_SIZE
    last, lost = False, 0
    while not last:
        if reaped_at is None or _clock() - reaped_at >= REAP_EVERY_SECONDS:
            report.reaped += outbox_reap_stuck(kick=False)
            reaped_at = _clock()
        token, ids, candidates = _claim(now=now, limit=limit)
        if not ids:
            # Every candidate went to another worker first: look again (a few times).
            lost += 1
            if candidates and lost < 3:
                continue
            return report
        lost = 0
        # Fewer candidates than asked for: nothing else is due now (or it is locked, being
        # claimed by another worker), so this batch is the last.
        last = candidates < limit
        report.claimed += len(ids)
        unstarted = set(ids)
        try:
            _send_batch(token, ids, backends, report, out_of_time, unstarted)
        finally:
            _release_unstarted(token, unstarted)
        if unstarted or out_of_time():
            report.more = True
            return report
    return report


def outbox_deliver_one(*, message_id, backends=None):
    """Deliver one row now if it is due and unclaimed (the enqueue-time kick). A no-op for a
    row already claimed, sent or not yet due: the periodic job covers those."""
    token, ids = outbox_claim_due(message_ids=[message_id], limit=1)
    if not ids:
        return None
    return outbox_send_claimed(message_id=ids[0], token=token, backends=backends)


def _claimer_gone(now):
    """Q for SENDING rows whose claimer is gone (see the module docstring, point 4): its
    process has not beaten for PROCESS_STALE_SECONDS and the claim is at least that old; or it
    keeps no heartbeat and the claim is older than MESSAGING_SENDING_TIMEOUT_SECONDS."""
    stale = now - timedelta(seconds=CLAIM_GRACE_SECONDS)
    timed_out = now - timedelta(seconds=settings.MESSAGING_SENDING_TIMEOUT_SECONDS)
    alive = fresh_process_beats(now).filter(name=OuterRef("claimed_by"))
    return Q(claimed_at__lt=timed_out) | (~Q(claimed_by="") & Q(claimed_at__lt=stale) & ~Q(Exists(alive)))


def outbox_reap_stuck(*, now=None, kick=True):
    """SENDING rows whose worker is dead (_claimer_gone) go back to PENDING; their IN_FLIGHT
    attempt becomes UNKNOWN and is reconciled before any resend. Sends nothing; with `kick`, a
    delivery run is queued after commit for what it took back. Returns the number reaped."""
    now = now or timezone.now()
    gone = _claimer_gone(now)
    reaped = 0
    for message_id, token in OutboundMessage.objects.filter(status=Status.SENDING).filter(gone).values_list("pk", "claim_token")[:1000]:
        with transaction.atomic():
            # The same condition again in the UPDATE: a claim refreshed since is left alone.
            won = transition_rows(
                _claimed(message_id, token).filter(gone), from_status=Status.SENDING, to=Status.PENDING,
                claim_token=None, claimed_at=None, claimed_by="", last_error="worker lost; reaped",
            )
            if won:
                DeliveryAttempt.objects.filter(message_id=message_id, claim_token=token, outcome=Outcome.IN_FLIGHT).update(
                    outcome=Outcome.UNKNOWN, finished_at=now, error="worker lost mid-send"
                )
                reaped += 1
    if reaped:
        log.warning("reaped %s outbound messages stuck in SENDING", reaped)
        if kick:
            kick_batch_after_commit()
    return reaped
