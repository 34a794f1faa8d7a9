"""/ws/messages/: live secure-message events for one patient's own threads, or for the care
team's shared inbox.

connect(): a signed-in patient with an active record joins threads.patient.<their id>; staff
need a verified second factor and messaging.view_thread and join threads.staff. Anyone else is
accepted then closed with 4401/4403 (as /ws/notifications/ does). Every question "may this
user see that thread / message" goes to core's access layer (apps/messaging/rules.py), with
the socket's user carrying its second factor from the session (socket_actor).

Access is decided at connect and kept (apps/core/consumers.py): logging out, deactivation, a
changed role or a removed device close the socket at once through the user's revocation
group, and it is re-checked in the background every WEBSOCKET_RECHECK_SECONDS, so no event
costs a read of the user. A patient's socket hears only events naming their own patient id,
whatever group the event came through, and each of those few events is checked against the
database too (staff events are not: staff may see every thread). Events in the channel layer carry ids only;
the message itself is read here and sent only to a socket that is watching that thread (its
page is open), and that read is recorded in the audit log like a page view.

A transaction's events arrive as one channel-layer message, {"type": "thread.events",
"events": [...]} (apps.messaging.threads.events): each is handled, and re-checked, as if it
came alone, so the page gets the frames it always got. Single events are still accepted
(typing, sent by the consumers themselves, and a process running the previous version
during a deploy).

Client actions: {"action": "watch", "thread": id}, {"action": "read", "thread": id},
{"action": "typing", "thread": id}, and for staff {"action": "presence"} (who is online, then
changes: apps/messaging/presence.py).
"""
import uuid

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import dateformat, timezone

from apps.accounts.websocket import socket_actor
from apps.audit import context as audit_context
from apps.audit.services import record
from apps.core import access
from apps.core.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ClinicJsonConsumer
from apps.core.timezones import local_time
from apps.messaging import rules
from apps.messaging.presence import PATIENT, STAFF, PresenceMixin
from apps.messaging.threads import selectors, services
from apps.messaging.threads.events import STAFF_GROUP, patient_group, publish_typing_now
from apps.messaging.threads.models import Thread
from apps.patients.models import Patient

TYPING_MIN_INTERVAL = 2.0
# The thread pages' format ("M j, Y, g:i a" in messaging/threads/_message.html).
DISPLAY_FORMAT = "M j, Y, g:i a"


def display_time(dt, side, patient):
    """A message time as the page shows it: on the patient's clock for the patient (their
    timezone, else the clinic's), on the clinic's for staff."""
    return dateformat.format(local_time(dt, patient if side == "patient" else None), DISPLAY_FORMAT)


def _message_payload(message, side):
    thread = message.thread
    kind = message.author_kind
    if side == "patient":
        label = {"patient": "You", "sms": "You, by text message", "staff": f"{message.author_label or 'Care team'} · Care team"}.get(kind, "Care team")
    else:
        name = thread.patient.display_name
        label = {"patient": name, "sms": f"{name} (text message)", "staff": message.author_label or "Staff"}.get(
            kind, f"{message.author_label or 'System'} (system)"
        )
    return {
        "id": str(message.pk),
        "author_kind": kind,
        "from_patient_side": message.from_patient_side,
        "label": label,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
        "created_display": display_time(message.created_at, side, thread.patient),
        "attachments": [
            {"id": str(a.pk), "name": a.original_name, "size": a.size, "url": reverse("thread_attachment_download", args=[a.pk])}
            for a in message.attachments.all()
        ],
    }


class ThreadConsumer(PresenceMixin, ClinicJsonConsumer):
    async def connect(self):
        self.groups_joined = []
        self.watching = None
        self.last_typing = 0.0
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        state = await database_sync_to_async(self._load_identity)()
        if state is None:
            await self.refuse(CLOSE_FORBIDDEN)
            return
        self.side, self.patient_id, self.actor = state
        group = STAFF_GROUP if self.side == "staff" else patient_group(self.patient_id)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)
        await self.admit(self.actor)
        unread = await database_sync_to_async(self._unread)()
        await self.send_json({"type": "hello", "side": self.side, "unread": unread})
        # Live presence (apps/messaging/presence.py): this person is online while a socket is open.
        await self.presence_open(*((STAFF, self.user_id) if self.side == "staff" else (PATIENT, self.patient_id)))

    async def disconnect(self, code):
        self.admitted = False
        await self.presence_close()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = []

    # --- access ---------------------------------------------------------------------------

    def _user(self):
        return get_user_model().objects.filter(pk=self.user_id, is_active=True).first()

    def _actor(self):
        """The user, re-read, as core's access layer takes it (socket_actor), or None."""
        user = self._user()
        return socket_actor(self.scope, user) if user is not None else None

    def _load_identity(self):
        """("staff", None, actor) or ("patient", patient_id, actor), or None when not allowed."""
        actor = self._actor()
        if actor is None:
            return None
        if access.is_staff(actor):
            return ("staff", None, actor) if access.may(actor, Thread, rules.VIEW) else None
        patient = access.patient_of(actor)
        return ("patient", patient.pk, actor) if patient is not None else None

    def authorize(self, user):
        """The periodic re-check (apps/core/consumers.py): may `user` (re-read) still watch
        this side? None, or the close code. Keeps the fresh actor for what follows."""
        actor = socket_actor(self.scope, user)
        if self.side == "staff":
            allowed = access.is_staff(actor) and access.may(actor, Thread, rules.VIEW)
        else:
            patient = access.patient_of(actor)
            allowed = patient is not None and patient.pk == self.patient_id
        if not allowed:
            return CLOSE_FORBIDDEN
        self.actor = actor
        return None

    def _thread_allowed(self, actor, thread_id):
        """The thread's patient id when `actor` may see the thread (core's rule), else None."""
        return access.scope(actor, Thread.objects.filter(pk=thread_id)).values_list("patient_id", flat=True).first()

    def _unread(self):
        if self.side == "staff":
            return selectors.staff_unread_thread_count()
        return selectors.patient_unread_thread_count(Patient(pk=self.patient_id))

    async def _gate(self, event):
        """The actor when the event may go out on this socket, else None: a patient hears
        only of their own threads (the event names the thread's patient), and a socket whose
        user lost access is closed (still_allowed). No database read."""
        if self.side == "patient" and event.get("patient_id") != str(self.patient_id):
            return None
        if not await self.still_allowed():
            return None
        if self.side == "patient":
            # A patient's socket hears few events: each is checked against the database too,
            # so even an event forged into their group for another's thread goes nowhere.
            allowed = await database_sync_to_async(self._thread_allowed)(self.actor, event.get("thread_id"))
            if allowed is None:
                return None
        return self.actor

    # --- from the client ------------------------------------------------------------------

    async def receive_json(self, content, **kwargs):
        action, thread_id = content.get("action"), str(content.get("thread", ""))
        if action == "presence" and self.side == "staff":  # who is online: staff only
            await self.presence_watch()
            return
        if action not in {"watch", "read", "typing"}:
            await self.send_error("unknown_action", "Unknown action.")
            return
        actor, allowed = await database_sync_to_async(self._action_allowed)(thread_id)
        if allowed is None:
            await self.send_error("not_found", "Not found.")
            return
        if action == "watch":
            self.watching = thread_id
            await self.send_json({"type": "watching", "thread_id": thread_id})
        elif action == "read":
            unread = await database_sync_to_async(self._mark_read)(actor, thread_id)
            await self.send_json({"type": "unread", "unread": unread, "thread_id": thread_id, "thread_unread": 0})
        elif action == "typing":
            now = timezone.now().timestamp()
            if now - self.last_typing >= TYPING_MIN_INTERVAL:
                self.last_typing = now
                groups, event = publish_typing_now(thread_id, allowed, self.side, self.channel_name)
                for group in groups:
                    await self.channel_layer.group_send(group, event)

    def _action_allowed(self, thread_id):
        """(actor, the thread's patient id) when the user may act on the thread, else (None, None)."""
        try:
            uuid.UUID(thread_id)
        except ValueError:
            return None, None
        return self.actor, self._thread_allowed(self.actor, thread_id)

    def _mark_read(self, actor, thread_id):
        thread = selectors.access_thread(actor, thread_id)
        services.thread_mark_read(thread=thread, user=actor)
        return self._unread()

    # --- group events ---------------------------------------------------------------------

    async def thread_message(self, event):
        actor = await self._gate(event)
        if actor is None:
            return
        thread_id = event["thread_id"]
        if self.watching == thread_id:
            payload = await database_sync_to_async(self._load_message)(actor, thread_id, event["message_id"])
            if payload is not None:
                await self.send_json({"type": "message", "thread_id": thread_id, "message": payload})
        else:
            await self.send_json({"type": "activity", "thread_id": thread_id})
        unread, thread_unread = await database_sync_to_async(self._counts)(thread_id)
        await self.send_json({"type": "unread", "unread": unread, "thread_id": thread_id, "thread_unread": thread_unread})

    def _counts(self, thread_id):
        return self._unread(), selectors.thread_unread(thread_id, self.side)

    def _load_message(self, actor, thread_id, message_id):
        message = selectors.message_for_socket(actor, thread_id, message_id)
        if message is None:
            return None
        token = audit_context.activate(audit_context.AuditContext(
            user=actor, ip=(self.scope.get("client") or [None])[0], path=self.scope.get("path", "")[:300],
        ))
        try:
            record("read", message.thread, detail={"view": "ws_message", "message": str(message.pk)})
        finally:
            audit_context.deactivate(token)
        return _message_payload(message, self.side)

    async def thread_updated(self, event):
        if await self._gate(event) is None:
            return
        message = {"type": "thread", "thread_id": event["thread_id"], "status": event.get("status")}
        if self.side == "staff":
            message["assigned_to_id"] = event.get("assigned_to_id")
        await self.send_json(message)

    async def thread_read(self, event):
        if event.get("side") != self.side:
            return
        if await self._gate(event) is None:
            return
        unread, thread_unread = await database_sync_to_async(self._counts)(event["thread_id"])
        await self.send_json({"type": "unread", "unread": unread, "thread_id": event["thread_id"], "thread_unread": thread_unread})

    async def thread_events(self, message):
        handlers = {"thread.message": self.thread_message, "thread.updated": self.thread_updated, "thread.read": self.thread_read}
        for event in message.get("events") or []:
            handler = handlers.get(event.get("type")) if isinstance(event, dict) else None
            if handler is None:
                continue
            await handler(event)
            if not self.admitted:  # closed by a failed access check: nothing more goes out
                return

    async def thread_typing(self, event):
        if event.get("sender") == self.channel_name or self.watching != event.get("thread_id"):
            return
        if self.side == "patient" and event.get("side") == "patient":
            return
        if await self._gate(event) is None:
            return
        who = "The care team is typing…" if event.get("side") == "staff" else "The patient is typing…"
        if self.side == "staff" and event.get("side") == "staff":
            who = "A colleague is typing…"
        await self.send_json({"type": "typing", "thread_id": event["thread_id"], "text": who})
