from django.db.models import Count

from apps.core import access
from apps.core.exceptions import PermissionDenied
from apps.core.lookups import get_or_not_found
from apps.messaging.models import Notification, OutboundMessage, SmsOutboxEntry


def notifications_for(user, *, limit=None):
    qs = Notification.objects.for_user(user).order_by("-created_at", "-id")
    return qs[:limit] if limit else qs


def unread_count(user):
    return Notification.objects.for_user(user).unread().count()


def access_notification(user, notification_id):
    """The user's own notification; anyone else's is NotFound, like a missing one (core's
    access rule for Notification, apps/messaging/rules.py). A patient reaches theirs through
    their record. Staff need a verified second factor and then see their own, whatever their
    role: every staff user receives notifications, so no model permission is asked (core's
    access layer has no "rows the user owns" rule yet, so this one step is spelled out here)."""
    rows = Notification.objects.all()
    if access.is_staff(user):
        if not access.staff_verified(user):
            raise PermissionDenied()
        rows = access.rule_for(Notification).staff(rows, user)
    else:
        rows = access.scope(user, rows, access.VIEW)
    return get_or_not_found(rows, pk=notification_id)


def outbox_messages(*, status=None):
    """Recent outbound messages, newest first; `status` narrows to one status."""
    qs = OutboundMessage.objects.order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    return qs


def outbox_status_counts():
    counts = dict.fromkeys(OutboundMessage.Status.values, 0)
    counts.update(OutboundMessage.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return counts


def local_sms_outbox(*, limit=20):
    return SmsOutboxEntry.objects.order_by("-created_at", "-id")[:limit]
