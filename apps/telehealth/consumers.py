"""The telehealth sockets, on core's ClinicJsonConsumer (access decided at connect, kept; the
user's revocation group closes them at once; a background re-check every
WEBSOCKET_RECHECK_SECONDS).

- /ws/telehealth/<session>/room/: the session's page (the patient's waiting room and call, the
  provider's call). Admitted: the session's patient, or staff who may view it after their
  second factor. Receives the session's events (waiting, admitted, started, running_late,
  ended) and answers {"type": "ping"} with a pong (the device check's round trip). When the
  patient's socket closes while they are still waiting, their entry is LEFT.
- /ws/telehealth/<session>/signal/?token=...: signalling for the built-in WebRTC call, only
  for the session's two participants (its patient and its provider) holding a valid join
  token for this room. offer / answer / ice / hangup / restart frames are relayed to the
  other participant, never back to the sender and never outside the session.
- /ws/staff/telehealth/queue/: staff who may view sessions; told when the queue changes (ids
  and statuses only: the page refetches the queue over HTTP, where reads are audited)."""
import asyncio
import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.accounts.websocket import socket_actor
from apps.core import access
from apps.core.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ClinicJsonConsumer
from apps.core.exceptions import DomainError
from apps.telehealth import services
from apps.telehealth.events import QUEUE_GROUP, session_group
from apps.telehealth.models import TelehealthSession
from apps.telehealth.providers.builtin import read_join
from apps.telehealth.services.rooms import identity_for

logger = logging.getLogger(__name__)

SIGNAL_TYPES = frozenset({"offer", "answer", "ice", "hangup", "restart", "ready"})
MAX_SIGNAL_CHARS = 64 * 1024  # an SDP with many candidates is a few KB


def _signal_group(session_id):
    return f"telehealth.signal.{session_id}"


class _SessionSocket(ClinicJsonConsumer):
    """Shared connect(): a signed-in active user, re-read, who passes authorize()."""

    group = None

    def session_id(self):
        return str(self.scope["url_route"]["kwargs"]["session_id"])

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

    async def disconnect(self, code):
        if getattr(self, "joined", False):
            self.joined = False
            await self.channel_layer.group_discard(self.group, self.channel_name)


class SessionRoomConsumer(_SessionSocket):
    is_patient = False
    patient_user = None

    def authorize(self, user):
        actor = socket_actor(self.scope, user)
        try:
            session = access.get(actor, TelehealthSession.objects.select_related("patient"), self.session_id())
        except DomainError:
            return CLOSE_FORBIDDEN
        self.is_patient = session.patient.user_id == user.pk
        self.patient_user = user if self.is_patient else None  # the actor of their leaving
        return None

    async def connect(self):
        self.group = session_group(self.session_id())
        await super().connect()

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.is_patient and self.access_user_id is not None:
            await _leave_in_background(self._left)

    def _left(self):
        session = TelehealthSession.objects.filter(pk=self.session_id()).first()
        if session is not None and session.is_open:
            services.waiting_room_leave(session=session, actor=self.patient_user, reason="Closed the waiting room page")

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong", "t": content.get("t") if isinstance(content.get("t"), (int, float)) else None})

    async def room_event(self, event):
        if await self.still_allowed():
            await self.send_json({k: event.get(k) for k in ("event", "session", "status", "message", "minutes", "reason")
                                  if k in event} | {"type": "room"})


# Leaves still being written. daphne cancels a consumer application_close_timeout (10 s) after
# its client went, and the consumers' database calls share one thread per process: in a burst
# of closed waiting rooms (bench/waiting_room.py: 100 at once over two daphnes) a third of the
# leaves were still queued behind the others at 10 s and were cancelled, their entries left
# WAITING and the staff queue never told. So a leave runs in a thread of its own (not queued
# behind the process's other database calls), shielded from that cancellation, and held here
# until it is written.
_leaving = set()


def _left_done(task):
    _leaving.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("waiting room leave failed", exc_info=task.exception())


async def _leave_in_background(left):
    task = asyncio.ensure_future(database_sync_to_async(left, thread_sensitive=False)())
    _leaving.add(task)
    task.add_done_callback(_left_done)
    await asyncio.shield(task)


class SignalConsumer(_SessionSocket):
    def authorize(self, user):
        session = TelehealthSession.objects.select_related("patient", "provider").filter(pk=self.session_id()).first()
        if session is None or not session.is_open:
            return CLOSE_FORBIDDEN
        role = services.participant_role(session, user)
        if role is None:
            return CLOSE_FORBIDDEN
        actor = socket_actor(self.scope, user)
        if access.is_staff(actor) and not access.staff_verified(actor):
            return CLOSE_FORBIDDEN
        token = (parse_qs(self.scope.get("query_string", b"").decode()).get("token") or [""])[0]
        claims = read_join(token, max_age=settings.TELEHEALTH_TOKEN_TTL_SECONDS)
        if not claims or claims.get("room") != session.room_name or claims.get("id") != identity_for(user) \
                or claims.get("role") != role:
            return CLOSE_FORBIDDEN
        self.role = role
        return None

    async def connect(self):
        self.group = _signal_group(self.session_id())
        await super().connect()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is not None and len(text_data) > MAX_SIGNAL_CHARS:
            await self.send_error("too_large", "Signalling frames are limited to 64 KB.")
            return
        await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind not in SIGNAL_TYPES:
            await self.send_error("unknown_type", "offer, answer, ice, restart, ready or hangup.")
            return
        if not await self.still_allowed():
            return
        await self.channel_layer.group_send(self.group, {
            "type": "signal.relay", "sender": self.channel_name, "role": self.role,
            "payload": {"type": kind, "data": content.get("data")},
        })

    async def signal_relay(self, message):
        if message.get("sender") == self.channel_name or not await self.still_allowed():
            return
        await self.send_json({**message.get("payload", {}), "from": message.get("role")})


class QueueConsumer(_SessionSocket):
    group = QUEUE_GROUP

    def session_id(self):
        return ""

    def authorize(self, user):
        actor = socket_actor(self.scope, user)
        if not access.is_staff(actor) or not access.may(actor, TelehealthSession, access.VIEW):
            return CLOSE_FORBIDDEN
        return None

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        return

    async def queue_changed(self, message):
        if await self.still_allowed():
            await self.send_json({"type": "queue", **{k: message.get(k) for k in ("event", "session", "status", "provider_id")}})
