"""Theatre race on PostgreSQL with real threads and a barrier: 20 cases try to book overlapping
times in one room at once, over 20 trials; exactly one wins each trial, the others get the 409
TheatreUnavailable, and the room never holds two overlapping BOOKED rows."""
import datetime
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from apps.consents import services
from apps.consents.exceptions import TheatreUnavailable
from apps.consents.models import TheatreBooking
from tests.consents.factories import Flow, RoomFactory, TemplateFactory
from tests.factories import PortalPatientFactory
from tests.scheduling.factories import ProviderFactory

pytestmark = pytest.mark.django_db(transaction=True)
THREADS, TRIALS = 20, 20


class Crowd:
    """`size` long-lived threads (one database connection each), started together by a barrier."""

    def __init__(self, size):
        self.size = size
        self.pool = ThreadPoolExecutor(max_workers=size)

    def run(self, calls):
        barrier = threading.Barrier(self.size)

        def one(call):
            barrier.wait(timeout=30)
            try:
                return ("ok", call())
            except Exception as exc:  # noqa: BLE001 - every outcome is classified below
                return ("error", exc)

        return [f.result(timeout=60) for f in [self.pool.submit(one, c) for c in calls]]

    def close(self):
        barrier = threading.Barrier(self.size)

        def close_connection():
            barrier.wait(timeout=30)
            connection.close()

        for f in [self.pool.submit(close_connection) for _ in range(self.size)]:
            f.result(timeout=60)
        self.pool.shutdown()


def overlapping(room):
    """Every pair of BOOKED rows of `room` whose times overlap (none, ever)."""
    rows = list(TheatreBooking.objects.filter(room=room, status="BOOKED").order_by("start").values_list("start", "end"))
    return [(a, b) for a, b in zip(rows, rows[1:]) if b[0] < a[1]]


def test_twenty_cases_booking_overlapping_times_in_one_room_exactly_one_wins_each_trial(requires_postgres):
    with mock.patch("apps.messaging.events.get_channel_layer", return_value=None):
        template = TemplateFactory()
        cases = []
        for _ in range(THREADS):
            flow = Flow(PortalPatientFactory(), surgeon=ProviderFactory(specialty="Surgery"), template=template)
            cases.append(flow.case_create())
        room = RoomFactory()
        base = (timezone.now() + datetime.timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
        crowd = Crowd(THREADS)
        try:
            for trial in range(TRIALS):
                start = base + datetime.timedelta(days=trial)
                calls = [
                    (lambda case=case, i=i: services.theatre_book(
                        case=case, room=room, start=start + datetime.timedelta(minutes=5 * i),
                        end=start + datetime.timedelta(minutes=5 * i, hours=2)))
                    for i, case in enumerate(cases)
                ]
                outcomes = crowd.run(calls)
                wins = [value for kind, value in outcomes if kind == "ok"]
                losses = [value for kind, value in outcomes if kind == "error"]
                assert len(wins) == 1, (trial, outcomes)
                assert all(isinstance(e, TheatreUnavailable) and e.code == "theatre_unavailable" for e in losses), losses
                day = TheatreBooking.objects.filter(room=room, status="BOOKED", start__gte=start,
                                                    start__lt=start + datetime.timedelta(days=1))
                assert list(day.values_list("pk", flat=True)) == [wins[0].pk]
                assert overlapping(room) == []
        finally:
            crowd.close()
