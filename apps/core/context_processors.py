from django.conf import settings


def clinic(request):
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "WEBSOCKET_URL": settings.WEBSOCKET_URL,
        "WS_PORT": settings.WS_PORT,
        "TERMS_VERSION": settings.TERMS_VERSION,
    }
