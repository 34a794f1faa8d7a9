"""ASGI: HTTP and WebSockets. In production daphne serves the WebSockets (clinic/serve.py);
HTTP goes to gunicorn's sync workers, which are ~7x faster for plain requests (NOTES.md)."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.dev")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from clinic.routing import websocket_urlpatterns  # noqa: E402

# Sockets a phone app opens with its session token (X-Session-Token, see
# apps/messaging/consumers.py): the only ones a client without an Origin header may open.
APP_TOKEN_SOCKETS = frozenset({"/ws/notifications/"})


def _header(scope, name):
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value
    return None


class AppOrBrowserOriginValidator:
    """The Origin check, with phone apps let through. A browser always sends Origin with a
    WebSocket handshake and page scripts cannot add headers to it, so cross-site WebSocket
    hijacking (a foreign page riding on the session cookie) always comes with an Origin: every
    browser connection must name an allowed host (AllowedHostsOriginValidator). A phone app
    sends no Origin and authenticates by its X-Session-Token: such a handshake to a socket that
    takes app tokens is passed on with its cookies removed, so only the token can sign it in;
    one without a token, or to any other socket, is refused as before."""

    def __init__(self, inner):
        self.inner = inner
        self.browsers = AllowedHostsOriginValidator(inner)

    async def __call__(self, scope, receive, send):
        if (scope["type"] == "websocket" and _header(scope, b"origin") is None
                and _header(scope, b"x-session-token") and scope.get("path") in APP_TOKEN_SOCKETS):
            headers = [(key, value) for key, value in scope.get("headers") or [] if key.lower() != b"cookie"]
            return await self.inner({**scope, "headers": headers}, receive, send)
        return await self.browsers(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AppOrBrowserOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
