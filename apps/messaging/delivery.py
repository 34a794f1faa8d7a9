"""Delivering outbox rows: claim, send, record, retry, reap, and provider status callbacks.

How a row is never sent twice, even when workers die
----------------------------------------------------
1. Claim. A conditional UPDATE moves due rows PENDING -> SENDING with a fresh claim_token
   (``UPDATE ... WHERE id IN (...) AND status='pending' AND next_attempt_at <= now``). Only
   rows that carry our token afterwards are ours: two workers never both win a row. Every
   status change here is such a conditional UPDATE through core's transition_rows(), which
   refuses any move OutboundMessage.TRANSITIONS does not list (InvalidTransition, nothing
   written); the one single-row move of a callback (SENT -> FAILED) uses transition().
2. Write-ahead attempt. Before the provider call, one committed transaction re-checks the
   claim (a conditional UPDATE on id + token + SENDING that also refreshes claimed_at) and
   inserts a DeliveryAttempt in state IN_FLIGHT. The provider call carries the attempt id
   (local outbox: a column; Twilio: the StatusCallback URL ``?attempt=<id>``).
3. Finish. One transaction records the attempt's outcome and moves the row (SENT; PENDING
   with backoff; FAILED), conditional on still holding the claim.
4. Reap. A row SENDING for longer than MESSAGING_SENDING_TIMEOUT_SECONDS belongs to a dead
   worker: that timeout exceeds the send task's hard time limit and the provider HTTP timeout,
   so the old sender can no longer be running. The reaper only moves the row back to PENDING
   (conditional UPDATE on its token) and marks its IN_FLIGHT attempt UNKNOWN. It sends nothing.
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
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.transitions import lock, transition, transition_rows
from apps.messaging.models import Channel, DeliveryAttempt, DeliveryStatusEvent, OutboundMessage, SmsOptOut
from apps.messaging.outbox import REPLY_KIND_PREFIX, kick_after_commit, sms_opted_out
from apps.messaging.reminders import reminder_suppressed_reason
from apps.messaging.services import notify
from apps.messaging.sms import (
    TWILIO_UNSUBSCRIBED, SendError, SendResult, TransientSendError, get_email_sender, get_sms_backend,
)

log = logging.getLogger(__name__)

Status = OutboundMessage.Status
Outcome = DeliveryAttempt.Outcome


@dataclass
class Backends:
    """The senders one delivery run uses; tests pass their own."""

    sms: object = None
    email: object = None

    def __post_init__(self):
        self.sms = self.sms or get_sms_backend()
        self.email = self.email or get_email_sender()

    def for_channel(self, channel):
        return self.sms if channel == Channel.SMS else self.email


@dataclass
class RunReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    lost: int = 0
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
    one new claim token, by a conditional UPDATE. Returns (token, [ids actually won]); a row
    another worker claimed first is simply not in the list."""
    now = now or timezone.now()
    limit = limit or settings.MESSAGING_BATCH_SIZE
    candidates = OutboundMessage.objects.due(now)
    if message_ids is not None:
        candidates = candidates.filter(pk__in=message_ids)
    ids = list(candidates.order_by("-urgent", "next_attempt_at").values_list("pk", flat=True)[:limit])
    if not ids:
        return None, []
    token = uuid.uuid4()
    # The WHERE repeats the status guard: on PostgreSQL a concurrent claimer blocks on the row
    # lock, then re-evaluates status='pending' against the committed row and skips it.
    moved = transition_rows(
        OutboundMessage.objects.filter(pk__in=ids, next_attempt_at__lte=now),
        from_status=Status.PENDING, to=Status.SENDING, claim_token=token, claimed_at=now,
    )
    if moved == len(ids):
        return token, ids  # every candidate is ours: no need to ask which
    won = list(OutboundMessage.objects.filter(pk__in=ids, claim_token=token, status=Status.SENDING).values_list("pk", flat=True))
    return token, won


def _release_unstarted(token, ids):
    """Give back claimed rows this run never started (time budget, soft time limit)."""
    if ids:
        transition_rows(
            OutboundMessage.objects.filter(pk__in=list(ids), claim_token=token),
            from_status=Status.SENDING, to=Status.PENDING, claim_token=None, claimed_at=None,
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
            updated = transition_rows(
                claimed, from_status=Status.SENDING, to=Status.FAILED, finished_at=now, claim_token=None, last_error=error_text
            )
            return Status.FAILED if updated else None

        # Transient (or unknown): back to PENDING after a backoff.
        number = attempt.number if attempt is not None else max(1, message.attempts)
        retry_at = now + timedelta(seconds=backoff_seconds(number))
        updated = transition_rows(
            claimed, from_status=Status.SENDING, to=Status.PENDING,
            claim_token=None, claimed_at=None, next_attempt_at=retry_at, last_error=error_text,
        )
        if updated:
            message.next_attempt_at = retry_at
            kick_after_commit(message)
            return Status.PENDING
        return None


def _suppressed(message):
    """Why this row must not go out any more (preferences changed since it was queued)."""
    patient = message.patient
    if message.channel == Channel.SMS and not message.kind.startswith(REPLY_KIND_PREFIX):
        if sms_opted_out(message.to):
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


def outbox_send_claimed(*, message_id, token, backends=None):
    """Send one row this worker claimed (token). Records a DeliveryAttempt; the row ends SENT,
    PENDING (transient failure, retried after backoff), FAILED (permanent, or out of attempts)
    or CANCELLED (preferences changed). Returns the new status, or None when the claim was
    lost (reaped); safe to call again."""
    backends = backends or Backends()
    now = timezone.now()
    message = OutboundMessage.objects.select_related("patient", "user").filter(
        pk=message_id, claim_token=token, status=Status.SENDING
    ).first()
    if message is None:
        return None

    reason = _suppressed(message)
    if reason:
        updated = transition_rows(
            _claimed(message.pk, token), from_status=Status.SENDING, to=Status.CANCELLED,
            claim_token=None, finished_at=now, last_error=reason,
        )
        return Status.CANCELLED if updated else None

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


def outbox_deliver_due(*, now=None, limit=None, backends=None, time_budget=None):
    """Claim and send due rows, batch after batch, until none is due or `time_budget` seconds
    have passed. Rows claimed but not started when the budget runs out are given back."""
    backends = backends or Backends()
    report = RunReport()
    started = time.monotonic()
    while True:
        token, ids = outbox_claim_due(now=now, limit=limit)
        if not ids:
            return report
        report.claimed += len(ids)
        pending = list(ids)
        try:
            while pending:
                if time_budget is not None and time.monotonic() - started > time_budget:
                    return report
                message_id = pending.pop(0)
                report.count(message_id, outbox_send_claimed(message_id=message_id, token=token, backends=backends))
        finally:
            _release_unstarted(token, pending)
        if time_budget is not None and time.monotonic() - started > time_budget:
            return report


def outbox_deliver_one(*, message_id, backends=None):
    """Deliver one row now if it is due and unclaimed (the enqueue-time kick). A no-op for a
    row already claimed, sent or not yet due: the periodic job covers those."""
    token, ids = outbox_claim_due(message_ids=[message_id], limit=1)
    if not ids:
        return None
    return outbox_send_claimed(message_id=ids[0], token=token, backends=backends)


def outbox_reap_stuck(*, now=None):
    """Rows SENDING for longer than MESSAGING_SENDING_TIMEOUT_SECONDS go back to PENDING (their
    worker is dead; see the module docstring); their IN_FLIGHT attempt becomes UNKNOWN and is
    reconciled before any resend. Sends nothing. Returns the number reaped."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.MESSAGING_SENDING_TIMEOUT_SECONDS)
    reaped = 0
    for message_id, token in OutboundMessage.objects.stuck_sending(cutoff).values_list("pk", "claim_token")[:1000]:
        with transaction.atomic():
            won = transition_rows(
                _claimed(message_id, token).filter(claimed_at__lt=cutoff), from_status=Status.SENDING, to=Status.PENDING,
                claim_token=None, claimed_at=None, last_error="worker lost; reaped",
            )
            if won:
                DeliveryAttempt.objects.filter(message_id=message_id, claim_token=token, outcome=Outcome.IN_FLIGHT).update(
                    outcome=Outcome.UNKNOWN, finished_at=now, error="worker lost mid-send"
                )
                reaped += 1
    if reaped:
        log.warning("reaped %s outbound messages stuck in SENDING", reaped)
    return reaped


# --- provider status callbacks --------------------------------------------------------------

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
