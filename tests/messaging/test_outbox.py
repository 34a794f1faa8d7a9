"""message_enqueue: channels by preference, dedupe, quiet hours, the on-commit kick, and
notify(outbox=True)."""
import datetime
import threading
import zoneinfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.messaging.models import Channel, Notification, OutboundMessage, SmsOptOut
from apps.messaging.outbox import apply_quiet_hours, message_enqueue
from apps.messaging.services import notify, notify_many
from tests.factories import PortalPatientFactory
from tests.messaging.outbox_helpers import no_kick  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_kick")
NY = zoneinfo.ZoneInfo("America/New_York")


def channels(rows):
    return sorted(r.channel for r in rows)


def test_enqueue_uses_every_channel_the_patient_allows(patient):
    rows = message_enqueue(kind="visit_booked", patient=patient, dedupe_key="visit_booked:v1", context={"visit_time": "Mon 2 Mar, 10:00"})

    assert channels(rows) == ["email", "in_app", "sms"]
    sms = next(r for r in rows if r.channel == Channel.SMS)
    assert sms.to == patient.phone and sms.status == OutboundMessage.Status.PENDING
    assert "Mon 2 Mar, 10:00" in sms.body
    assert next(r for r in rows if r.channel == Channel.EMAIL).to == patient.email
    assert next(r for r in rows if r.channel == Channel.IN_APP).user == patient.user


def test_enqueue_respects_opt_outs_and_stop(patient):
    patient.email_opt_in = False
    patient.save()
    SmsOptOut.objects.create(phone=patient.phone, keyword="STOP")

    rows = message_enqueue(kind="visit_booked", patient=patient, dedupe_key="k1")

    assert channels(rows) == ["in_app"]


def test_enqueue_without_sms_opt_in_or_phone_sends_no_sms(db):
    no_phone = PortalPatientFactory(phone="")
    declined = PortalPatientFactory(sms_opt_in=False)

    assert Channel.SMS not in channels(message_enqueue(kind="follow_up", patient=no_phone, dedupe_key="a"))
    assert Channel.SMS not in channels(message_enqueue(kind="follow_up", patient=declined, dedupe_key="b"))


def test_channels_argument_narrows_the_choice(patient):
    rows = message_enqueue(kind="follow_up", patient=patient, dedupe_key="k", channels=[Channel.SMS])
    assert channels(rows) == ["sms"]


def test_the_same_event_is_queued_once(patient):
    first = message_enqueue(kind="visit_reminder", patient=patient, dedupe_key="visit_reminder:v9:48h")
    second = message_enqueue(kind="visit_reminder", patient=patient, dedupe_key="visit_reminder:v9:48h")

    assert {r.pk for r in first} == {r.pk for r in second}
    assert OutboundMessage.objects.count() == 3


def test_a_duplicate_event_inside_an_outer_transaction_finds_the_row_and_leaves_the_transaction_usable(patient):
    (first,) = message_enqueue(kind="follow_up", patient=patient, dedupe_key="dup", channels=[Channel.SMS])

    with transaction.atomic():
        with CaptureQueriesContext(connection) as ctx:
            (again,) = message_enqueue(kind="follow_up", patient=patient, dedupe_key="dup", channels=[Channel.SMS])
        # The outer transaction still works after the refused INSERT: it can write and read.
        SmsOptOut.objects.create(phone="+15550001111")
        assert OutboundMessage.objects.count() == 1

    assert again.pk == first.pk and again.dedupe_key == "dup:sms"
    assert SmsOptOut.objects.filter(phone="+15550001111").exists()  # committed with it
    # Insert first (no read before it) with ON CONFLICT DO NOTHING, so no savepoint is needed;
    # then the key's id is read back, and the existing row.
    statements = [q["sql"].split()[0].upper() for q in ctx.captured_queries if "outboundmessage" in q["sql"] or "SAVEPOINT" in q["sql"]]
    assert statements == ["INSERT", "SELECT", "SELECT"], statements
    insert = next(q["sql"] for q in ctx.captured_queries if q["sql"].startswith("INSERT"))
    assert ("ON CONFLICT DO NOTHING" in insert) if connection.vendor == "postgresql" else ("INSERT OR IGNORE" in insert)


@pytest.mark.django_db(transaction=True)
def test_concurrent_enqueue_of_one_event_creates_one_row(requires_postgres):
    patient = PortalPatientFactory()
    barrier = threading.Barrier(4)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            with transaction.atomic():
                results.append([r.pk for r in message_enqueue(kind="follow_up", patient=patient, dedupe_key="race", channels=[Channel.SMS])])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert errors == []
    assert OutboundMessage.objects.filter(dedupe_key="race:sms").count() == 1
    assert len({ids[0] for ids in results}) == 1


def test_enqueue_kicks_delivery_after_commit(patient, settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.MESSAGING_KICK_ENABLED = True
    settings.MESSAGING_CELERY_QUEUE = "q-test"
    sent = []
    from apps.messaging import tasks

    monkeypatch.setattr(tasks.deliver_message, "apply_async", lambda args, **kw: sent.append((args, kw)))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rows = message_enqueue(kind="follow_up", patient=patient, dedupe_key="kick", channels=[Channel.SMS])

    assert len(callbacks) == 1
    assert sent == [([str(rows[0].pk)], {"countdown": 0, "queue": "q-test"})]


def test_a_row_due_later_is_left_to_the_periodic_job(patient, settings, django_capture_on_commit_callbacks):
    settings.MESSAGING_KICK_ENABLED = True
    with django_capture_on_commit_callbacks() as callbacks:
        message_enqueue(kind="follow_up", patient=patient, dedupe_key="later", channels=[Channel.SMS],
                        due_at=timezone.now() + datetime.timedelta(hours=5))
    assert callbacks == []


def test_a_duplicate_enqueue_kicks_nothing(patient, settings, django_capture_on_commit_callbacks, monkeypatch):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="once", channels=[Channel.SMS])
    settings.MESSAGING_KICK_ENABLED = True
    with django_capture_on_commit_callbacks() as callbacks:
        message_enqueue(kind="follow_up", patient=patient, dedupe_key="once", channels=[Channel.SMS])
    assert callbacks == []


# --- quiet hours ----------------------------------------------------------------------------

def at_ny(*args):
    return datetime.datetime(*args, tzinfo=NY)


def test_quiet_hours_move_a_message_to_their_end(patient):
    patient.quiet_hours_start, patient.quiet_hours_end = datetime.time(21), datetime.time(8)
    patient.timezone = "America/New_York"

    assert apply_quiet_hours(patient, at_ny(2026, 3, 2, 23, 30)) == at_ny(2026, 3, 3, 8, 0)
    assert apply_quiet_hours(patient, at_ny(2026, 3, 3, 6, 0)) == at_ny(2026, 3, 3, 8, 0)
    assert apply_quiet_hours(patient, at_ny(2026, 3, 3, 12, 0)) == at_ny(2026, 3, 3, 12, 0)


def test_quiet_hours_within_one_day_and_in_the_patients_timezone(patient):
    patient.quiet_hours_start, patient.quiet_hours_end = datetime.time(13), datetime.time(14)
    patient.timezone = "America/Los_Angeles"
    la = zoneinfo.ZoneInfo("America/Los_Angeles")

    inside = datetime.datetime(2026, 6, 1, 13, 30, tzinfo=la)
    assert apply_quiet_hours(patient, inside) == datetime.datetime(2026, 6, 1, 14, 0, tzinfo=la)
    # 13:30 in New York is 10:30 in Los Angeles: not quiet for this patient.
    assert apply_quiet_hours(patient, at_ny(2026, 6, 1, 13, 30)) == at_ny(2026, 6, 1, 13, 30)


def test_enqueue_applies_quiet_hours_to_sms_and_email_not_in_app_nor_urgent(patient):
    patient.quiet_hours_start, patient.quiet_hours_end = datetime.time(21), datetime.time(8)
    patient.timezone = "America/New_York"
    patient.save()
    night = at_ny(2026, 3, 2, 23, 0)

    rows = {r.channel: r for r in message_enqueue(kind="follow_up", patient=patient, dedupe_key="q", due_at=night)}
    urgent = message_enqueue(kind="assigned_immediately", patient=patient, dedupe_key="u", due_at=night, urgent=True)

    assert rows[Channel.SMS].due_at == at_ny(2026, 3, 3, 8, 0) == rows[Channel.SMS].next_attempt_at
    assert rows[Channel.EMAIL].due_at == at_ny(2026, 3, 3, 8, 0)
    assert rows[Channel.IN_APP].due_at == night
    assert {r.due_at for r in urgent} == {night}


def test_quiet_hours_never_push_past_not_after(patient):
    patient.quiet_hours_start, patient.quiet_hours_end = datetime.time(21), datetime.time(8)
    patient.save()
    night = at_ny(2026, 3, 2, 23, 0)
    rows = message_enqueue(kind="visit_reminder", patient=patient, dedupe_key="na", due_at=night,
                           not_after=at_ny(2026, 3, 3, 0, 30), channels=[Channel.SMS])
    assert rows[0].due_at == night


# --- notify(outbox=True) --------------------------------------------------------------------

def test_notify_keeps_its_in_app_behaviour_by_default(patient):
    n = notify(user=patient.user, kind="offer_made", title="Offer", body="Dermatology follow-up for rash")
    assert isinstance(n, Notification)
    assert OutboundMessage.objects.count() == 0


def test_notify_with_outbox_queues_sms_and_email_without_the_in_app_text(patient):
    notify(user=patient.user, kind="offer_made", title="Offer for your rash", body="Reason: suspected melanoma",
           outbox=True, context={"deadline": "Tue 3 Mar 17:00", "reason": "melanoma"}, dedupe_key="offer:1")

    rows = OutboundMessage.objects.order_by("channel")
    assert [r.channel for r in rows] == ["email", "sms"]
    for row in rows:
        assert "melanoma" not in row.body and "rash" not in row.body and "rash" not in row.subject
        assert "Tue 3 Mar 17:00" in row.body
    assert Notification.objects.count() == 1  # in-app stays the notify() row, not a second one


def test_notify_with_outbox_for_staff_queues_nothing(front_desk):
    notify(user=front_desk, kind="offer_declined", title="Declined", outbox=True)
    assert OutboundMessage.objects.count() == 0


def test_notify_many_with_outbox_gives_each_user_their_own_key(db):
    a, b = PortalPatientFactory(), PortalPatientFactory()
    notify_many(users=[a.user, b.user], kind="follow_up", title="t", outbox=True, dedupe_key="fu:1")
    assert OutboundMessage.objects.filter(channel=Channel.SMS).count() == 2
