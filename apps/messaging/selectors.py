from apps.core.exceptions import NotFound
from apps.messaging.models import Notification


def notifications_for(user, *, limit=None):
    qs = Notification.objects.for_user(user).order_by("-created_at", "-id")
    return qs[:limit] if limit else qs


def unread_count(user):
    return Notification.objects.for_user(user).unread().count()


def access_notification(user, notification_id):
    """The user's own notification; anyone else's is NotFound, like a missing one."""
    try:
        return Notification.objects.get(pk=notification_id, recipient=user)
    except (Notification.DoesNotExist, ValueError):
        raise NotFound()
    except Exception as exc:
        from django.core.exceptions import ValidationError

        if isinstance(exc, ValidationError):
            raise NotFound()
        raise
