from apps.core.lookups import get_or_not_found
from apps.messaging.models import Notification


def notifications_for(user, *, limit=None):
    qs = Notification.objects.for_user(user).order_by("-created_at", "-id")
    return qs[:limit] if limit else qs


def unread_count(user):
    return Notification.objects.for_user(user).unread().count()


def access_notification(user, notification_id):
    """The user's own notification; anyone else's is NotFound, like a missing one."""
    return get_or_not_found(Notification.objects.all(), pk=notification_id, recipient=user)


def outbox_messages(*, status=None):
    """Recent outbound messages, newest first; `status` narrows to one status."""
    from apps.messaging.models import OutboundMessage

    qs = OutboundMessage.objects.order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    return qs


def outbox_status_counts():
    from django.db.models import Count

    from apps.messaging.models import OutboundMessage

    counts = dict.fromkeys(OutboundMessage.Status.values, 0)
    counts.update(OutboundMessage.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return counts


def local_sms_outbox(*, limit=20):
    from apps.messaging.models import SmsOutboxEntry

    return SmsOutboxEntry.objects.order_by("-created_at", "-id")[:limit]
