"""messages_enqueue and visit_reminders_schedule_many: many events in a few statements, with
the rows, words, channels, quiet hours and once-per-event rule of the one-event services."""
import datetime
import threading
import zoneinfo

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.messaging import tasks
from apps.messaging.models import Channel, OutboundMessage, SmsOptOut
from apps.messaging.outbox import KICK_FANOUT, Outgoing, message_enqueue, messages_enqueue
from apps.messaging.reminders import VisitReminders, visit_reminders_schedule, visit_reminders_schedule_many
from tests.factories import PatientFactory, PortalPatientFactory
from tests.messaging.outbox_helpers import no_kick  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_kick")
S = OutboundMessage.Status
NY = zoneinfo.ZoneInfo("America/New_York")
FIELDS = ["dedupe_key", "channel", "to", "subject", "body", "kind", "language", "urgent", "due_at", "next_attempt_at",
          "patient_id", "user_id", "link", "status"]


def snapshot(rows):
    return sorted(tuple(getattr(r, f) for f in FIELDS) for r in rows)


def test_many_events_make_the_rows_one_event_at_a_time_would(db):
    patients = [PortalPatientFactory(), PatientFactory(email_opt_in=False), PortalPatientFactory(sms_opt_in=False)]
    SmsOptOut.objects.create(phone=patients[1].phone)  # texted STOP: no SMS, and no email either
    due = timezone.now() + datetime.timedelta(hours=3)
    events = [Outgoing(kind="follow_up", patient=p, dedupe_key=f"bulk:{i}", context={"visit_time": "Mon 10:00"}, due_at=due)
              for i, p in enumerate(patients)]

    with transaction.atomic():
        one_by_one = [message_enqueue(**vars(e)) for e in events]
        expected = snapshot(r for rows in one_by_one for r in rows)
        transaction.set_rollback(True)
    bulk = messages_enqueue(events=events)

    assert [len(rows) for rows in bulk] == [len(rows) for rows in one_by_one] == [3, 0, 2]
    assert snapshot(r for rows in bulk for r in rows) == expected
    assert snapshot(OutboundMessage.objects.all()) == expected


def test_many_events_cost_the_same_few_queries_as_one(db, django_assert_max_num_queries):
    patients = [PatientFactory() for _ in range(40)]  # SMS and email, no portal user
    events = [Outgoing(kind="follow_up", patient=p, dedupe_key=f"q:{p.pk}") for p in patients]

    # STOP list, template, INSERT, read-back; on PostgreSQL also the savepoint of the test.
    with django_assert_max_num_queries(6):
        rows = messages_enqueue(events=events)

    assert sum(len(r) for r in rows) == OutboundMessage.objects.count() == 80


def test_calling_again_or_twice_in_one_call_queues_each_event_once(patient):
    first = messages_enqueue(events=[Outgoing(kind="follow_up", patient=patient, dedupe_key="twice", channels=[Channel.SMS])])
    again = messages_enqueue(events=[
        Outgoing(kind="follow_up", patient=patient, dedupe_key="twice", channels=[Channel.SMS]),
        Outgoing(kind="follow_up", patient=patient, dedupe_key="new", channels=[Channel.SMS]),
        Outgoing(kind="follow_up", patient=patient, dedupe_key="new", channels=[Channel.SMS]),
    ])

    assert [[r.pk for r in rows] for rows in again][0] == [first[0][0].pk]
    assert again[1][0].pk == again[2][0].pk
    assert sorted(OutboundMessage.objects.values_list("dedupe_key", flat=True)) == ["new:sms", "twice:sms"]


def test_a_bulk_enqueue_kicks_batch_runs_not_one_task_per_row(db, settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.MESSAGING_KICK_ENABLED = True
    settings.MESSAGING_CELERY_QUEUE = "q-test"
    batch, single = [], []
    monkeypatch.setattr(tasks.deliver_due, "apply_async", lambda **kw: batch.append(kw))
    monkeypatch.setattr(tasks.deliver_message, "apply_async", lambda args, **kw: single.append(args))
    patients = [PatientFactory() for _ in range(30)]

    with django_capture_on_commit_callbacks(execute=True):
        messages_enqueue(events=[Outgoing(kind="follow_up", patient=p, dedupe_key=f"k:{p.pk}", channels=[Channel.SMS])
                                 for p in patients])

    assert single == []
    assert batch == [{"countdown": 0, "queue": "q-test"}] * KICK_FANOUT


def test_a_bulk_enqueue_of_a_few_rows_kicks_each_row(patient, settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.MESSAGING_KICK_ENABLED = True
    single = []
    monkeypatch.setattr(tasks.deliver_message, "apply_async", lambda args, **kw: single.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        rows = messages_enqueue(events=[Outgoing(kind="follow_up", patient=patient, dedupe_key="few", channels=[Channel.SMS])])

    assert single == [[str(rows[0][0].pk)]]


def test_a_duplicate_inside_an_outer_transaction_leaves_it_usable(patient):
    messages_enqueue(events=[Outgoing(kind="follow_up", patient=patient, dedupe_key="dup", channels=[Channel.SMS])])
    with transaction.atomic():
        (rows,) = messages_enqueue(events=[Outgoing(kind="follow_up", patient=patient, dedupe_key="dup", channels=[Channel.SMS])])
        SmsOptOut.objects.create(phone="+15550002222")
    assert rows[0].dedupe_key == "dup:sms" and OutboundMessage.objects.count() == 1
    assert SmsOptOut.objects.filter(phone="+15550002222").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_bulk_enqueues_of_overlapping_events_create_each_row_once(requires_postgres):
    patients = [PatientFactory() for _ in range(10)]
    barrier = threading.Barrier(4)
    results, errors = [], []

    def worker(offset):
        try:
            events = [Outgoing(kind="follow_up", patient=patients[i % 10], dedupe_key=f"overlap:{i}", channels=[Channel.SMS])
                      for i in range(offset, offset + 60)]
            barrier.wait()
            with transaction.atomic():
                results.append({r.dedupe_key: r.pk for rows in messages_enqueue(events=events) for r in rows})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n * 20,)) for n in range(4)]  # keys 0-59, 20-79, 40-99, 60-119
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert errors == []
    stored = dict(OutboundMessage.objects.values_list("dedupe_key", "pk"))
    assert len(stored) == 120
    for seen in results:  # every caller got the row that is stored under each of its keys
        assert all(stored[key] == pk for key, pk in seen.items())


# --- reminders ------------------------------------------------------------------------------

@pytest.fixture
def start():
    return (timezone.now() + datetime.timedelta(days=5)).astimezone(NY).replace(hour=14, minute=0, second=0, microsecond=0)


def test_reminders_of_many_visits_are_those_of_each_visit(db, start):
    patients = [PortalPatientFactory(), PatientFactory(), PatientFactory(sms_opt_in=False)]
    visits = [VisitReminders(visit_id=f"v{i}", patient=p, start_at=start + datetime.timedelta(hours=i), location_name="Main Street")
              for i, p in enumerate(patients)]

    with transaction.atomic():
        expected = snapshot(r for v in visits for r in visit_reminders_schedule(**vars(v)))
        transaction.set_rollback(True)
    rows = visit_reminders_schedule_many(visits=visits)

    assert [len(r) for r in rows] == [6, 4, 2]
    assert snapshot(r for visit_rows in rows for r in visit_rows) == expected
    assert visit_reminders_schedule_many(visits=visits) == rows  # again: nothing new
    assert OutboundMessage.objects.count() == 12


def test_many_visits_moved_or_cancelled_cancel_their_old_reminders(db, start):
    patients = [PatientFactory() for _ in range(4)]
    visits = [VisitReminders(visit_id=f"m{i}", patient=p, start_at=start) for i, p in enumerate(patients)]
    visit_reminders_schedule_many(visits=visits)
    later = start + datetime.timedelta(days=1)

    visit_reminders_schedule_many(visits=[
        VisitReminders(visit_id="m0", patient=patients[0], start_at=later),  # moved
        VisitReminders(visit_id="m1", patient=patients[1], start_at=start, status="CANCELLED"),
        VisitReminders(visit_id="m2", patient=patients[2], start_at=start),  # unchanged
    ])

    def statuses(visit_id):
        rows = OutboundMessage.objects.filter(dedupe_key__startswith=f"visit_reminder:{visit_id}:")
        return sorted((r.dedupe_key.split(":")[2] == str(int(later.timestamp())), r.status, r.last_error) for r in rows)

    assert statuses("m0") == [(False, S.CANCELLED, "visit moved")] * 4 + [(True, S.PENDING, "")] * 4
    assert statuses("m1") == [(False, S.CANCELLED, "visit cancelled")] * 4
    assert statuses("m2") == statuses("m3") == [(False, S.PENDING, "")] * 4
