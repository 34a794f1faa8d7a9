from django.conf import settings
from django.utils.functional import SimpleLazyObject


def _unread(request):
    from apps.messaging.selectors import unread_count

    return unread_count(request.user)


def clinic(request):
    context = {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "WEBSOCKET_URL": settings.WEBSOCKET_URL,
        "WS_PORT": settings.WS_PORT,
        "TERMS_VERSION": settings.TERMS_VERSION,
    }
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        # Evaluated only if the template shows the bell.
        context["unread_notifications"] = SimpleLazyObject(lambda: _unread(request))
    return context
