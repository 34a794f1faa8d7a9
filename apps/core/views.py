import logging
import sys

from django.http import JsonResponse
from django.shortcuts import redirect
from django.views import defaults
from django.views.decorators.cache import never_cache

from apps.core import health
from apps.core.api.errors import error_body
from apps.core.logging import exception_name, redacted_traceback

logger = logging.getLogger("apps.core.errors")

API_PREFIX = "/api/"


@never_cache
def healthz(request):
    """Liveness: 200 while this process answers and the database does, 503 when the database
    does not. Redis is reported, never required: with Redis down the site still serves its
    pages, and a load balancer must not take a working server out (readiness is /readyz/).
    One query and one Redis ping, as before (bench/http.py's reference endpoint)."""
    body = {"database": health.database_status(), "redis": health.redis_status()}
    alive = body["database"] == "ok"
    body["status"] = "ok" if alive else "error"
    return JsonResponse(body, status=200 if alive else 503)


@never_cache
def readyz(request):
    """Readiness and status, in detail: the database, Redis, the Celery broker and the worker's
    heartbeat. 503 when a required one is down (see apps/core/health.py)."""
    report = health.readiness()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def home(request):
    """Send each person to their side of the clinic."""
    user = request.user
    if not user.is_authenticated:
        return redirect("account_login")
    if user.is_clinic_staff:
        return redirect("staff_home")
    return redirect("portal_home")


# --- error handlers (handler400/403/404/500 in clinic/urls.py) ------------------------------
# Under /api/ every error answers in the API's format {"code", "message", "extra"}, whether
# DRF saw it (apps/core/api/errors.py) or not: an unmatched URL, an id the URL pattern refuses
# (/api/v1/visits/0.5/), an exception DRF re-raises. Pages keep their templates.

def is_api(request):
    return request.path_info.startswith(API_PREFIX)


def bad_request(request, exception):
    if is_api(request):
        return JsonResponse(error_body("bad_request", "The request could not be read."), status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api(request):
        return JsonResponse(error_body("permission_denied", "You do not have permission to perform this action."), status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if is_api(request):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """Logs the exception being handled once, with its traceback and the request id but no
    patient data (no body, no query string, no exception message), then answers the API's
    JSON or the 500 page. Django's own "Internal Server Error" line (which would add the
    exception's message) is skipped."""
    exc = sys.exc_info()[1]
    request_id = getattr(request, "request_id", "-")
    if exc is not None:
        logger.error(
            "server error: %s %s (request %s) raised %s\n%s",
            request.method, request.path.encode("unicode_escape").decode("ascii"), request_id,
            exception_name(exc), redacted_traceback(exc),
        )
    if is_api(request):
        response = JsonResponse(
            error_body("server_error", "Something went wrong on our side; please try again.", {"request_id": request_id}),
            status=500,
        )
    else:
        response = defaults.server_error(request)
    if exc is not None:
        response._has_been_logged = True  # django.utils.log.log_response: already logged here
    return response
