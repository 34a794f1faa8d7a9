"""/ws/notifications/: a signed-in user's in-app notifications, live.

A transaction's events arrive as one channel-layer message, {"type": "notification.events",
"events": [...]} (apps.messaging.events), and each goes to the browser as its own frame, as
before. Single events ({"type": "notification.new", ...}) are still accepted, from a process
running the previous version during a deploy."""
import asyncio

from channels.db import database_sync_to_async
from django.conf import settings

from apps.accounts.websocket import socket_actor
from apps.core import access
from apps.core.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ClinicJsonConsumer
from apps.core.exceptions import NotFound, PermissionDenied
from apps.messaging import selectors, services
from apps.messaging.events import user_group


RECENT = 10
# With the in-memory channel layer (no REDIS_URL) an event raised in another process (a Celery
# worker) cannot reach this socket, so the consumer also looks for new rows this often.
CATCH_UP_SECONDS = 10


class NotificationConsumer(ClinicJsonConsumer):
    async def connect(self):
        user = self.scope.get("user")
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

    def authorize(self, user):
        """Anyone signed in hears their own notifications; staff after their second factor."""
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
