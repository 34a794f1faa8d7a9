"""The base of every WebSocket consumer of the clinic.

Access is decided once, in connect(), and kept: no database read per outgoing frame (at 100
screens that read is what limits the whole board). It is kept current cheaply:

- Revocation: every admitted socket joins its user's own group (access_group(user_id)).
  When a user logs out, is deactivated, loses a role or a second-factor device, accounts
  calls revoke_sockets(user_id) (after commit), and each of that user's sockets closes at
  once (4401 signed out or deactivated; 4409 access changed, so the page reconnects and
  connect() decides again).
- A periodic re-check: a subclass's authorize() runs again, off the frame path, at most every
  RECHECK_SECONDS, when a frame is about to be sent; a socket that lost access is closed.

A subclass implements authorize(user) (synchronous, may read the database; returns None to
admit or a close code) and calls admit(user) / refuse(code) from connect()."""
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.core.events import Publisher

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
# The user's access changed (a role, a device): the page reconnects at once and is admitted
# again, or refused with 4401/4403, by connect()'s own check.
CLOSE_ACCESS_CHANGED = 4409

# Seconds between background re-checks of a socket's access (revocation messages are the
# fast path; this catches anything that did not send one).
RECHECK_SECONDS = getattr(settings, "WEBSOCKET_RECHECK_SECONDS", 60)

_access_events = Publisher("socket access")


def access_group(user_id):
    return f"access.user.{user_id}"


def revoke_sockets(user_id, *, code=CLOSE_ACCESS_CHANGED):
    """Close every open socket of this user (on every server process) once the current
    transaction commits. Their pages reconnect and are refused, or admitted again with what
    they may see now."""
    _access_events.publish(access_group(user_id), "access.revoked", {"code": int(code)})


class ClinicJsonConsumer(AsyncJsonWebsocketConsumer):
    """JSON over WebSockets with refusals a browser can read.

    A subclass authenticates in connect() and calls refuse(code) to turn someone away, or
    admit(user) (which accepts). Client frames reach receive_json() only on an admitted
    socket, as a dict; binary or malformed frames get an error frame instead of dropping the
    connection (1011)."""

    admitted = False
    access_user_id = None
    _checked_at = 0.0
    _closing = False

    def authorize(self, user):
        """None to admit `user` (re-read from the database by the caller), else a close code.
        Synchronous; called at connect and by the periodic re-check."""
        return None

    async def refuse(self, code):
        # Accept, then close with the code: a close before accept turns into an HTTP 403 on
        # the handshake, which browsers report as 1006, so the page could not tell "signed
        # out" (4401) or "second factor missing" (4403) from a network error and would keep
        # reconnecting.
        await self.accept()
        await self.close(code=code)

    async def admit(self, user):
        """Accept the socket for `user` and listen for revocations of their access."""
        self.access_user_id = user.pk
        await self.channel_layer.group_add(access_group(user.pk), self.channel_name)
        self._checked_at = time.monotonic()
        self.admitted = True
        await self.accept()

    async def websocket_disconnect(self, message):
        if self.access_user_id is not None:
            await self.channel_layer.group_discard(access_group(self.access_user_id), self.channel_name)
        await super().websocket_disconnect(message)

    async def access_revoked(self, event):
        await self._close_for(event.get("code") or CLOSE_FORBIDDEN)

    async def _close_for(self, code):
        if self._closing:
            return
        self._closing = True
        self.admitted = False
        await self.close(code=code)

    async def still_allowed(self):
        """Cheap: True unless the socket is closing; at most every RECHECK_SECONDS it runs
        authorize() again (one read for the whole period, not one per frame)."""
        if not self.admitted:
            return False
        if time.monotonic() - self._checked_at < RECHECK_SECONDS:
            return True
        self._checked_at = time.monotonic()
        refusal = await database_sync_to_async(self._recheck)()
        if refusal:
            await self._close_for(refusal)
            return False
        return True

    def _recheck(self):
        user = get_user_model().objects.filter(pk=self.access_user_id, is_active=True).first()
        if user is None:
            return CLOSE_UNAUTHENTICATED
        return self.authorize(user)

    async def send_error(self, code, message):
        await self.send_json({"type": "error", "code": code, "message": message})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not self.admitted:  # refused in connect(), closing
            return
        try:
            if text_data is None:
                raise ValueError("binary frame")
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_error("invalid_json", "Send JSON text frames.")
            return
        await self.receive_json(content if isinstance(content, dict) else {}, **kwargs)
