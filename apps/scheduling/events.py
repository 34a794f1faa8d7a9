"""Publishing real-time events for the staff scheduling board: always after commit, through
the channel layer (apps/core/events.py). Payloads carry ids, statuses and severities only,
never PHI; consumers re-check access and load what they show.

One channel-layer message per transaction and group: a booking moves a slot twice and creates
a visit (three events), a cancellation moves a visit and a slot and may offer the slot to the
waitlist. What the transaction committed is sent as

    {"type": "board.events", "events": [{"type": "slot.changed", "slot": {...}}, ...]}

to the board group, and to each location's walk-in queue group the events of that location
(an event of a savepoint that is rolled back is dropped with it). The board consumer
(apps/scheduling/consumers.py) re-checks the socket's access once per such message and
forwards each event as its own frame, so browsers see what they always saw."""
from channels.layers import get_channel_layer
from django.db import DEFAULT_DB_ALIAS

from apps.core.events import Publisher

BOARD_GROUP = "scheduling.board"
BATCH_TYPE = "board.events"

# The layer is looked up by name when sending, so tests can replace get_channel_layer here.
board = Publisher("scheduling board", batch_type=BATCH_TYPE, channel_layer=lambda: get_channel_layer())


def location_queue_group(location_id):
    return f"queue.{location_id}"


def publish_board(event_type, payload, *, location_id=None, using=DEFAULT_DB_ALIAS):
    """Send {"type": event_type, ...payload} to the staff board (and the walk-in queue of a
    location when given) once the current transaction commits, in one message with the
    transaction's other events."""
    groups = [BOARD_GROUP] + ([location_queue_group(location_id)] if location_id else [])
    board.publish(groups, event_type, payload, using=using)


# --- payloads -------------------------------------------------------------------------------

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
