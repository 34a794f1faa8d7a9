"""The notification service later features call. notify() writes the in-app row in the
caller's transaction and pushes it over WebSockets after commit."""
from django.db import transaction
from django.utils import timezone

from apps.messaging.events import publish_to_user
from apps.messaging.models import Notification
from apps.messaging.selectors import unread_count


def notify(*, user, kind, title, body="", link="", data=None, urgent=False):
    """Create an in-app notification for `user` (call inside the transaction of the event that
    causes it). The user's open sockets receive it after commit. Keep PHI out of title/body
    beyond what the recipient may see; never put PHI in `link`."""
    notification = Notification.objects.create(
        recipient=user, kind=kind, title=title[:200], body=body, link=link, data=data or {}, urgent=urgent
    )
    publish_to_user(user.pk, "notification.new", {"notification": notification.as_event()})
    return notification


def notify_many(*, users, kind, title, body="", link="", data=None, urgent=False):
    """The same notification to several users (for example every front-desk user)."""
    return [notify(user=u, kind=kind, title=title, body=body, link=link, data=data, urgent=urgent) for u in users]


def _publish_unread(user):
    publish_to_user(user.pk, "notification.unread", {"unread": unread_count(user)})


@transaction.atomic
def notification_mark_read(*, user, notification):
    """Mark one of the user's notifications read (idempotent); every open tab of the user,
    on any server process, gets the new unread count."""
    if notification.recipient_id != user.pk:
        from apps.core.exceptions import NotFound

        raise NotFound()
    updated = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    if updated:
        _publish_unread(user)
    return updated


@transaction.atomic
def notification_mark_all_read(*, user):
    updated = Notification.objects.for_user(user).unread().update(read_at=timezone.now())
    _publish_unread(user)
    return updated
