from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.audit.services import record_auth_event


@receiver(user_logged_in, dispatch_uid="audit.login")
def _logged_in(sender, request, user, **kwargs):
    record_auth_event(request, action="login", user=user)


@receiver(user_logged_out, dispatch_uid="audit.logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        reason = getattr(request, "logout_reason", None)  # set by SessionTimeoutMiddleware
        record_auth_event(request, action="logout", user=user, detail={"reason": reason} if reason else None)


@receiver(user_login_failed, dispatch_uid="audit.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # Only the attempted login name is kept, never the password.
    attempted = (credentials or {}).get("email") or (credentials or {}).get("username") or ""
    record_auth_event(request, action="login_failed", label=str(attempted))
