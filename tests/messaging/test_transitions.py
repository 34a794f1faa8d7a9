"""The state tables: OutboundMessage.TRANSITIONS is enforced for every status change of the
outbox (claims, sends, retries, cancels, the reaper, carrier callbacks), and a thread's close
and reopen go through core's transition() with ThreadEvent rows on core's TransitionEvent."""
import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.core.exceptions import InvalidTransition
from apps.core.transitions import TransitionEvent, transition_rows
from apps.messaging.delivery import (
    Backends,
    outbox_claim_due,
    outbox_deliver_due,
    outbox_reap_stuck,
    outbox_send_claimed,
)
from apps.messaging.delivery_status import delivery_status_record
from apps.messaging.models import Channel, OutboundMessage
from apps.messaging.outbox import message_enqueue, outbox_cancel_pending
from apps.messaging.sms import PermanentSendError, SendResult, TransientSendError
from apps.messaging.threads import services
from apps.messaging.threads.models import Thread, ThreadEvent
from tests.factories import PortalPatientFactory
from tests.messaging.outbox_helpers import no_kick  # noqa: F401
from tests.messaging.thread_helpers import patient_thread, private_attachment_root  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_kick")]
S = OutboundMessage.Status


class Sender:
    """A provider that answers every send with `outcome`: a SendResult or an exception."""

    def __init__(self, outcome=None):
        self.outcome = outcome or SendResult("SMfake", "queued")
        self.sent = []

    def send(self, **kwargs):
        self.sent.append(kwargs)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def lookup(self, **kwargs):
        return None


def backends(outcome=None):
    sender = Sender(outcome)
    return Backends(sms=sender, email=sender)


def queue_sms(patient, key="k"):
    return message_enqueue(kind="follow_up", patient=patient, dedupe_key=key, channels=[Channel.SMS])[0]


def without(monkeypatch, source, target):
    """OutboundMessage's table minus one move."""
    table = {state: set(targets) for state, targets in OutboundMessage.TRANSITIONS.items()}
    table[source].discard(target)
    monkeypatch.setattr(OutboundMessage, "TRANSITIONS", table)


def status_of(row):
    return OutboundMessage.objects.values_list("status", flat=True).get(pk=row.pk)


# --- the outbox table ---------------------------------------------------------------------

def test_the_outbox_table_is_the_documented_one():
    assert OutboundMessage.TRANSITIONS == {
        S.PENDING: {S.SENDING, S.CANCELLED, S.SENT},
        S.SENDING: {S.SENT, S.PENDING, S.FAILED, S.CANCELLED},
        S.SENT: {S.FAILED},
        S.FAILED: set(),
        S.CANCELLED: set(),
    }
    assert OutboundMessage.AUDIT_TRANSITIONS is False


@pytest.mark.parametrize("final", [S.FAILED, S.CANCELLED])
def test_a_row_in_a_final_state_moves_nowhere(patient, final):
    row = queue_sms(patient)
    OutboundMessage.objects.filter(pk=row.pk).update(status=final)

    for target in S.values:
        with pytest.raises(InvalidTransition) as exc:
            transition_rows(OutboundMessage.objects.filter(pk=row.pk), from_status=final, to=target)
        assert exc.value.status_code == 409 and exc.value.code == "invalid_transition"
    assert status_of(row) == final


def test_a_sent_row_cannot_go_back_to_pending_or_be_claimed(patient):
    row = queue_sms(patient)
    outbox_deliver_due(backends=backends())
    assert status_of(row) == S.SENT

    with pytest.raises(InvalidTransition):
        transition_rows(OutboundMessage.objects.filter(pk=row.pk), from_status=S.SENT, to=S.PENDING)
    assert outbox_claim_due(message_ids=[row.pk]) == (None, [])
    assert status_of(row) == S.SENT


def test_claiming_needs_pending_to_sending_in_the_table(patient, monkeypatch):
    row = queue_sms(patient)
    without(monkeypatch, S.PENDING, S.SENDING)

    with pytest.raises(InvalidTransition):
        outbox_claim_due()
    assert status_of(row) == S.PENDING


def test_cancelling_pending_rows_needs_pending_to_cancelled(patient, monkeypatch):
    row = queue_sms(patient, key="visit_reminder:v1:1:60m")
    without(monkeypatch, S.PENDING, S.CANCELLED)

    with pytest.raises(InvalidTransition):
        outbox_cancel_pending(dedupe_key_prefix="visit_reminder:v1:")
    assert status_of(row) == S.PENDING


@pytest.mark.parametrize("outcome, move", [
    (None, (S.SENDING, S.SENT)),
    (TransientSendError("Twilio 503", code=503), (S.SENDING, S.PENDING)),
    (PermanentSendError("Twilio 400 error 21211", code=21211), (S.SENDING, S.FAILED)),
])
def test_each_send_outcome_needs_its_move_in_the_table(patient, monkeypatch, outcome, move):
    row = queue_sms(patient)
    token, ids = outbox_claim_due()
    without(monkeypatch, *move)

    with pytest.raises(InvalidTransition):
        outbox_send_claimed(message_id=ids[0], token=token, backends=backends(outcome))
    assert status_of(row) == S.SENDING  # nothing moved; the reaper will pick it up


def test_suppressing_a_claimed_row_needs_sending_to_cancelled(patient, monkeypatch):
    row = queue_sms(patient)
    token, ids = outbox_claim_due()
    patient.sms_opt_in = False
    patient.save(update_fields=["sms_opt_in"])

    without(monkeypatch, S.SENDING, S.CANCELLED)
    with pytest.raises(InvalidTransition):
        outbox_send_claimed(message_id=ids[0], token=token, backends=backends())
    assert status_of(row) == S.SENDING

    monkeypatch.undo()
    assert outbox_send_claimed(message_id=ids[0], token=token, backends=backends()) == S.CANCELLED
    row.refresh_from_db()
    assert row.status == S.CANCELLED and row.last_error == "patient turned SMS off" and row.claim_token is None


def test_reaping_needs_sending_to_pending(patient, monkeypatch):
    row = queue_sms(patient)
    outbox_claim_due()
    without(monkeypatch, S.SENDING, S.PENDING)

    with pytest.raises(InvalidTransition):
        outbox_reap_stuck(now=timezone.now() + datetime.timedelta(hours=1))
    assert status_of(row) == S.SENDING


def test_a_carrier_failure_needs_sent_to_failed(patient, monkeypatch):
    row = queue_sms(patient)
    outbox_deliver_due(backends=backends())
    without(monkeypatch, S.SENT, S.FAILED)

    with pytest.raises(InvalidTransition):
        delivery_status_record(message_sid="SMfake", status="undelivered", error_code="30003")
    assert status_of(row) == S.SENT


def test_delivering_a_message_costs_no_more_queries_than_before(django_assert_max_num_queries):
    # Before the outbox moved onto core.transitions a run delivering one row cost 15 queries
    # for an SMS (claim, write-ahead attempt, the local outbox's send, finish), 13 for an email
    # and 10 in-app; a claim that wins every row it asked for now skips re-reading them. A run
    # also looks for dead workers' claims (one query), reads the STOP list with the row, and
    # stops after a batch smaller than it asked for (no empty claim at the end). On PostgreSQL
    # the claim's FOR UPDATE SKIP LOCKED read runs in its own transaction (here a savepoint:
    # two statements more). An in-app row's notification since costs two statements of features
    # that came later, no more: its line in the app's change log (one INSERT ... SELECT,
    # apps/portal_api/changes.py) and the look-up of the patient's phones for its push.
    extra = 2 if connection.vendor == "postgresql" else 0
    for channel, most in ((Channel.SMS, 13), (Channel.EMAIL, 12), (Channel.IN_APP, 9 + 2)):
        message_enqueue(kind="follow_up", patient=PortalPatientFactory(), dedupe_key=f"q:{channel}", channels=[channel])
        with django_assert_max_num_queries(most + extra):
            assert outbox_deliver_due().sent == 1


# --- threads ------------------------------------------------------------------------------

def test_closing_a_thread_writes_a_transition_event_and_one_audit_entry(patient, front_desk):
    thread = patient_thread(patient)
    reason = "Answered on the phone. " * 20  # longer than the old 200-character column

    services.thread_close(thread=thread, actor=front_desk, reason=reason)

    thread.refresh_from_db()
    assert thread.status == Thread.Status.CLOSED and thread.closed_at is not None
    event = ThreadEvent.objects.get(thread=thread, kind=ThreadEvent.Kind.STATUS)
    assert isinstance(event, TransitionEvent)
    assert (event.from_status, event.to_status, event.actor, event.actor_label) == ("open", "closed", front_desk, front_desk.get_full_name())
    assert event.reason == reason and event.data == {} and event.at is not None
    audits = AccessLog.objects.filter(action="update", object_type="messaging.thread", object_id=str(thread.pk))
    assert list(audits.values_list("detail", flat=True)) == [{"status": "closed"}]


def test_a_refused_thread_move_is_a_409_in_the_conversations_words(patient, front_desk):
    thread = patient_thread(patient)

    with pytest.raises(InvalidTransition) as exc:
        services.thread_reopen(thread=thread, actor=front_desk)

    assert exc.value.status_code == 409 and exc.value.code == "invalid_transition"
    assert exc.value.message == "A open conversation cannot become open."
    assert not ThreadEvent.objects.filter(thread=thread, kind=ThreadEvent.Kind.STATUS).exists()


def test_an_integrator_closing_a_thread_is_named_in_its_history(patient, api_key_factory):
    key, _ = api_key_factory("messaging:write", name="lab-system")
    thread = patient_thread(patient)

    services.thread_close(thread=thread, api_key=key, reason="Results delivered")

    event = ThreadEvent.objects.get(thread=thread, kind=ThreadEvent.Kind.STATUS)
    assert event.actor is None and event.actor_label == "lab-system"


def test_creation_and_assignment_are_events_without_a_status_change(patient, front_desk, nurse):
    thread = patient_thread(patient)
    services.thread_assign(thread=thread, actor=front_desk, assignee=nurse)

    created, assigned = ThreadEvent.objects.filter(thread=thread).order_by("at", "id")
    assert (created.kind, created.from_status, created.to_status, created.actor) == ("created", "", "open", patient.user)
    assert created.actor_label == patient.user.get_full_name()
    assert (assigned.kind, assigned.from_status, assigned.to_status) == ("assigned", "", "")
    assert (assigned.actor, assigned.from_assignee, assigned.to_assignee) == (front_desk, None, nurse)


# --- the migration ------------------------------------------------------------------------

BEFORE = [("messaging", "0006_scheduling_message_templates")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_onto_transition_event_keeps_every_event_row(private_attachment_root):  # noqa: F811
    patient = PortalPatientFactory()
    thread = patient_thread(patient)
    ThreadEvent.objects.all().delete()
    when = timezone.now() - datetime.timedelta(days=3)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        OldEvent = executor.loader.project_state(BEFORE).apps.get_model("messaging", "ThreadEvent")
        OldEvent.objects.create(thread_id=thread.pk, kind="status", actor_id=patient.user_id, actor_label="Pat",
                                from_status="closed", to_status="open", reason="patient_replied", created_at=when)
        OldEvent.objects.create(thread_id=thread.pk, kind="assigned", actor_label="system", to_assignee_id=patient.user_id,
                                reason="x" * 200, created_at=when + datetime.timedelta(minutes=1))
    finally:
        # Every app back to its latest migration: going back in messaging also unapplied the
        # other apps' migrations that depend on it (consents', records' message templates...),
        # and the rest of this process's tests need their tables as they are.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    rows = list(ThreadEvent.objects.filter(thread=thread).order_by("at"))
    assert [(e.kind, e.from_status, e.to_status, e.reason, e.actor_label) for e in rows] == [
        ("status", "closed", "open", "patient_replied", "Pat"),
        ("assigned", "", "", "x" * 200, "system"),
    ]
    assert [e.at for e in rows] == [when, when + datetime.timedelta(minutes=1)]
    assert rows[0].actor_id == patient.user_id and rows[1].to_assignee_id == patient.user_id
    assert [e.data for e in rows] == [{}, {}]
