"""Reads of devices and push outbox entries."""
from apps.core import access
from apps.messaging.push.models import Device, PushOutboxEntry


def devices_for(user):
    """The user's active devices, newest first."""
    return Device.objects.filter(user=user, status=Device.Status.ACTIVE).order_by("-created_at", "-id")


def access_device(user, device_id):
    """One of the user's active devices (core's access layer, apps/messaging/rules.py):
    another user's, a retired one and a missing one are NotFound alike."""
    return access.get(user, Device, device_id)


def local_push_outbox(*, device=None, limit=20):
    """What the local push provider recorded, newest first (the demo and the example app)."""
    rows = PushOutboxEntry.objects.order_by("-created_at", "-id")
    if device is not None:
        rows = rows.filter(device=device)
    return rows[:limit]
