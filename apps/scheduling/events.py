"""Publishing real-time events for the staff scheduling board: always after commit, through
the channel layer. Payloads carry ids, statuses and severities only, never PHI; consumers
re-check access and load what they show."""
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

BOARD_GROUP = "scheduling.board"


def location_queue_group(location_id):
    return f"queue.{location_id}"


def _send_after_commit(groups, event_type, payload):
    def send():
        layer = get_channel_layer()
        if layer is None:
            return
        for group in groups:
            async_to_sync(layer.group_send)(group, {"type": event_type, **payload})

    transaction.on_commit(send)


def publish_board(event_type, payload, *, location_id=None):
    """Send {"type": event_type, ...payload} to the staff board (and the walk-in queue of a
    location when given), once the current transaction commits."""
    groups = [BOARD_GROUP]
    if location_id:
        groups.append(location_queue_group(location_id))
    _send_after_commit(groups, event_type, payload)


def request_payload(request):
    return {
        "request": {
            "id": str(request.id),
            "type": request.request_type,
            "status": request.status,
            "severity": request.severity,
            "location_id": str(request.location_id) if request.location_id else None,
        }
    }


def slot_payload(slot):
    return {"slot": {"id": str(slot.id), "provider_id": str(slot.provider_id), "status": slot.status, "start": slot.start.isoformat()}}


def visit_payload(visit):
    return {
        "visit": {
            "id": str(visit.id),
            "status": visit.status,
            "provider_id": str(visit.provider_id),
            "location_id": str(visit.location_id),
            "start": visit.start.isoformat(),
        }
    }
