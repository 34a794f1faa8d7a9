"""Publishing real-time events for this app: always after commit, through the channel layer
(apps/core/events.py), to a group named after the user. A transaction's events for one user
go as one message, {"type": "notification.events", "events": [...]}; the consumer
(apps/messaging/consumers.py) forwards each event as before."""
from channels.layers import get_channel_layer

from apps.core.events import Publisher

BATCH_TYPE = "notification.events"

# The layer is looked up by name when sending, so tests can replace get_channel_layer here.
notifications = Publisher("notification", batch_type=BATCH_TYPE, channel_layer=lambda: get_channel_layer())


def user_group(user_id):
    return f"user.{user_id}"


def publish_to_user(user_id, event_type, payload):
    """Send {"type": event_type, ...payload} to every socket of the user, once the current
    transaction commits (immediately when there is none); never for a rolled-back write."""
    notifications.publish(user_group(user_id), event_type, payload)
