import json
import time
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from rest_framework.exceptions import ParseError, ValidationError

from apps.core.api.parsers import check_json

# Touch the session at most this often, so idle tracking does not cost a write per request.
_TOUCH_EVERY = 30
STARTED_KEY = "_auth_started"
ACTIVITY_KEY = "_last_activity"


class SessionTimeoutMiddleware:
    """Idle logoff (staff after STAFF_IDLE_TIMEOUT, patients after PATIENT_IDLE_TIMEOUT) and an
    absolute cap on a session's life (SESSION_ABSOLUTE_TIMEOUT)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            session = request.session
            started = session.get(STARTED_KEY)
            last = session.get(ACTIVITY_KEY)
            idle = settings.STAFF_IDLE_TIMEOUT if user.is_staff else settings.PATIENT_IDLE_TIMEOUT
            idle_out = last is not None and now - last > idle.total_seconds()
            capped = started is not None and now - started > settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
            if idle_out or capped:
                # The audit receiver of user_logged_out writes the one logout row, with this reason.
                request.logout_reason = "idle" if idle_out else "session_cap"
                logout(request)
                minutes = int(idle.total_seconds() // 60)
                messages.info(
                    request,
                    f"You were signed out after {minutes} minutes without activity." if idle_out
                    else "Your session reached its time limit. Please sign in again.",
                )
                if request.method == "GET" and not request.path.startswith("/api/"):
                    return redirect(f"{settings.LOGIN_URL_PATH}?next={quote(request.get_full_path())}")
            else:
                if started is None:
                    session[STARTED_KEY] = now
                if last is None or now - last > _TOUCH_EVERY:
                    session[ACTIVITY_KEY] = now
        return self.get_response(request)


# /fhir/ answers for itself too: a staff session without its second factor is not signed in there
# (MFASessionAuthentication), so a FHIR client reads a 401 OperationOutcome, not a redirect to a page.
_MFA_EXEMPT = ("/staff/mfa/", "/accounts/logout/", "/static/", "/healthz/", "/api/", "/fhir/")


class StaffMFARequiredMiddleware:
    """A signed-in staff user whose session has no verified second factor reaches nothing but
    the MFA pages and logout. The API answers for itself (MFASessionAuthentication treats such a
    session as anonymous)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.is_staff
            and not user.is_verified()
            and not request.path.startswith(_MFA_EXEMPT)
        ):
            return redirect(f"/staff/mfa/?next={quote(request.get_full_path())}")
        if user is not None and user.is_authenticated and user.is_staff and request.path.startswith("/accounts/2fa/"):
            # allauth's optional MFA is the patients'; staff manage django-otp devices here.
            return redirect("staff_home")
        return self.get_response(request)


class AppSignInInputMiddleware:
    """Hostile input to the phone apps' sign-in API (django-allauth headless, /_allauth/)
    answers 400 in that API's own error format, as it does for any other bad field, instead of
    a 500: a body that is not JSON or is nested past what json can parse (RecursionError), a
    NUL, an unpaired surrogate or an integer past 64 bits anywhere (apps/core/api/parsers.py's
    one check), a body that is not an object, or a field that is null or not a plain value
    (allauth reads each as text and fails on None)."""

    PREFIX = "/_allauth/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(self.PREFIX) and request.method in ("POST", "PUT", "PATCH", "DELETE") and request.body:
            problem = self._problem(request.body)
            if problem is not None:
                param, message = problem
                error = {"message": message, "code": "invalid"}
                if param:
                    error["param"] = param
                return JsonResponse({"status": 400, "errors": [error]}, status=400)
        return self.get_response(request)

    @staticmethod
    def _problem(body):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return None, "The body is not valid JSON."
        try:
            check_json(data)
        except ParseError as exc:
            return None, str(exc.detail)
        except ValidationError as exc:
            field, messages = next(iter(exc.detail.items()))
            return field, str(messages[0])
        if not isinstance(data, dict):
            return None, "The body must be a JSON object."
        for key, value in data.items():
            if value is None or isinstance(value, (list, dict)):
                return key, "This field must be a plain value."
        return None
