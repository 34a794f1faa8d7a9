"""The patient's reminder before surgery: one outbox row per channel, keyed by case and booked
start, due a day before; moving the booking cancels it and queues the new one; booking the same
time again queues nothing more; cancelling the case cancels it; a booking inside the window gets
none. The words carry the date and place only."""
import datetime

import pytest
from django.utils import timezone

from apps.consents import services
from apps.consents.services.cases import CASE_REMINDER_BEFORE
from apps.messaging.models import Channel, OutboundMessage
from tests.consents.factories import RoomFactory

pytestmark = pytest.mark.django_db
PENDING, CANCELLED = OutboundMessage.Status.PENDING, OutboundMessage.Status.CANCELLED


def reminders(case, status=None):
    rows = OutboundMessage.objects.filter(kind="case_reminder", dedupe_key__startswith=f"case_reminder:{case.pk}:")
    return rows.filter(status=status) if status else rows


def _at(days, hour=10):
    return (timezone.now() + datetime.timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def test_booking_the_theatre_queues_a_reminder_a_day_before(flow):
    start = _at(7)

    flow.book(start=start)

    rows = list(reminders(flow.case))
    assert {row.channel for row in rows} == {Channel.SMS, Channel.EMAIL}
    assert all(row.status == PENDING for row in rows)
    assert all(row.dedupe_key.startswith(f"case_reminder:{flow.case.pk}:{int(start.timestamp())}:") for row in rows)
    assert all(row.due_at >= start - CASE_REMINDER_BEFORE for row in rows)  # quiet hours may push it later
    assert all(row.due_at <= start for row in rows)
    sms = next(row for row in rows if row.channel == Channel.SMS)
    assert "procedure" in sms.body and "blepharoplasty" not in sms.body.lower()


def test_moving_the_booking_cancels_the_old_reminder_and_queues_a_new_one(flow):
    room = RoomFactory()
    first, second = _at(7), _at(9, hour=13)
    flow.book(room=room, start=first)

    services.theatre_book(case=flow.case, room=room, start=second, end=second + datetime.timedelta(hours=2),
                          actor=flow.surgeon_user)

    old = reminders(flow.case).filter(dedupe_key__startswith=f"case_reminder:{flow.case.pk}:{int(first.timestamp())}:")
    new = reminders(flow.case).filter(dedupe_key__startswith=f"case_reminder:{flow.case.pk}:{int(second.timestamp())}:")
    assert set(old.values_list("status", flat=True)) == {CANCELLED}
    assert set(new.values_list("status", flat=True)) == {PENDING} and new.count() == 2


def test_booking_the_same_time_again_queues_nothing_more(flow):
    room = RoomFactory()
    start = _at(6)
    flow.book(room=room, start=start)
    before = reminders(flow.case).count()

    services.theatre_book(case=flow.case, room=room, start=start, end=start + datetime.timedelta(hours=2),
                          actor=flow.surgeon_user)

    assert reminders(flow.case).count() == before
    assert reminders(flow.case, status=PENDING).count() == before


def test_cancelling_the_case_cancels_its_reminder(flow):
    flow.book(start=_at(5))

    services.case_cancel(case=flow.case, actor=flow.surgeon_user, reason="Patient unwell")

    assert reminders(flow.case).exists()
    assert not reminders(flow.case, status=PENDING).exists()


def test_a_booking_inside_the_reminder_window_gets_no_reminder(flow):
    flow.book(start=timezone.now() + datetime.timedelta(hours=10))

    assert not reminders(flow.case).exists()
