"""Slot generation retiring a FREE slot while a patient books it, on PostgreSQL with real
threads and a barrier: the slot ends BOOKED (retirement left it alone) or retired (deleted, or
BLOCKED when it has history, and the booking refused with 409), never both, and a BOOKED slot
is never deleted."""
import datetime
import time

import pytest
from django.utils import timezone

from apps.scheduling import services
from apps.scheduling.exceptions import SlotUnavailable
from apps.scheduling.models import Visit, VisitSlot
from apps.scheduling.selectors import slots_with_two_active_visits
from apps.scheduling.services.slots import RETIRED_REASON
from tests.factories import PortalPatientFactory, StaffFactory
from tests.scheduling.factories import LocationFactory, ProviderFactory, SlotFactory, VisitTypeFactory
from tests.scheduling.test_races import Crowd

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("without_channel_layer")]

TRIALS = 20
# The booking starts after a delay that varies by trial, so that each side sometimes reaches
# the slot's lock first (generation does a few reads before it locks anything).
DELAYS = [0, 0.002, 0.005, 0.01, 0.02, 0.05]


@pytest.fixture
def world(requires_postgres):
    visit_type = VisitTypeFactory(self_bookable=True)
    provider = ProviderFactory(offers=[visit_type])  # no availability: every FREE slot of theirs is to retire
    crowd = Crowd(2)
    yield visit_type, provider, LocationFactory(), crowd
    crowd.close()


def _slot(provider, location, n):
    start = (timezone.now() + datetime.timedelta(days=3)).replace(second=0, microsecond=0) + datetime.timedelta(minutes=30 * n)
    return SlotFactory(provider=provider, location=location, start=start, end=start + datetime.timedelta(minutes=30))


@pytest.mark.parametrize("with_history", [False, True], ids=["untouched-slot", "slot-with-history"])
def test_a_booking_racing_retirement_ends_booked_or_retired_never_both(world, with_history):
    visit_type, provider, location, crowd = world
    staff = StaffFactory(role="front_desk")
    patients = [PortalPatientFactory() for _ in range(TRIALS)]
    outcomes = {"booked": 0, "retired": 0}

    for trial in range(TRIALS):
        slot = _slot(provider, location, trial)
        if with_history:  # blocked and unblocked by staff: FREE, but its row must stay
            services.slot_unblock(slot=services.slot_block(slot=slot, actor=staff), actor=staff)
        book, generate = crowd.run([
            lambda: time.sleep(DELAYS[trial % len(DELAYS)]) or services.booking_create(
                patient=patients[trial], slot=slot, visit_type=visit_type),
            lambda: services.slots_generate(providers=[provider]),
        ])

        assert generate[0] == "ok", repr(generate[1])
        row = VisitSlot.objects.filter(pk=slot.pk).first()
        if book[0] == "ok":
            assert row is not None and row.status == "BOOKED"
            assert generate[1].retired == 0
            assert Visit.objects.filter(slot=slot).active().count() == 1
            outcomes["booked"] += 1
        else:
            assert isinstance(book[1], SlotUnavailable) and book[1].status_code == 409, repr(book[1])
            assert generate[1].retired == 1
            assert not Visit.objects.filter(slot_id=slot.pk).exists()
            if with_history:
                assert row.status == "BLOCKED"
                assert list(row.events.values_list("reason", flat=True))[-1] == RETIRED_REASON
            else:
                assert row is None
            outcomes["retired"] += 1
        if row is not None:
            # The slot left its last FREE state once: held-and-booked or blocked, not both.
            assert row.events.filter(from_status="FREE").count() == (2 if with_history else 1)

    assert outcomes["booked"] + outcomes["retired"] == TRIALS
    assert not slots_with_two_active_visits().exists()
    assert not VisitSlot.objects.filter(provider=provider, status="FREE").exists()
