"""Slot generation: local wall-clock windows, stored in UTC, DST-correct, idempotent, never
touching held or booked slots, minus time off."""
import datetime
import zoneinfo
from io import StringIO

import pytest
from django.core.management import call_command

from apps.scheduling import services
from apps.scheduling.models import AvailabilityException, VisitSlot
from tests.scheduling.factories import LocationFactory, ProviderFactory, WindowFactory

NY = zoneinfo.ZoneInfo("America/New_York")
UTC = datetime.timezone.utc


def _at(y, m, d, h=0, minute=0, tz=UTC):
    return datetime.datetime(y, m, d, h, minute, tzinfo=tz)


def _local_day_slots(provider, day):
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=NY)
    return list(VisitSlot.objects.filter(provider=provider, start__gte=start, start__lt=start + datetime.timedelta(days=1)).order_by("start"))


@pytest.fixture
def sunday_window(db):
    """08:00-17:00 New York, Sundays, 30-minute slots."""
    return WindowFactory(weekday=6, location=LocationFactory(timezone="America/New_York"))


@pytest.mark.parametrize("day,utc_offset_hours", [
    (datetime.date(2026, 3, 1), -5),   # a normal winter Sunday
    (datetime.date(2026, 3, 8), -4),   # spring forward (02:00 -> 03:00)
    (datetime.date(2026, 11, 1), -5),  # fall back (02:00 -> 01:00)
    (datetime.date(2026, 7, 5), -4),   # a summer Sunday
])
def test_window_gives_18_slots_in_local_time_every_sunday_including_dst_days(sunday_window, day, utc_offset_hours):
    services.slots_generate(days=5, now=_at(day.year, day.month, day.day, 0, 0, NY) - datetime.timedelta(days=2))

    slots = _local_day_slots(sunday_window.provider, day)
    assert len(slots) == 18
    first, last = slots[0], slots[-1]
    assert first.start.astimezone(NY).time() == datetime.time(8, 0)
    assert last.start.astimezone(NY).time() == datetime.time(16, 30)
    assert last.end.astimezone(NY).time() == datetime.time(17, 0)
    assert first.start.utcoffset() == datetime.timedelta(0)  # stored in UTC
    assert first.start.astimezone(NY).utcoffset() == datetime.timedelta(hours=utc_offset_hours)
    assert all(s.end - s.start == datetime.timedelta(minutes=30) for s in slots)


def test_night_window_across_the_spring_forward_gap_skips_nonexistent_times(db):
    window = WindowFactory(weekday=6, start_time=datetime.time(1, 0), end_time=datetime.time(4, 0), slot_minutes=30)
    services.slots_generate(days=3, now=_at(2026, 3, 7, 0, 0, NY))
    local = [s.start.astimezone(NY).strftime("%H:%M") for s in _local_day_slots(window.provider, datetime.date(2026, 3, 8))]
    assert local == ["01:00", "01:30", "03:00", "03:30"]


def test_generation_is_idempotent(sunday_window):
    now = _at(2026, 3, 1, 0, 0, NY)
    first = services.slots_generate(days=60, now=now)
    count = VisitSlot.objects.count()
    second = services.slots_generate(days=60, now=now)

    assert first.created == count > 0
    assert second.created == 0
    assert VisitSlot.objects.count() == count


def test_horizon_defaults_to_60_days(sunday_window, settings):
    now = _at(2026, 3, 2, 12, 0, NY)  # a Monday
    services.slots_generate(now=now)
    assert VisitSlot.objects.count() == 18 * 8  # eight Sundays in the next 60 days
    assert VisitSlot.objects.order_by("-start").first().start < now + datetime.timedelta(days=60)


def test_generation_never_touches_held_booked_or_blocked_slots(sunday_window, patient):
    now = _at(2026, 3, 1, 0, 0, NY)
    services.slots_generate(days=1, now=now)
    held, booked, blocked = _local_day_slots(sunday_window.provider, datetime.date(2026, 3, 1))[:3]
    VisitSlot.objects.filter(pk=held.pk).update(status="HELD", hold_kind="DIRECT", held_for_patient=patient,
                                                held_until=now + datetime.timedelta(days=1), hold_token="8b7b1a1c-1a1b-4c1d-8e1f-000000000001")
    VisitSlot.objects.filter(pk=booked.pk).update(status="BOOKED")
    VisitSlot.objects.filter(pk=blocked.pk).update(status="BLOCKED")
    before = {s.pk: (s.status, s.updated_at) for s in VisitSlot.objects.all()}

    result = services.slots_generate(days=1, now=now)

    assert result.created == 0
    assert {s.pk: (s.status, s.updated_at) for s in VisitSlot.objects.all()} == before


def test_past_times_are_not_generated(sunday_window):
    services.slots_generate(days=1, now=_at(2026, 3, 1, 12, 0, NY))  # noon on a Sunday
    assert len(_local_day_slots(sunday_window.provider, datetime.date(2026, 3, 1))) == 9  # 12:30..16:30


def test_time_off_removes_slots_and_blocks_existing_free_ones(sunday_window):
    provider = sunday_window.provider
    now = _at(2026, 3, 1, 0, 0, NY)
    services.slots_generate(days=1, now=now)
    AvailabilityException.objects.create(provider=provider, start=_at(2026, 3, 1, 12, 0, NY), end=_at(2026, 3, 1, 14, 0, NY))

    result = services.slots_generate(days=8, now=now)

    assert result.blocked == 4
    assert VisitSlot.objects.filter(status="BLOCKED").count() == 4
    assert len(_local_day_slots(provider, datetime.date(2026, 3, 8))) == 18  # the next Sunday is untouched


def test_time_off_service_blocks_free_slots_and_reports_booked_ones(sunday_window, front_desk):
    provider = sunday_window.provider
    services.slots_generate(days=1, now=_at(2026, 3, 1, 0, 0, NY))
    slots = _local_day_slots(provider, datetime.date(2026, 3, 1))
    VisitSlot.objects.filter(pk=slots[0].pk).update(status="BOOKED")

    exception, conflicts = services.availability_exception_create(
        provider=provider, start=_at(2026, 3, 1, 8, 0, NY), end=_at(2026, 3, 1, 9, 0, NY), reason="Dentist", actor=front_desk
    )

    assert [c.pk for c in conflicts] == [slots[0].pk]
    assert VisitSlot.objects.get(pk=slots[1].pk).status == "BLOCKED"
    assert VisitSlot.objects.get(pk=slots[1].pk).events.get().reason == "Time off: Dentist"


def test_effective_dates_and_inactive_providers(db):
    window = WindowFactory(weekday=6, effective_from=datetime.date(2026, 3, 8), effective_to=datetime.date(2026, 3, 8))
    inactive = WindowFactory(weekday=6, provider=ProviderFactory(is_active=False))
    services.slots_generate(days=21, now=_at(2026, 3, 1, 0, 0, NY))
    days = {s.start.astimezone(NY).date() for s in VisitSlot.objects.filter(provider=window.provider)}
    assert days == {datetime.date(2026, 3, 8)}
    assert not VisitSlot.objects.filter(provider=inactive.provider).exists()


def test_other_timezones(db):
    window = WindowFactory(weekday=0, location=LocationFactory(timezone="Europe/London"), start_time=datetime.time(9, 0),
                           end_time=datetime.time(10, 0))
    services.slots_generate(days=7, now=_at(2026, 3, 30, 0, 0))  # Monday after the UK change
    starts = sorted(s.start for s in VisitSlot.objects.filter(provider=window.provider))
    assert starts == [_at(2026, 3, 30, 8, 0), _at(2026, 3, 30, 8, 30)]  # 09:00 BST = 08:00 UTC


def test_management_command(sunday_window):
    out = StringIO()
    call_command("generate_slots", "--days", "10", stdout=out)
    assert "Created" in out.getvalue()
    call_command("generate_slots", "--days", "10", stdout=out)
    assert out.getvalue().strip().splitlines()[-1].startswith("Created 0 slot(s)")
