"""/ws/notifications/: a signed-in user's in-app notifications, live.

A transaction's events arrive as one channel-layer message, {"type": "notification.events",
"events": [...]} (apps.messaging.events), and each goes to the browser as its own frame, as
before. Single events ({"type": "notification.new", ...}) are still accepted, from a process
running the previous version during a deploy.

Phone apps connect with their session token in an `X-Session-Token` handshake header (the
token of django-allauth headless sign-in, as on /api/v1/portal/): never in the URL, which
ends up in logs. A token that no longer resolves (signed out, "sign out everywhere",
deactivated) is refused with 4401, and the periodic re-check closes an open socket whose
token ended. Staff cannot use app tokens (their second factor lives in the browser)."""
import asyncio
import re

from allauth.headless.internal.sessionkit import authenticate_by_x_session_token
from channels.db import database_sync_to_async
from django.conf import settings

from apps.accounts.websocket import socket_actor
from apps.core import access
from apps.core.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ClinicJsonConsumer
from apps.core.exceptions import NotFound, PermissionDenied
from apps.messaging import selectors, services
from apps.messaging.events import user_group
from apps.messaging.presence import PATIENT, STAFF, PresenceMixin


RECENT = 10
APP_TOKEN_HEADER = b"x-session-token"
# allauth's session keys: anything else (NUL, 10,000 characters) is no token, without a query.
APP_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{8,128}")


def app_token(scope):
    """The phone app's session token from the handshake headers ("" when none)."""
    for name, value in scope.get("headers") or []:
        if name.lower() == APP_TOKEN_HEADER:
            return value.decode("latin-1").strip()
    return ""


def app_token_user(token):
    """The active patient-side user a phone app's session token belongs to, or None."""
    if not APP_TOKEN_SHAPE.fullmatch(token or ""):
        return None
    found = authenticate_by_x_session_token(token)
    user = found[0] if found else None
    return user if user is not None and user.is_active and not user.is_staff else None
# With the in-memory channel layer (no REDIS_URL) an event raised in another process (a Celery
# worker) cannot reach this socket, so the consumer also looks for new rows this often.
CATCH_UP_SECONDS = 10


class NotificationConsumer(PresenceMixin, ClinicJsonConsumer):
    app_token = ""

    async def connect(self):
        user = self.scope.get("user")
        self.app_token = app_token(self.scope)
        if self.app_token:  # a phone app: its token decides, whatever cookie came along
            user = await database_sync_to_async(app_token_user)(self.app_token)
        if user is None or not user.is_authenticated or not user.is_active:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        refusal = await database_sync_to_async(self.authorize)(user)
        if refusal:
            await self.refuse(refusal)
            return
        self.user = user
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.admit(user)
        unread, recent = await database_sync_to_async(self._snapshot)()
        self.seen = {n["id"] for n in recent}
        self.unread = unread
        await self.send_json({"type": "hello", "unread": unread, "recent": recent})
        self.catch_up = None
        if not settings.REDIS_URL:
            self.catch_up = asyncio.ensure_future(self._catch_up_loop())
        # Live presence (apps/messaging/presence.py): a patient on the phone app or the portal is online.
        if user.is_staff:
            await self.presence_open(STAFF, user.pk)
        else:
            patient_id = await database_sync_to_async(lambda: getattr(access.patient_of(user), "pk", None))()
            if patient_id is not None:  # a registrant without a record yet is nobody's patient
                await self.presence_open(PATIENT, patient_id)

    def authorize(self, user):
        """Anyone signed in hears their own notifications; staff after their second factor; a
        phone app while its token still belongs to this user."""
        if self.app_token:
            owner = app_token_user(self.app_token)
            return None if owner is not None and owner.pk == user.pk else CLOSE_UNAUTHENTICATED
        if access.is_staff(user) and not access.staff_verified(socket_actor(self.scope, user)):
            return CLOSE_FORBIDDEN
        return None  # socket_actor has set the second factor on `user`

    def _snapshot(self):
        recent = [n.as_event() for n in selectors.notifications_for(self.user, limit=RECENT)]
        return selectors.unread_count(self.user), recent

    async def _catch_up_loop(self):
        while True:
            await asyncio.sleep(CATCH_UP_SECONDS)
            unread, recent = await database_sync_to_async(self._snapshot)()
            for event in reversed(recent):
                if event["id"] not in self.seen:
                    self.seen.add(event["id"])
                    await self.send_json({"type": "notification", "notification": event})
            if unread != self.unread:
                self.unread = unread
                await self.send_json({"type": "unread", "unread": unread})

    async def disconnect(self, code):
        await self.presence_close()
        if getattr(self, "catch_up", None):
            self.catch_up.cancel()
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        action = content.get("action")
        if action == "mark_read":
            await database_sync_to_async(self._mark_read)(str(content.get("id", "")))
        elif action == "mark_all_read":
            await database_sync_to_async(services.notification_mark_all_read)(user=self.user)
        else:
            await self.send_error("unknown_action", "Unknown action.")

    def _mark_read(self, notification_id):
        # Through core's access layer, like the page: not theirs, missing or malformed is
        # simply ignored (the socket has nothing to show for it).
        try:
            notification = selectors.access_notification(self.user, notification_id)
        except (NotFound, PermissionDenied):
            return
        services.notification_mark_read(user=self.user, notification=notification)

    # Group events. The group is the user's own, so every event is theirs by construction;
    # access decided at connect is kept (apps/core/consumers.py: revocation, periodic re-check).
    async def notification_new(self, event):
        if not await self.still_allowed():
            return
        notification = event["notification"]
        if notification["id"] in self.seen:
            return
        self.seen.add(notification["id"])
        self.unread += 1
        await self.send_json({"type": "notification", "notification": notification})

    async def notification_unread(self, event):
        if not await self.still_allowed():
            return
        self.unread = event["unread"]
        await self.send_json({"type": "unread", "unread": event["unread"]})

    async def notification_events(self, message):
        handlers = {"notification.new": self.notification_new, "notification.unread": self.notification_unread}
        for event in message.get("events") or []:
            handler = handlers.get(event.get("type")) if isinstance(event, dict) else None
            if handler is not None:
                await handler(event)
