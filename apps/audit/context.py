"""What the audit log knows about the current request: set by AuditContextMiddleware and, for
API keys, by the API's authentication."""
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings

_current: ContextVar["AuditContext | None"] = ContextVar("audit_context", default=None)


@dataclass
class AuditContext:
    user: object = None
    api_key: object = None
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""
    path: str = ""
    _role: str | None = field(default=None, repr=False)

    @property
    def role(self):
        # The actor names its own role (accounts owns role names: User.role, ApiKey.role).
        if self._role is None:
            if self.api_key is not None:
                self._role = self.api_key.role
            elif self.user is not None and getattr(self.user, "is_authenticated", False):
                self._role = self.user.role
            else:
                self._role = ""
        return self._role


def client_ip(request):
    if settings.AXES_IPWARE_PROXY_COUNT:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        parts = [p.strip() for p in forwarded.split(",") if p.strip()]
        if len(parts) >= settings.AXES_IPWARE_PROXY_COUNT:
            return parts[-settings.AXES_IPWARE_PROXY_COUNT]
    return request.META.get("REMOTE_ADDR") or None


def context_from_request(request, user=None):
    return AuditContext(
        user=user if user is not None else getattr(request, "user", None),
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        request_id=getattr(request, "request_id", ""),
        path=request.path[:300],
    )


def current():
    return _current.get()


def activate(ctx):
    return _current.set(ctx)


def deactivate(token):
    _current.reset(token)


def set_actor_api_key(api_key):
    ctx = _current.get()
    if ctx is not None:
        ctx.api_key = api_key
        ctx.user = None
        ctx._role = None


def set_actor_user(user):
    """The request's actor is `user`, authenticated by the API itself (a phone app's session
    token) rather than by the session middleware."""
    ctx = _current.get()
    if ctx is not None:
        ctx.user = user
        ctx.api_key = None
        ctx._role = None
