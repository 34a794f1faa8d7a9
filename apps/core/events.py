"""Channel-layer events sent after commit, one message per group and transaction.

Each app has one small events module that owns a Publisher and its payloads
(apps/scheduling/events.py, apps/messaging/events.py, apps/messaging/threads/events.py):

    board = Publisher("scheduling board", batch_type="board.events")
    board.publish(["scheduling.board", "queue.<id>"], "slot.changed", {"slot": {...}})

publish() queues {"type": "slot.changed", "slot": {...}} for each group until the current
transaction commits; a rolled-back transaction or savepoint drops its events, and with no
transaction (autocommit) the event is sent at once. What one transaction published is sent
together after commit, one channel-layer message per group:

    batch_type="board.events"  {"type": "board.events", "events": [event, ...]}; the group's
                               consumer needs a `board_events` handler that takes each event
                               as if it came alone (see apps/scheduling/consumers.py).
    batch_type=None            each event as its own message, for a group whose consumers
                               expect single events; still sent together, after commit.

A booking moves a slot twice and creates a visit (three events) and may notify the patient in
the same transaction: that is one message to the board, one to the location's queue and one to
the patient's notification group, instead of one `async_to_sync(group_send)` per event.

Delivery from a plain sync thread (gunicorn's workers, Celery, management commands) goes
through one event loop per process, kept in a daemon thread, so the Redis layer keeps its
connection: `async_to_sync` there starts a thread and an event loop per call, and the Redis
layer, whose connections belong to an event loop, connects to Redis and disconnects each time
(~2.7 ms of CPU per call; bench/README.md). Code that runs under an event loop (daphne,
Channels consumers, async tests) keeps `async_to_sync`, which hands the send to that loop, as
does the in-memory layer, whose queues belong to the loop that reads them. A failed send is
retried once on a connection error (a connection Redis closed, as after a restart) and then
logged, never raised: the transaction has committed, and the other on-commit callbacks (queued
messages, tasks) must still run; pages refetch on reconnect."""
import asyncio
import logging
import os
import threading
import weakref

import redis
from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)

SEND_TIMEOUT = 5  # seconds a request may wait for Redis after its commit
# A send that fails with one of these is retried once (see _send_all).
CONNECTION_ERRORS = (redis.exceptions.ConnectionError, ConnectionError)


class Publisher:
    """The events of one app. `name` appears in the log when a send fails; `channel_layer`
    is called at send time to get the layer (None: nothing is sent)."""

    def __init__(self, name, *, batch_type=None, channel_layer=get_channel_layer):
        self.name = name
        self.batch_type = batch_type
        self.channel_layer = channel_layer

    def publish(self, groups, event_type, payload=None, *, using=DEFAULT_DB_ALIAS):
        """Send {"type": event_type, **payload} to `groups` (a group name or several) once the
        current transaction on `using` commits, with the transaction's other events; at once
        when there is no transaction."""
        groups = (groups,) if isinstance(groups, str) else tuple(groups)
        event = _Event(self, groups, {"type": event_type, **(payload or {})})
        connection = connections[using]
        if not connection.in_atomic_block:
            # Autocommit: what the caller wrote is committed already. on_commit runs this at
            # once (and refuses manual transaction management, as it does for everyone).
            transaction.on_commit(_Flush([event]), using=using, robust=True)
            return
        _queue_for_commit(connection, event, using)


class _Event:
    __slots__ = ("publisher", "groups", "event")

    def __init__(self, publisher, groups, event):
        self.publisher, self.groups, self.event = publisher, groups, event


class _Flush:
    """One run of events published at the same savepoint depth, sent together after commit."""

    __slots__ = ("events", "superseded", "done", "__weakref__")

    def __init__(self, events):
        self.events, self.superseded, self.done = events, False, False

    def __call__(self):
        if self.superseded or self.done:
            return
        self.done = True
        events, self.events = self.events, []
        try:
            sends = _messages(events)
        except Exception:  # a bad payload must not stop the other on-commit callbacks
            logger.exception("channel-layer events not sent (%d events)", len(events))
            return
        _deliver(sends)


# --- batching with the public on_commit -----------------------------------------------------
#
# Each publish registers a _Flush with `transaction.on_commit(..., robust=True)`, so Django
# drops it with a rolled-back savepoint or transaction and runs the survivors in order after
# the outermost commit, and a failing send never stops the other callbacks.
#
# Batching: the new _Flush takes over the events of the transaction's latest _Flush objects
# still alive (which then stand down and send nothing), newest first, for as long as the
# savepoints open now are a prefix of those open when that one was registered. The savepoints
# it had beyond today's are closed,
# and released, not rolled back (a rollback would have dropped it), so both are dropped by
# exactly the same rollbacks from here on. Inside a deeper savepoint a new batch starts (its
# events must go if that savepoint rolls back, the earlier ones must not), and joins the
# batches again once it is released. A transaction whose savepoints are all released (the
# usual case) is one message per group; the order of events is kept.
#
# Earlier _Flush objects are known through weak references: a rollback drops Django's only
# reference to its callbacks, so a dead batch is never joined, not even by a later
# transaction. `connection.savepoint_ids` is read, never written.

_recent = threading.local()


def _queue_for_commit(connection, event, using):
    savepoints = tuple(connection.savepoint_ids)
    by_alias = _recent.__dict__.setdefault("by_alias", {})
    recent = by_alias.setdefault(using, [])  # [(weakref to _Flush, savepoints)], oldest first
    events = [event]
    while recent:
        ref, registered_under = recent[-1]
        previous = ref()
        if previous is None or previous.superseded:  # rolled back, or taken over already
            recent.pop()
            continue
        if previous.done:  # an earlier transaction's: nothing to join
            recent.clear()
            break
        if registered_under[:len(savepoints)] != savepoints:  # we are deeper: a batch of our own
            break
        previous.superseded = True
        events = previous.events + events
        recent.pop()
    flush = _Flush(events)
    transaction.on_commit(flush, using=using, robust=True)
    recent.append((weakref.ref(flush), savepoints))


# --- delivering -----------------------------------------------------------------------------

def _messages(events):
    """[(publisher, group, message)]: for each publisher and group, in the order first
    published, one batch message of its events, or each event alone without a batch type."""
    by_group = {}
    for item in events:
        for group in item.groups:
            by_group.setdefault((item.publisher, group), []).append(item.event)
    sends = []
    for (publisher, group), group_events in by_group.items():
        if publisher.batch_type:
            sends.append((publisher, group, {"type": publisher.batch_type, "events": group_events}))
        else:
            sends += [(publisher, group, event) for event in group_events]
    return sends


def _deliver(sends):
    by_layer = {}  # publishers normally share the default layer: one round trip for all
    for publisher, group, message in sends:
        layer = publisher.channel_layer()
        if layer is not None:
            by_layer.setdefault(id(layer), (layer, []))[1].append((publisher, group, message))
    for layer, layer_sends in by_layer.values():
        try:
            if _under_event_loop() or not _keeps_connections_per_loop(layer):
                async_to_sync(_send_all)(layer, layer_sends)
            else:
                _process_loop().run(_send_all(layer, layer_sends), timeout=SEND_TIMEOUT)
        except Exception:
            names = ", ".join(dict.fromkeys(publisher.name for publisher, _, _ in layer_sends))
            logger.exception("%s events not sent (%d messages)", names, len(layer_sends))


async def _send_all(layer, sends):
    for publisher, group, message in sends:
        try:
            await layer.group_send(group, message)
        except CONNECTION_ERRORS as exc:
            # A connection that Redis closed (a restart, an idle timeout) fails the first
            # command sent on it ("Connection closed by server"); redis-py drops it, so the
            # one retry goes out on a new connection. A second failure is logged by _deliver.
            logger.info("%s event to %s: %s; reconnecting and sending once more", publisher.name, group, type(exc).__name__)
            await layer.group_send(group, message)


def _under_event_loop():
    """Inside sync_to_async (daphne, consumers, async tests): an event loop of this process
    is waiting on this thread, and async_to_sync hands the coroutine to it."""
    # asgiref's thread-local (not public) is left behind when the call returns: check that
    # the loop still runs and belongs to this process.
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
        self.thread = threading.Thread(target=self.loop.run_forever, name="channel-layer-events", daemon=True)
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
