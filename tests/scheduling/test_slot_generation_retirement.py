"""Slot generation retires the FREE slots availability no longer produces (deleted when
nothing refers to them, BLOCKED otherwise), brings retired slots back when availability
returns, never touches HELD or BOOKED slots, never undoes staff or time-off blocks, and is
idempotent. Admin edits of availability regenerate at once."""
import datetime
import zoneinfo
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.scheduling import services
from apps.scheduling.models import Mode, SlotEvent, Visit, VisitSlot
from apps.scheduling.services.slots import RESTORED_REASON, RETIRED_REASON
from tests.scheduling.api_support import API, FULL_SCOPES, keyed
from tests.scheduling.factories import LocationFactory, WindowFactory

NY = zoneinfo.ZoneInfo("America/New_York")
DAYS = 7  # covers exactly one occurrence of the window's weekday


@pytest.fixture
def day():
    """Two local days ahead: every slot of the day is in the future, none in the cancellation window."""
    return timezone.now().astimezone(NY).date() + datetime.timedelta(days=2)


@pytest.fixture
def window(provider, location, day):
    """08:00-17:00 New York on `day`'s weekday, 30-minute in-person slots: 18 a week."""
    return WindowFactory(provider=provider, location=location, weekday=day.weekday())


@pytest.fixture
def generated(window):
    services.slots_generate(days=DAYS)
    return _slots(window.provider)


def _slots(provider, **filters):
    return list(VisitSlot.objects.filter(provider=provider, **filters).order_by("start"))


def _at(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=NY)


def _local_times(slots):
    return [s.start.astimezone(NY).strftime("%H:%M") for s in slots]


def _state(provider):
    return {s.pk: (s.status, s.start, s.end, s.location_id, s.mode, s.updated_at) for s in _slots(provider)}


def _reasons(slot):
    return list(slot.events.values_list("reason", flat=True))


def _give_history(slot, front_desk):
    """Blocked and unblocked by staff: FREE again, with an event trail."""
    services.slot_block(slot=slot, actor=front_desk, reason="Meeting")
    services.slot_unblock(slot=slot, actor=front_desk, reason="Meeting moved")


def test_deleting_a_window_deletes_its_free_slots_and_leaves_held_and_booked_ones(generated, patient, visit_type, front_desk):
    provider = generated[0].provider
    held = services.booking_hold(patient=patient, slot=generated[0], visit_type=visit_type)
    booked = services.booking_create(patient=patient, slot=generated[1], visit_type=visit_type).slot
    with_history = generated[2]
    _give_history(with_history, front_desk)
    before = {pk: state for pk, state in _state(provider).items() if pk in (held.pk, booked.pk)}
    generated[0].provider.windows.all().delete()

    result = services.slots_generate(days=DAYS)

    assert (result.created, result.retired) == (0, 16)
    assert not VisitSlot.objects.filter(provider=provider, status="FREE").exists()
    assert {pk: state for pk, state in _state(provider).items() if pk != with_history.pk} == before
    with_history.refresh_from_db()
    assert with_history.status == "BLOCKED"
    assert _reasons(with_history)[-1] == RETIRED_REASON
    assert VisitSlot.objects.filter(provider=provider).count() == 3  # the 15 untouched FREE slots are gone


def test_shortening_a_window_retires_the_slots_it_no_longer_covers(generated, window, day):
    window.end_time = datetime.time(12, 0)
    window.save()

    result = services.slots_generate(days=DAYS)

    assert (result.created, result.retired) == (0, 10)
    slots = _slots(window.provider)
    assert _local_times(slots) == ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert all(s.status == "FREE" for s in slots)
    assert [s.pk for s in slots] == [s.pk for s in generated[:8]]  # the kept ones are the same rows


@pytest.mark.parametrize("change", ["location", "mode"])
def test_moving_a_window_to_another_location_or_mode_replaces_its_slots(generated, window, change, front_desk):
    with_history = generated[5]
    _give_history(with_history, front_desk)
    if change == "location":
        window.location = LocationFactory(timezone="America/New_York")
    else:
        window.mode = Mode.VIRTUAL
    window.save()

    result = services.slots_generate(days=DAYS)

    assert (result.created, result.retired) == (18, 18)
    slots = _slots(window.provider)
    assert len(slots) == 18
    assert {(s.status, s.location_id, s.mode) for s in slots} == {("FREE", window.location_id, window.mode)}
    # Untouched slots were deleted and made afresh; the one with history keeps its row and trail.
    assert {s.pk for s in slots} & {s.pk for s in generated} == {with_history.pk}
    assert _reasons(VisitSlot.objects.get(pk=with_history.pk))[-2:] == [RETIRED_REASON, RESTORED_REASON]


def test_a_new_slot_length_replaces_slots_but_never_overlaps_a_booked_one(generated, window, patient, visit_type):
    booked = services.booking_create(patient=patient, slot=generated[3], visit_type=visit_type).slot  # 09:30-10:00
    window.slot_minutes = 60
    window.save()

    result = services.slots_generate(days=DAYS)

    free = _slots(window.provider, status="FREE")
    # 09:00-10:00 would overlap the booked 09:30 slot: not offered.
    assert _local_times(free) == ["08:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    assert all(s.end - s.start == datetime.timedelta(minutes=60) for s in free)
    assert VisitSlot.objects.get(pk=booked.pk).status == "BOOKED"
    assert (result.created, result.retired) == (8, 17)


def test_an_effective_to_before_the_day_retires_its_slots(generated, window, day):
    window.effective_to = day - datetime.timedelta(days=1)
    window.save()

    result = services.slots_generate(days=DAYS)

    assert result.retired == 18
    assert not VisitSlot.objects.filter(provider=window.provider).exists()


def test_a_deactivated_provider_loses_its_free_slots_in_the_nightly_run(generated, window):
    provider = window.provider
    provider.is_active = False
    provider.save()

    result = services.slots_generate(days=DAYS)  # every provider: inactive ones with FREE slots too

    assert result.retired == 18
    assert not VisitSlot.objects.filter(provider=provider).exists()


def test_a_deactivated_location_loses_its_free_slots(generated, window):
    window.location.is_active = False
    window.location.save()

    assert services.slots_generate(days=DAYS).retired == 18
    assert not VisitSlot.objects.filter(provider=window.provider).exists()


def test_restored_availability_brings_retired_slots_back_but_not_staff_or_time_off_blocks(generated, window, day, front_desk):
    provider = window.provider
    retired_with_history, staff_blocked, time_off = generated[0], generated[1], generated[2]
    _give_history(retired_with_history, front_desk)
    services.slot_block(slot=staff_blocked, actor=front_desk, reason="Meeting")
    exception, _ = services.availability_exception_create(
        provider=provider, start=_at(day, 9), end=_at(day, 9, 30), reason="Dentist", actor=front_desk,
    )
    attrs = {f: getattr(window, f) for f in ("weekday", "start_time", "end_time", "location", "mode", "slot_minutes", "effective_from")}
    window.delete()
    services.slots_generate(days=DAYS)
    assert VisitSlot.objects.get(pk=retired_with_history.pk).status == "BLOCKED"
    exception.delete()  # the time off is over, too

    WindowFactory(provider=provider, **attrs)
    result = services.slots_generate(days=DAYS)

    assert (result.created, result.retired) == (16, 0)  # 15 made afresh, 1 brought back
    statuses = {s.pk: s.status for s in _slots(provider)}
    assert len(statuses) == 18
    assert statuses.pop(retired_with_history.pk) == "FREE"
    assert statuses.pop(staff_blocked.pk) == "BLOCKED"
    assert statuses.pop(time_off.pk) == "BLOCKED"
    assert set(statuses.values()) == {"FREE"}
    assert _reasons(VisitSlot.objects.get(pk=retired_with_history.pk))[-1] == RESTORED_REASON
    assert _reasons(VisitSlot.objects.get(pk=staff_blocked.pk)) == ["Meeting"]
    assert _reasons(VisitSlot.objects.get(pk=time_off.pk)) == ["Time off: Dentist"]


def test_a_retired_slot_blocked_again_by_staff_is_not_brought_back(generated, window, front_desk):
    slot = generated[-1]  # 16:30
    _give_history(slot, front_desk)
    window.end_time = datetime.time(16, 30)
    window.save()
    assert services.slots_generate(days=DAYS).retired == 1
    services.slot_unblock(slot=VisitSlot.objects.get(pk=slot.pk), actor=front_desk)
    services.slot_block(slot=VisitSlot.objects.get(pk=slot.pk), actor=front_desk, reason=RETIRED_REASON)  # same words, by staff
    window.end_time = datetime.time(17, 0)
    window.save()

    result = services.slots_generate(days=DAYS)

    assert VisitSlot.objects.get(pk=slot.pk).status == "BLOCKED"
    assert (result.created, result.retired) == (0, 0)


def test_an_api_key_blocking_with_the_retirement_wording_is_not_unblocked_by_generation(generated, window, api_key_factory):
    slot = generated[-1]  # 16:30, FREE and wanted
    client = keyed(api_key_factory(*FULL_SCOPES)[1])

    response = client.post(f"{API}/slots/{slot.pk}/block/", {"reason": RETIRED_REASON}, format="json")
    result = services.slots_generate(days=DAYS)

    assert response.status_code == 200, response.content
    blocked = VisitSlot.objects.get(pk=slot.pk)
    assert blocked.status == "BLOCKED"
    assert (result.created, result.retired) == (0, 0)
    event = blocked.events.get()
    assert (event.actor_id, event.reason, event.retirement) == (None, RETIRED_REASON, False)


def test_generation_marks_its_own_blocks_and_only_those_come_back(generated, window, front_desk):
    retired, kept = generated[-1], generated[0]
    _give_history(retired, front_desk)
    window.end_time = datetime.time(16, 30)
    window.save()
    services.slots_generate(days=DAYS)

    assert [e.retirement for e in VisitSlot.objects.get(pk=retired.pk).events.all()] == [False, False, True]
    assert not VisitSlot.objects.get(pk=kept.pk).events.exists()
    window.end_time = datetime.time(17, 0)
    window.save()
    services.slots_generate(days=DAYS)
    assert VisitSlot.objects.get(pk=retired.pk).status == "FREE"


def test_a_slot_of_a_cancelled_visit_is_blocked_not_deleted(generated, window, patient, visit_type, front_desk):
    visit = services.booking_create(patient=patient, slot=generated[4], visit_type=visit_type)
    services.visit_cancel(visit=visit, actor=front_desk, reason="Patient called")
    assert VisitSlot.objects.get(pk=visit.slot_id).status == "FREE"
    window.delete()

    result = services.slots_generate(days=DAYS)

    assert result.retired == 18
    slot = VisitSlot.objects.get(pk=visit.slot_id)
    assert slot.status == "BLOCKED"
    assert _reasons(slot)[-1] == RETIRED_REASON
    assert Visit.objects.get(pk=visit.pk).slot_id == slot.pk
    assert VisitSlot.objects.filter(provider=window.provider).count() == 1


def test_running_twice_changes_nothing_the_second_time(generated, window, patient, visit_type, front_desk, day):
    services.booking_create(patient=patient, slot=generated[0], visit_type=visit_type)
    _give_history(generated[1], front_desk)
    services.availability_exception_create(provider=window.provider, start=_at(day, 15), end=_at(day, 16), actor=front_desk)
    window.slot_minutes = 45
    window.save()
    first = services.slots_generate(days=DAYS)
    before = _state(window.provider)
    events = SlotEvent.objects.count()

    second = services.slots_generate(days=DAYS)

    assert first.created and first.retired
    assert (second.created, second.retired, second.blocked) == (0, 0, 0)
    assert _state(window.provider) == before
    assert SlotEvent.objects.count() == events


def test_slots_beyond_the_days_covered_are_not_retired(generated, window):
    """A shorter run (the API's `days`) does not judge slots past the days it computed."""
    window.delete()

    assert services.slots_generate(days=1).retired == 0
    assert VisitSlot.objects.filter(provider=window.provider).count() == 18


def test_the_command_and_the_api_report_retired_slots(generated, window, api_key_factory):
    window.end_time = datetime.time(16, 0)
    window.save()
    out = StringIO()

    call_command("generate_slots", "--days", str(DAYS), stdout=out)
    window.end_time = datetime.time(15, 0)
    window.save()
    response = keyed(api_key_factory(*FULL_SCOPES)[1]).post(f"{API}/slots/generate/", {"days": DAYS}, format="json")

    assert out.getvalue().strip() == "Created 0 slot(s); retired 2 no longer in availability; blocked 0 for time off."
    assert response.status_code == 200
    assert response.json() == {"created": 0, "blocked": 0, "retired": 2}


# --- admin: a change takes effect at once -------------------------------------------------------

def test_deleting_a_window_in_the_admin_retires_its_slots_at_once(generated, window, client_for, clinic_admin):
    response = client_for(clinic_admin).post(reverse("admin:scheduling_availabilitywindow_delete", args=[window.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not VisitSlot.objects.filter(provider=window.provider).exists()


def test_editing_a_window_in_the_admin_regenerates_at_once(generated, window, day, client_for, clinic_admin):
    data = {
        "provider": window.provider_id, "weekday": window.weekday, "start_time": "08:00", "end_time": "10:00",
        "location": window.location_id, "mode": window.mode, "slot_minutes": 30, "effective_from": window.effective_from.isoformat(),
        "effective_to": "",
    }

    response = client_for(clinic_admin).post(reverse("admin:scheduling_availabilitywindow_change", args=[window.pk]), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    on_the_day = _slots(window.provider, start__gte=_at(day, 0), start__lt=_at(day, 23, 59))
    assert _local_times(on_the_day) == ["08:00", "08:30", "09:00", "09:30"]
    assert _local_times(_slots(window.provider))[-1] == "09:30"  # every later week too (the default horizon)


def test_deactivating_a_provider_in_the_admin_retires_its_slots_at_once(generated, window, client_for, clinic_admin):
    provider = window.provider
    data = {
        "user": provider.user_id, "specialty": provider.specialty, "credentials": provider.credentials,
        "licensed_states": '["NY"]', "visit_types": [str(v.pk) for v in provider.visit_types.all()],
        # is_active left out: an unticked box
        "windows-TOTAL_FORMS": "1", "windows-INITIAL_FORMS": "1", "windows-MIN_NUM_FORMS": "0", "windows-MAX_NUM_FORMS": "1000",
        "windows-0-id": window.pk, "windows-0-provider": provider.pk, "windows-0-weekday": window.weekday,
        "windows-0-start_time": "08:00", "windows-0-end_time": "17:00", "windows-0-location": window.location_id,
        "windows-0-mode": window.mode, "windows-0-slot_minutes": 30, "windows-0-effective_from": window.effective_from.isoformat(),
        "windows-0-effective_to": "",
    }

    response = client_for(clinic_admin).post(reverse("admin:scheduling_provider_change", args=[provider.pk]), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    provider.refresh_from_db()
    assert provider.is_active is False
    assert not VisitSlot.objects.filter(provider=provider).exists()
