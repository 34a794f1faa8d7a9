"""Publishing real-time events for the staff scheduling board: always after commit, through
the channel layer. Payloads carry ids, statuses and severities only, never PHI; consumers
re-check access and load what they show.

One channel-layer message per transaction and group: a booking moves a slot twice and creates
a visit (three events), a cancellation moves a visit and a slot and may offer the slot to the
waitlist. Each event is registered with `transaction.on_commit` as it happens (an event of a
savepoint that is rolled back is dropped with it), and one callback after them sends what
the transaction committed:

    {"type": "board.events", "events": [{"type": "slot.changed", "slot": {...}}, ...]}

to the board group, and to each location's walk-in queue group the events of that location.
The board consumer (apps/scheduling/consumers.py) re-checks the socket's access once per such
message and forwards each event as its own frame, so browsers see what they always saw.

Delivery from a plain sync thread (gunicorn's workers, Celery, management commands) goes
through one event loop per process, kept in a daemon thread, so the Redis layer keeps its
connection: `async_to_sync` there starts a thread and an event loop per call, and the Redis
layer, whose connections belong to an event loop, connects to Redis and disconnects each time
(~2.7 ms of CPU per call, 4 calls per booking before; bench/README.md). Code that runs under an
event loop (daphne, Channels consumers, async tests) keeps `async_to_sync`, which hands the
send to that loop, as does the in-memory layer, whose queues belong to the loop that reads
them. A failed send is logged, never raised: the transaction has committed, and the other
on-commit callbacks (queued messages, tasks) must still run; pages refetch on reconnect."""
import asyncio
import functools
import logging
import os
import threading

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)

BOARD_GROUP = "scheduling.board"
BATCH_TYPE = "board.events"
SEND_TIMEOUT = 5  # seconds a request may wait for Redis after its commit


def location_queue_group(location_id):
    return f"queue.{location_id}"


# --- collecting a transaction's events ------------------------------------------------------
#
# Inside an atomic block each event is one `transaction.on_commit` callback (_Collect), so
# Django drops it when its savepoint rolls back, and the transaction has one _Send callback,
# kept after all of them. A _Send is registered with no savepoint, so only a rollback of the
# whole transaction drops it (with every _Collect). A later event makes the earlier _Send a
# no-op and appends a new one rather than moving it: captureOnCommitCallbacks (tests) finds
# new callbacks by their position in the list.

class _Batch:
    __slots__ = ("events",)

    def __init__(self):
        self.events = []  # [(event, location_id)], filled as the transaction's callbacks run


class _Collect:
    __slots__ = ("batch", "event", "location_id")

    def __init__(self, batch, event, location_id):
        self.batch, self.event, self.location_id = batch, event, location_id

    def __call__(self):
        self.batch.events.append((self.event, self.location_id))


class _Send:
    __slots__ = ("batch", "superseded")

    def __init__(self, batch):
        self.batch, self.superseded = batch, False

    def __call__(self):
        if self.superseded:
            return
        events, self.batch.events = self.batch.events, []
        _deliver(events)


def publish_board(event_type, payload, *, location_id=None, using=DEFAULT_DB_ALIAS):
    """Send {"type": event_type, ...payload} to the staff board (and the walk-in queue of a
    location when given) once the current transaction commits, in one message with the
    transaction's other events."""
    event = ({"type": event_type, **payload}, str(location_id) if location_id else None)
    connection = connections[using]
    if not connection.in_atomic_block:
        transaction.on_commit(functools.partial(_deliver, [event]), using=using)  # autocommit: at once
        return
    queued = connection.run_on_commit  # [(savepoint ids, callback, robust)], Django >= 4.2
    last = next((entry[1] for entry in reversed(queued) if isinstance(entry[1], _Send)), None)
    batch = last.batch if last is not None else _Batch()
    transaction.on_commit(_Collect(batch, *event), using=using)
    if last is not None:
        last.superseded = True
    queued.append((set(), _Send(batch), False))


def group_messages(events):
    """[(group, message)] for a batch of (event, location_id): every event to the board,
    each location's events to its queue group, one message per group."""
    board = [event for event, _ in events]
    by_location = {}
    for event, location_id in events:
        if location_id:
            by_location.setdefault(location_id, []).append(event)
    sends = [(BOARD_GROUP, {"type": BATCH_TYPE, "events": board})]
    sends += [(location_queue_group(loc), {"type": BATCH_TYPE, "events": evs}) for loc, evs in by_location.items()]
    return sends


# --- delivering -----------------------------------------------------------------------------

async def _send_all(layer, sends):
    for group, message in sends:
        await layer.group_send(group, message)


def _deliver(events):
    layer = get_channel_layer()
    if layer is None or not events:
        return
    sends = group_messages(events)
    try:
        if _under_event_loop() or not _keeps_connections_per_loop(layer):
            async_to_sync(_send_all)(layer, sends)
        else:
            _process_loop().run(_send_all(layer, sends), timeout=SEND_TIMEOUT)
    except Exception:
        logger.exception("scheduling board events not sent (%d events)", len(events))


def _under_event_loop():
    """Inside sync_to_async (daphne, consumers, async tests): an event loop of this process
    is waiting on this thread, and async_to_sync hands the coroutine to it."""
    # asgiref leaves the attributes behind when the call returns: check that the loop runs.
    threadlocal = SyncToAsync.threadlocal
    loop = getattr(threadlocal, "main_event_loop", None)
    return loop is not None and loop.is_running() and getattr(threadlocal, "main_event_loop_pid", None) == os.getpid()


def _keeps_connections_per_loop(layer):
    # channels_redis keeps a connection (pool) per event loop; the in-memory layer's queues
    # belong to the loop that awaits them, so it must stay on async_to_sync.
    return type(layer).__module__.startswith("channels_redis.")


class _ProcessLoop:
    """An event loop running in a daemon thread, one per process (a forked worker makes its
    own), so a channel layer's per-loop connections are reused from call to call."""

    _lock = threading.Lock()
    _instance = None

    def __init__(self):
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="scheduling-events", daemon=True)
        self.thread.start()

    def run(self, coroutine, *, timeout):
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    @classmethod
    def get(cls):
        instance = cls._instance
        if instance is None or instance.pid != os.getpid() or not instance.thread.is_alive():
            with cls._lock:
                instance = cls._instance
                if instance is None or instance.pid != os.getpid() or not instance.thread.is_alive():
                    instance = cls._instance = cls()
        return instance


_process_loop = _ProcessLoop.get


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
