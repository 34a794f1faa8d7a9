from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from apps.core.health import database_status, redis_status


@never_cache
def healthz(request):
    """One query and one Redis ping. 200 when everything configured answers, else 503."""
    body = {"database": database_status(), "redis": redis_status()}
    healthy = body["database"] == "ok" and body["redis"] in ("ok", "not_configured")
    body["status"] = "ok" if healthy else "error"
    return JsonResponse(body, status=200 if healthy else 503)


def home(request):
    """Send each person to their side of the clinic."""
    user = request.user
    if not user.is_authenticated:
        return redirect("account_login")
    if user.is_clinic_staff:
        return redirect("staff_home")
    return redirect("portal_home")
