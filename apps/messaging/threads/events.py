"""Live thread events, sent after commit to two kinds of group:

  threads.patient.<patient id>  the patient's own sockets (only their threads' events)
  threads.staff                 staff sockets with messaging.view_thread

Events carry ids and states only, never a message body or a subject: the consumer re-checks
the socket's access and reads what it forwards from the database (apps/messaging/threads/
consumers.py), so no PHI travels through the channel layer.

A transaction's events for one group go as one message, {"type": "thread.events",
"events": [...]}, through apps/core/events.py; the consumer takes each event as if it came
alone. Typing indicators are not stored and are sent by the consumer itself."""
from channels.layers import get_channel_layer

from apps.core.events import Publisher

STAFF_GROUP = "threads.staff"
BATCH_TYPE = "thread.events"

# The layer is looked up by name when sending, so tests can replace get_channel_layer here.
threads = Publisher("thread", batch_type=BATCH_TYPE, channel_layer=lambda: get_channel_layer())


def patient_group(patient_id):
    return f"threads.patient.{patient_id}"


def publish_thread_event(thread, event_type, **fields):
    """{"type": event_type, "thread_id", "patient_id", **fields} to the thread's patient and
    to staff, once the current transaction commits."""
    payload = {"thread_id": str(thread.pk), "patient_id": str(thread.patient_id), **fields}
    threads.publish([patient_group(thread.patient_id), STAFF_GROUP], event_type, payload)


def publish_message(message):
    publish_thread_event(message.thread, "thread.message", message_id=str(message.pk), author_kind=message.author_kind)


def publish_updated(thread):
    publish_thread_event(
        thread, "thread.updated", status=thread.status,
        assigned_to_id=thread.assigned_to_id,
    )


def publish_read(thread, side):
    publish_thread_event(thread, "thread.read", side=side)


def publish_typing_now(thread_id, patient_id, side, sender):
    """Typing is ephemeral (no transaction): sent at once. `sender` is the channel name that
    typed, so it does not hear itself."""
    event = {"type": "thread.typing", "thread_id": str(thread_id), "patient_id": str(patient_id), "side": side, "sender": sender}
    return [patient_group(patient_id), STAFF_GROUP], event
