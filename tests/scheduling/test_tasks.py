"""Tasks are called directly; they only call services. Periodic jobs are declared."""
import datetime
from unittest import mock

from django.utils import timezone

from apps.core.periodic import declared
from apps.scheduling import tasks
from apps.scheduling.events import BOARD_GROUP
from apps.scheduling import services
from apps.scheduling.models import VisitRequest, VisitSlot
from tests.scheduling.factories import WindowFactory


def test_periodic_jobs_are_declared():
    jobs = {job.name: job for job in declared()}
    assert jobs["scheduling.expire_holds"].every_seconds == 60
    assert jobs["scheduling.remind_expiring_offers"].every_seconds == 60
    assert jobs["scheduling.generate_slots"].crontab == {"minute": "15", "hour": "3"}


def test_expire_holds_task_releases_expired_offers(make_slot, make_request, front_desk):
    request = make_request()
    slot = make_slot()
    services.visit_request_offer_slots(request=request, slots=[slot], actor=front_desk, now=timezone.now() - datetime.timedelta(hours=25))
    # made 25 h ago with a 24 h hold: already past its deadline
    assert tasks.expire_holds() == {"offers_expired": 1, "slots_released": 1}
    request.refresh_from_db()
    assert request.status == VisitRequest.Status.TRIAGED
    assert tasks.expire_holds() == {"offers_expired": 0, "slots_released": 0}


def test_remind_task(make_slot, make_request, front_desk, patient):
    request = make_request()
    services.visit_request_offer_slots(request=request, slots=[make_slot()], actor=front_desk, now=timezone.now() - datetime.timedelta(hours=23))
    assert tasks.remind_expiring_offers() == 1
    assert tasks.remind_expiring_offers() == 0
    assert patient.user.notifications.filter(kind="offer_expiring_soon").count() == 1


def test_generate_slots_task(db):
    WindowFactory(weekday=timezone.now().weekday())
    first = tasks.generate_slots(days=14)
    assert first["created"] > 0
    assert tasks.generate_slots(days=14) == {"created": 0, "blocked": 0, "retired": 0}
    assert VisitSlot.objects.count() == first["created"]


def test_board_events_are_published_after_commit(make_slot, make_request, front_desk, django_capture_on_commit_callbacks):
    request = make_request()
    with mock.patch("apps.scheduling.events.get_channel_layer") as get_layer:
        layer = get_layer.return_value
        layer.group_send = mock.AsyncMock()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.visit_request_offer_slots(request=request, slots=[make_slot()], actor=front_desk)
        assert callbacks  # nothing sent before commit
        sent_before = layer.group_send.call_count
        for callback in callbacks:
            callback()
    assert sent_before == 0
    # One message to the board for the whole transaction, carrying its events in order.
    board = [c.args[1] for c in layer.group_send.call_args_list if c.args[0] == BOARD_GROUP]
    assert len(board) == 1 and board[0]["type"] == "board.events"
    types = {event["type"] for event in board[0]["events"]}
    assert {"slot.changed", "request.changed"} <= types
    payloads = [event for event in board[0]["events"] if event["type"] == "request.changed"]
    assert set(payloads[0]["request"]) == {"id", "type", "status", "severity", "location_id"}  # ids, no PHI
