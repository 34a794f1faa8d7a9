"""Appointment reminders (the generic part; wiring to scheduling's Visit comes later)."""
import datetime
import zoneinfo

import pytest
from django.utils import timezone

from apps.messaging.models import Channel, OutboundMessage
from apps.messaging.reminders import visit_reminders_cancel, visit_reminders_schedule
from tests.messaging.outbox_helpers import no_kick  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_kick")
S = OutboundMessage.Status
NY = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def start():
    return (timezone.now() + datetime.timedelta(days=5)).astimezone(NY).replace(hour=14, minute=0, second=0, microsecond=0)


def test_one_reminder_per_offset_per_channel_due_before_the_visit(patient, start):
    rows = visit_reminders_schedule(visit_id="v1", patient=patient, start_at=start, location_name="Main Street")

    sms = sorted((r for r in rows if r.channel == Channel.SMS), key=lambda r: r.due_at)
    assert [start - r.due_at for r in sms] == [datetime.timedelta(hours=48), datetime.timedelta(hours=2)]
    assert len(rows) == 6  # 2 offsets x (sms, email, in-app)
    assert all(r.kind == "visit_reminder" for r in rows)
    assert "14:00" in sms[0].body and "Main Street" in sms[0].body


def test_scheduling_twice_creates_nothing_new(patient, start):
    visit_reminders_schedule(visit_id="v1", patient=patient, start_at=start)
    visit_reminders_schedule(visit_id="v1", patient=patient, start_at=start)
    assert OutboundMessage.objects.count() == 6


def test_offsets_already_past_are_skipped(patient):
    soon = timezone.now() + datetime.timedelta(hours=5)
    rows = visit_reminders_schedule(visit_id="v2", patient=patient, start_at=soon)
    assert {soon - r.due_at for r in rows} == {datetime.timedelta(hours=2)}


def test_offsets_come_from_settings(patient, start, settings):
    settings.MESSAGING_REMINDER_OFFSETS_HOURS = [24.0]
    rows = visit_reminders_schedule(visit_id="v3", patient=patient, start_at=start, )
    assert {start - r.due_at for r in rows} == {datetime.timedelta(hours=24)}


def test_a_reschedule_cancels_the_old_reminders(patient, start):
    visit_reminders_schedule(visit_id="v4", patient=patient, start_at=start)
    moved = start + datetime.timedelta(days=1)
    visit_reminders_schedule(visit_id="v4", patient=patient, start_at=moved)

    assert OutboundMessage.objects.filter(status=S.CANCELLED).count() == 6
    live = OutboundMessage.objects.filter(status=S.PENDING)
    assert live.count() == 6 and all(moved - r.due_at in {datetime.timedelta(hours=48), datetime.timedelta(hours=2)} for r in live)


def test_a_cancelled_visit_cancels_its_pending_reminders(patient, start):
    visit_reminders_schedule(visit_id="v5", patient=patient, start_at=start)
    visit_reminders_schedule(visit_id="v5", patient=patient, start_at=start, status="CANCELLED")
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {S.CANCELLED}
    assert visit_reminders_cancel(visit_id="v5") == 0


def test_a_reminder_is_not_pushed_past_the_visit_by_quiet_hours(patient):
    patient.quiet_hours_start, patient.quiet_hours_end = datetime.time(21), datetime.time(9)
    patient.timezone = "America/New_York"
    patient.save()
    start = (timezone.now() + datetime.timedelta(days=3)).astimezone(NY).replace(hour=8, minute=30, second=0, microsecond=0)

    rows = [r for r in visit_reminders_schedule(visit_id="v6", patient=patient, start_at=start) if r.channel == Channel.SMS]
    two_hour = next(r for r in rows if start - r.due_at <= datetime.timedelta(hours=2))
    forty_eight = next(r for r in rows if start - r.due_at > datetime.timedelta(hours=2))

    assert two_hour.due_at == start - datetime.timedelta(hours=2)  # 06:30: quiet, but 09:00 would be too late
    assert forty_eight.due_at.astimezone(NY).time() == datetime.time(9, 0)  # 08:30 two days before -> 09:00


def test_reminder_text_carries_no_visit_reason(patient, start):
    rows = visit_reminders_schedule(visit_id="v7", patient=patient, start_at=start, location_name="Clinic A")
    for r in rows:
        assert "reason" not in r.body.lower()
