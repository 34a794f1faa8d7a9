"""Real-time events of the telehealth app, sent after commit (apps/core/events.py).

Two kinds of groups: a session's own (telehealth.session.<id>: the patient's waiting-room page
and both call pages) and the staff queue (telehealth.queue). Payloads carry ids, statuses and
the event's name; the running-late message goes to the session's group only. The queue page
refetches the queue over HTTP (audited) when told something changed."""
from channels.layers import get_channel_layer

from apps.core.events import Publisher

QUEUE_GROUP = "telehealth.queue"

publisher = Publisher("telehealth", channel_layer=lambda: get_channel_layer())


def session_group(session_id):
    return f"telehealth.session.{session_id}"


def publish_room(session, event, **payload):
    """{"type": "room.event", "event": event, "session": id, "status": ..., **payload} to the
    session's pages. Events: waiting, admitted, started, running_late, ended, left, timed_out."""
    publisher.publish(session_group(session.pk), "room.event",
                      {"event": event, "session": str(session.pk), "status": session.status, **payload})


def publish_queue(session, event):
    publisher.publish(QUEUE_GROUP, "queue.changed",
                      {"event": event, "session": str(session.pk), "status": session.status,
                       "provider_id": str(session.provider_id)})


def publish(session, event, **payload):
    publish_room(session, event, **payload)
    publish_queue(session, event)
