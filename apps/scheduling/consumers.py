"""/ws/staff/board/: the staff scheduling board, live. Thin: authenticates in connect()
through core's access layer (signed in, active, staff with a verified second factor who may
view visit requests: apps/scheduling/rules.py), joins the "scheduling.board" group, and keeps
that answer: no database read per frame (apps/core/consumers.py). Logging out, deactivation,
a changed role or a removed device close the socket at once through the user's revocation
group, and the access is re-checked in the background every WEBSOCKET_RECHECK_SECONDS.
Events carry ids, statuses and severities only
(apps.scheduling.events); the page fetches what it shows over HTTP, where the audit log records
the read.

A transaction's events arrive as one channel-layer message, {"type": "board.events",
"events": [...]} (apps.scheduling.events): each event goes to the browser as its own frame,
as before. Single events ({"type": "slot.changed", ...}) are still accepted, from a process
running the previous version during a deploy."""
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from apps.accounts.websocket import socket_actor
from apps.core import access
from apps.core.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ClinicJsonConsumer
from apps.messaging.presence import STAFF, PresenceMixin
from apps.scheduling.events import BOARD_GROUP, location_queue_group
from apps.scheduling.models import Location, VisitRequest

# What may leave the server for each kind of object: a whitelist, so a field added to a
# payload later (possibly PHI) is not forwarded by accident.
FORWARDED_FIELDS = {
    "request": ("id", "type", "status", "severity", "location_id"),
    "slot": ("id", "provider_id", "status", "start"),
    "visit": ("id", "status", "provider_id", "location_id", "start"),
}
FORWARDED_TYPES = frozenset({
    "request.created", "request.changed", "request.emergency", "slot.changed", "visit.created", "visit.changed",
})


class StaffBoardConsumer(PresenceMixin, ClinicJsonConsumer):
    group = BOARD_GROUP

    def authorize(self, user):
        """None when `user` (re-read) may watch the board, else the close code. Staff only (a
        patient may view their own requests, not the board) who may view visit requests,
        after their second factor: the socket's session says whether it was verified."""
        actor = socket_actor(self.scope, user)
        if not access.is_staff(actor) or not access.may(actor, VisitRequest, access.VIEW):
            return CLOSE_FORBIDDEN
        return None

    def _connect_check(self, user_id):
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        return (user, CLOSE_UNAUTHENTICATED) if user is None else (user, self.authorize(user))

    async def connect(self):
        self.joined = False
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        user, refusal = await database_sync_to_async(self._connect_check)(user.pk)
        if refusal:
            await self.refuse(refusal)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.joined = True
        await self.admit(user)
        await self.send_json({"type": "hello"})
        # Live presence (apps/messaging/presence.py): this colleague is online while it is open.
        await self.presence_open(STAFF, user.pk)

    async def disconnect(self, code):
        await self.presence_close()
        if getattr(self, "joined", False):
            self.joined = False
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # The board only listens, except to {"action": "presence"} (who is online, then
        # changes); anything else a client sends does nothing and gets no answer.
        if self.admitted and text_data and '"presence"' in text_data:
            try:
                content = await self.decode_json(text_data)
            except ValueError:
                return
            if isinstance(content, dict) and content.get("action") == "presence":
                await self.presence_watch()

    async def _send_event(self, event):
        event_type = event.get("type")
        if event_type not in FORWARDED_TYPES:
            return
        message = {"type": event_type}
        for kind, fields in FORWARDED_FIELDS.items():
            if isinstance(event.get(kind), dict):
                message[kind] = {f: event[kind].get(f) for f in fields}
        await self.send_json(message)

    async def board_events(self, message):
        if not await self.still_allowed():
            return
        for event in message.get("events") or []:
            if isinstance(event, dict):
                await self._send_event(event)

    async def _forward(self, event):
        if await self.still_allowed():
            await self._send_event(event)

    request_created = request_changed = request_emergency = _forward
    slot_changed = _forward
    visit_created = visit_changed = _forward


class WalkInQueueConsumer(StaffBoardConsumer):
    """/ws/staff/queue/<location_id>/: one location's walk-in queue, live. The same access as
    the board (decided once at connect through core's access layer, then kept, with the same
    revocation), for an active location only (an unknown or inactive one: 4403, as if
    forbidden). It joins the "queue.<location_id>" group, to which the scheduling services
    publish the events of that location (apps.scheduling.events.publish_board), and forwards
    the same whitelisted fields as the board."""

    def _connect_check(self, user_id):
        user, refusal = super()._connect_check(user_id)
        if refusal is None and not Location.objects.filter(pk=self.location_id, is_active=True).exists():
            refusal = CLOSE_FORBIDDEN
        return user, refusal

    async def connect(self):
        self.location_id = self.scope["url_route"]["kwargs"]["location_id"]
        self.group = location_queue_group(self.location_id)
        await super().connect()
