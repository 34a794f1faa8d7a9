"""The identity step-up before a signature: the patient re-enters their password, or the code of
their authenticator app when they use MFA (allauth's), and the time is kept in the session. The
signing service accepts a step-up at most STEP_UP_SECONDS old (5 minutes). Wrong attempts are
counted per user: after MAX_FAILURES within the window the step-up is refused until it passes."""
import datetime
import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.consents.exceptions import StepUpRequired

SESSION_KEY = "consents_step_up_at"
STEP_UP_SECONDS = getattr(settings, "CONSENTS_STEP_UP_SECONDS", 300)
MAX_FAILURES = 5
FAILURE_WINDOW_SECONDS = 15 * 60


def uses_authenticator(user):
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _failures_key(user):
    return f"consents:step-up-failures:{user.pk}"


def step_up(request, secret):
    """Check `secret` (the password, or the authenticator code for MFA users) for the signed-in
    user and record the step-up in the session. StepUpRequired (403) when it is wrong."""
    user = request.user
    key = _failures_key(user)
    failures = cache.get(key, 0)
    if failures >= MAX_FAILURES:
        raise StepUpRequired("Too many wrong attempts. Please wait 15 minutes and try again.", code="step_up_locked")
    secret = (secret or "").strip()
    if uses_authenticator(user):
        authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        ok = bool(secret) and TOTP(authenticator).validate_code(secret)
        wrong = "That authenticator code is not right."
    else:
        ok = bool(secret) and user.check_password(secret)
        wrong = "That password is not right."
    if not ok:
        cache.set(key, failures + 1, FAILURE_WINDOW_SECONDS)
        raise StepUpRequired(wrong, code="step_up_failed")
    cache.delete(key)
    request.session[SESSION_KEY] = time.time()
    return timezone.now()


def stepped_up_at(request):
    """When this session last passed the step-up (an aware datetime), or None."""
    value = request.session.get(SESSION_KEY)
    if not isinstance(value, (int, float)):
        return None
    return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc)


def is_fresh(at, now=None):
    return at is not None and 0 <= ((now or timezone.now()) - at).total_seconds() <= STEP_UP_SECONDS
