"""Publishing real-time events for this app: always after commit, through the channel layer,
to a group named after the user."""
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def user_group(user_id):
    return f"user.{user_id}"


def publish_to_user(user_id, event_type, payload):
    """Send {"type": event_type, ...payload} to every socket of the user, once the current
    transaction commits (immediately when there is none)."""

    def send():
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(user_group(user_id), {"type": event_type, **payload})

    transaction.on_commit(send)
