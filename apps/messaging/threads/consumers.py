"""/ws/messages/: live secure-message events for one patient's own threads, or for the care
team's shared inbox.

connect(): a signed-in patient with an active record joins threads.patient.<their id>; staff
need a verified second factor and messaging.view_thread and join threads.staff. Anyone else is
accepted then closed with 4401/4403 (as /ws/notifications/ does).

Every outgoing event is re-checked: the user is re-read (deactivated, lost the permission or
the second factor -> closed), and for a patient the thread must still be theirs in the
database, whatever group the event came through. Events in the channel layer carry ids only;
the message itself is read here and sent only to a socket that is watching that thread (its
page is open), and that read is recorded in the audit log like a page view.

A transaction's events arrive as one channel-layer message, {"type": "thread.events",
"events": [...]} (apps.messaging.threads.events): each is handled, and re-checked, as if it
came alone, so the page gets the frames it always got. Single events are still accepted
(typing, sent by the consumers themselves, and a process running the previous version
during a deploy).

Client actions: {"action": "watch", "thread": id}, {"action": "read", "thread": id},
{"action": "typing", "thread": id}.
"""
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from apps.accounts.websocket import session_has_verified_device
from apps.core.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ClinicJsonConsumer
from apps.messaging.threads import selectors
from apps.messaging.threads.events import STAFF_GROUP, patient_group, publish_typing_now

TYPING_MIN_INTERVAL = 2.0


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
        "created_display": timezone.localtime(message.created_at).strftime("%b %-d, %Y, %-I:%M %p").replace("AM", "a.m.").replace("PM", "p.m."),
        "attachments": [
            {"id": str(a.pk), "name": a.original_name, "size": a.size, "url": reverse("thread_attachment_download", args=[a.pk])}
            for a in message.attachments.all()
        ],
    }


class ThreadConsumer(ClinicJsonConsumer):
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
        self.side, self.patient_id = state
        group = STAFF_GROUP if self.side == "staff" else patient_group(self.patient_id)
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)
        await self.accept()
        self.admitted = True
        unread = await database_sync_to_async(self._unread)()
        await self.send_json({"type": "hello", "side": self.side, "unread": unread})

    async def disconnect(self, code):
        self.admitted = False
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = []

    # --- access ---------------------------------------------------------------------------

    def _user(self):
        return get_user_model().objects.filter(pk=self.user_id, is_active=True).first()

    def _load_identity(self):
        """("staff", None) or ("patient", patient_id), or None when not allowed."""
        user = self._user()
        if user is None:
            return None
        if user.is_staff:
            if user.has_perm(selectors.VIEW_PERM) and session_has_verified_device(self.scope, user):
                return "staff", None
            return None
        patient = selectors.patient_of(user)
        return ("patient", patient.pk) if patient is not None else None

    def _still_allowed(self):
        """Re-read the user (a permission, the second factor or the account may be gone)."""
        user = self._user()
        if user is None:
            return False
        if self.side == "staff":
            return user.is_staff and user.has_perm(selectors.VIEW_PERM) and session_has_verified_device(self.scope, user)
        patient = selectors.patient_of(user)
        return patient is not None and patient.pk == self.patient_id

    def _thread_allowed(self, thread_id):
        from apps.messaging.threads.models import Thread

        qs = Thread.objects.filter(pk=thread_id)
        if self.side == "patient":
            qs = qs.filter(patient_id=self.patient_id)
        return qs.values_list("patient_id", flat=True).first()

    def _unread(self):
        if self.side == "staff":
            return selectors.staff_unread_thread_count()
        from apps.patients.models import Patient

        return selectors.patient_unread_thread_count(Patient(pk=self.patient_id))

    def _thread_unread(self, thread_id):
        from apps.messaging.threads.models import Thread

        thread = selectors._with_unread_counts(Thread.objects.filter(pk=thread_id), self.side).first()
        return thread.unread if thread else 0

    def _check_event(self, event):
        """None when this socket may hear about the event's thread, else "close" or "drop"."""
        if self.side == "patient" and event.get("patient_id") != str(self.patient_id):
            return "drop"
        if not self._still_allowed():
            return "close"
        if self._thread_allowed(event.get("thread_id")) is None:
            return "drop"
        return None

    async def _gate(self, event):
        verdict = await database_sync_to_async(self._check_event)(event)
        if verdict == "close":
            await self.disconnect(CLOSE_FORBIDDEN)
            await self.close(code=CLOSE_FORBIDDEN)
            return False
        return verdict is None

    # --- from the client ------------------------------------------------------------------

    async def receive_json(self, content, **kwargs):
        action, thread_id = content.get("action"), str(content.get("thread", ""))
        if action not in {"watch", "read", "typing"}:
            await self.send_error("unknown_action", "Unknown action.")
            return
        allowed = await database_sync_to_async(self._action_allowed)(thread_id)
        if allowed is None:
            await self.send_error("not_found", "Not found.")
            return
        if action == "watch":
            self.watching = thread_id
            await self.send_json({"type": "watching", "thread_id": thread_id})
        elif action == "read":
            unread = await database_sync_to_async(self._mark_read)(thread_id)
            await self.send_json({"type": "unread", "unread": unread, "thread_id": thread_id, "thread_unread": 0})
        elif action == "typing":
            now = timezone.now().timestamp()
            if now - self.last_typing >= TYPING_MIN_INTERVAL:
                self.last_typing = now
                groups, event = publish_typing_now(thread_id, allowed, self.side, self.channel_name)
                for group in groups:
                    await self.channel_layer.group_send(group, event)

    def _action_allowed(self, thread_id):
        try:
            import uuid

            uuid.UUID(thread_id)
        except ValueError:
            return None
        if not self._still_allowed():
            return None
        return self._thread_allowed(thread_id)

    def _mark_read(self, thread_id):
        from apps.messaging.threads.services import thread_mark_read

        user = self._user()
        thread = selectors._thread_qs().get(pk=thread_id)
        thread_mark_read(thread=thread, user=user)
        return self._unread()

    # --- group events ---------------------------------------------------------------------

    async def thread_message(self, event):
        if not await self._gate(event):
            return
        thread_id = event["thread_id"]
        if self.watching == thread_id:
            payload = await database_sync_to_async(self._load_message)(thread_id, event["message_id"])
            if payload is not None:
                await self.send_json({"type": "message", "thread_id": thread_id, "message": payload})
        else:
            await self.send_json({"type": "activity", "thread_id": thread_id})
        unread, thread_unread = await database_sync_to_async(self._counts)(thread_id)
        await self.send_json({"type": "unread", "unread": unread, "thread_id": thread_id, "thread_unread": thread_unread})

    def _counts(self, thread_id):
        return self._unread(), self._thread_unread(thread_id)

    def _load_message(self, thread_id, message_id):
        from apps.audit import context as audit_context
        from apps.audit.services import record

        message = selectors.message_for_socket(thread_id, message_id)
        if message is None or (self.side == "patient" and message.thread.patient_id != self.patient_id):
            return None
        user = self._user()
        token = audit_context.activate(audit_context.AuditContext(
            user=user, ip=(self.scope.get("client") or [None])[0], path=self.scope.get("path", "")[:300],
        ))
        try:
            record("read", message.thread, detail={"view": "ws_message", "message": str(message.pk)})
        finally:
            audit_context.deactivate(token)
        return _message_payload(message, self.side)

    async def thread_updated(self, event):
        if not await self._gate(event):
            return
        message = {"type": "thread", "thread_id": event["thread_id"], "status": event.get("status")}
        if self.side == "staff":
            message["assigned_to_id"] = event.get("assigned_to_id")
        await self.send_json(message)

    async def thread_read(self, event):
        if event.get("side") != self.side:
            return
        if not await self._gate(event):
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
            if not self.groups_joined:  # closed by a failed access check: nothing more goes out
                return

    async def thread_typing(self, event):
        if event.get("sender") == self.channel_name or self.watching != event.get("thread_id"):
            return
        if self.side == "patient" and event.get("side") == "patient":
            return
        if not await self._gate(event):
            return
        who = "The care team is typing…" if event.get("side") == "staff" else "The patient is typing…"
        if self.side == "staff" and event.get("side") == "staff":
            who = "A colleague is typing…"
        await self.send_json({"type": "typing", "thread_id": event["thread_id"], "text": who})
