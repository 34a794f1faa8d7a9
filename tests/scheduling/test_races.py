"""Races on PostgreSQL with real threads and a barrier: exact winner counts, only the 409
domain error for the losers, and no slot ever holds two active visits."""
import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from apps.scheduling import services
from apps.scheduling.exceptions import OfferExpired, OfferNotOpen, SlotUnavailable
from apps.scheduling.models import Visit, VisitRequest, VisitSlot
from apps.scheduling.selectors import slots_with_two_active_visits
from tests.scheduling.factories import LocationFactory, ProviderFactory, SlotFactory, VisitRequestFactory, VisitTypeFactory
from tests.factories import PortalPatientFactory, StaffFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("without_channel_layer")]


class Crowd:
    """`size` long-lived threads (one DB connection each, reused across trials), started
    together by a barrier for each trial. Connections are closed at the end."""

    def __init__(self, size):
        self.size = size
        self.pool = ThreadPoolExecutor(max_workers=size)

    def run(self, calls):
        assert len(calls) == self.size
        barrier = threading.Barrier(self.size)

        def one(call):
            barrier.wait(timeout=30)
            try:
                return ("ok", call())
            except Exception as exc:  # noqa: BLE001 - we classify every outcome
                return ("error", exc)

        return [f.result(timeout=60) for f in [self.pool.submit(one, c) for c in calls]]

    def close(self):
        barrier = threading.Barrier(self.size)

        def close_connection():
            barrier.wait(timeout=30)  # every worker thread runs exactly one of these
            connection.close()

        for f in [self.pool.submit(close_connection) for _ in range(self.size)]:
            f.result(timeout=60)
        self.pool.shutdown()


@pytest.fixture
def crowd():
    crowds = []

    def make(size):
        crowds.append(Crowd(size))
        return crowds[-1]

    yield make
    for c in crowds:
        c.close()


@pytest.fixture
def setup_booking(requires_postgres):
    visit_type = VisitTypeFactory(self_bookable=True)
    provider = ProviderFactory(offers=[visit_type])
    location = LocationFactory()
    return visit_type, provider, location


def _slot(provider, location, n):
    start = (timezone.now() + datetime.timedelta(days=3)).replace(second=0, microsecond=0) + datetime.timedelta(minutes=30 * n)
    return SlotFactory(provider=provider, location=location, start=start, end=start + datetime.timedelta(minutes=30))


def test_twenty_patients_booking_one_slot_exactly_one_wins(setup_booking, crowd):
    visit_type, provider, location = setup_booking
    patients = [PortalPatientFactory() for _ in range(20)]
    threads = crowd(20)

    for trial in range(50):
        slot = _slot(provider, location, trial)
        outcomes = threads.run([
            (lambda p=p: services.booking_create(patient=p, slot=slot, visit_type=visit_type, idempotency_key=f"t{trial}"))
            for p in patients
        ])
        winners = [v for kind, v in outcomes if kind == "ok"]
        errors = [e for kind, e in outcomes if kind == "error"]
        assert len(winners) == 1, f"trial {trial}: {len(winners)} winners"
        assert all(isinstance(e, SlotUnavailable) and e.status_code == 409 for e in errors), [repr(e) for e in errors]
        assert Visit.objects.filter(slot=slot).active().count() == 1
        assert VisitSlot.objects.get(pk=slot.pk).status == "BOOKED"

    assert not slots_with_two_active_visits().exists()
    assert Visit.objects.count() == 50


def test_accept_racing_the_expiry_job_ends_booked_or_expired_never_both(setup_booking, crowd):
    visit_type, provider, location = setup_booking
    staff = StaffFactory(role="front_desk")
    patient = PortalPatientFactory()
    threads = crowd(2)
    base = timezone.now()
    results = {"booked": 0, "expired": 0}

    for trial in range(30):
        slot = _slot(provider, location, trial)
        request = VisitRequestFactory(patient=patient, visit_type=visit_type)
        services.visit_request_offer_slots(request=request, slots=[slot], actor=staff, now=base, hold_hours=1)
        deadline = base + datetime.timedelta(hours=1)
        accept, expire = threads.run([
            lambda: services.visit_request_accept_offer(request=request, slot=slot, actor=patient.user,
                                                        now=deadline - datetime.timedelta(milliseconds=1)),
            lambda: services.offers_expire(now=deadline + datetime.timedelta(milliseconds=1)),
        ])
        request.refresh_from_db()
        slot.refresh_from_db()
        assert expire[0] == "ok", repr(expire[1])
        booked = accept[0] == "ok"
        if booked:
            assert (request.status, slot.status) == (VisitRequest.Status.CONVERTED_TO_VISIT, "BOOKED")
            assert expire[1]["offers_expired"] == 0
            results["booked"] += 1
        else:
            assert isinstance(accept[1], (OfferNotOpen, OfferExpired)) and accept[1].status_code == 409, repr(accept[1])
            assert (request.status, slot.status) == (VisitRequest.Status.TRIAGED, "FREE")
            assert expire[1]["offers_expired"] == 1
            assert not Visit.objects.filter(request=request).exists()
            results["expired"] += 1
    assert results["booked"] + results["expired"] == 30
    assert not slots_with_two_active_visits().exists()


def test_two_staff_offering_the_same_slot_one_succeeds(setup_booking, crowd):
    visit_type, provider, location = setup_booking
    desk_a, desk_b = StaffFactory(role="front_desk"), StaffFactory(role="nurse")
    threads = crowd(2)

    for trial in range(20):
        slot = _slot(provider, location, trial)
        first, second = (VisitRequestFactory(visit_type=visit_type) for _ in range(2))
        outcomes = threads.run([
            lambda: services.visit_request_offer_slots(request=first, slots=[slot], actor=desk_a),
            lambda: services.visit_request_offer_slots(request=second, slots=[slot], actor=desk_b),
        ])
        assert sorted(kind for kind, _ in outcomes) == ["error", "ok"], [repr(v) for _, v in outcomes]
        error = next(v for kind, v in outcomes if kind == "error")
        assert isinstance(error, SlotUnavailable) and error.status_code == 409
        statuses = sorted(VisitRequest.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True))
        assert statuses == ["AWAITING_PATIENT_CONFIRMATION", "TRIAGED"]


def test_two_workers_running_the_expiry_job_process_each_offer_once(setup_booking, crowd):
    visit_type, provider, location = setup_booking
    staff = StaffFactory(role="front_desk")
    base = timezone.now()
    patients = []
    for n in range(8):
        request = VisitRequestFactory(visit_type=visit_type)
        patients.append(request.patient)
        services.visit_request_offer_slots(request=request, slots=[_slot(provider, location, 2 * n), _slot(provider, location, 2 * n + 1)],
                                           actor=staff, now=base, hold_hours=1)
    later = base + datetime.timedelta(hours=2)

    outcomes = crowd(2).run([lambda: services.offers_expire(now=later), lambda: services.offers_expire(now=later)])

    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    assert sum(r["offers_expired"] for _, r in outcomes) == 8
    assert sum(r["slots_released"] for _, r in outcomes) == 16
    for p in patients:
        assert p.user.notifications.filter(kind="offer_expired").count() == 1
    assert staff.notifications.filter(kind="offer_expired").count() == 8
