from django.utils.functional import SimpleLazyObject

from apps.messaging.selectors import unread_count


def notifications(request):
    """The bell's unread count, evaluated only if the template shows the bell."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
