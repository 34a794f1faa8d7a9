"""Every write to threads. Each takes keyword arguments, runs in one transaction, records the
audit row, notifies the other side through notify() and publishes live events after commit.

State. A thread's close and reopen go through core's transition() (Thread.TRANSITIONS, the
ThreadEvent row, the audit entry by the audit app's listener); its creation and each
assignment are ThreadEvent rows through record_event(). Live events are published here, next
to each of those calls (apps/messaging/threads/events.py), not from a transition listener.

Who writes. `author` is a User (a patient writing in the portal, or staff); `api_key` is an
integrator (its messages are SYSTEM messages labelled with the key's name); SMS comes through
route_to_thread (apps/messaging/two_way.py) as an SMS message with no author.

Closed threads. A patient who writes into a closed thread reopens it (an event row records
"patient_replied"): a follow-up usually belongs with the conversation it follows, and turning
the patient away would send them to the phone. Staff and integrators cannot write into a
closed thread (409 thread_closed): they reopen it first, on purpose.

Notifications. A staff reply notifies the patient in-app every time and by SMS/email (their
preferences and quiet hours, through the outbox) only for the first unread reply: three
replies in a row send one text, "New message from your care team", never the message itself.
A patient message notifies the assignee, or the desk roles (front desk and nurses) when the
thread is unassigned, in-app, and only when the thread was not already waiting for the team.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.audit.services import record
from apps.core import transitions
from apps.core.exceptions import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from apps.messaging.services import notify
from apps.messaging.threads import events
from apps.messaging.threads.attachments import AttachmentRejected, inspect_upload, max_per_message
from apps.messaging.threads.models import Attachment, Message, ReadReceipt, Thread, ThreadEvent
from apps.messaging.threads.selectors import ASSIGN_PERM, CHANGE_PERM, REPLY_PERM

MAX_BODY = 10_000
MAX_SUBJECT = 200
# Roles told about a patient message in an unassigned thread.
DESK_ROLES = ("front_desk", "nurse")
NOTIFY_KIND_PATIENT = "secure_message"
NOTIFY_KIND_STAFF = "secure_message_staff"
PATIENT_TITLE = "New message from your care team"


# --- helpers ------------------------------------------------------------------------------

def _author_of(*, thread, author, api_key, sms):
    """(author_kind, label) for whoever writes, after checking they may write here."""
    if sms:
        return Message.AuthorKind.SMS, "Text message"
    if api_key is not None:
        return Message.AuthorKind.SYSTEM, f"{api_key.name}"[:120]
    if author is None:
        raise PermissionDenied()
    if author.is_staff:
        if not (author.is_clinic_staff and author.has_perm(REPLY_PERM)):
            raise PermissionDenied()
        return Message.AuthorKind.STAFF, author.get_full_name()[:120]
    if thread.patient.user_id != author.pk:
        raise NotFound()
    return Message.AuthorKind.PATIENT, ""


def _inspect_all(files):
    files = [f for f in (files or []) if f]
    if len(files) > max_per_message():
        raise ValidationFailed({"attachments": [f"Attach at most {max_per_message()} files to one message."]})
    inspected, errors = [], []
    for upload in files:
        try:
            inspected.append((upload, inspect_upload(upload)))
        except AttachmentRejected as exc:
            errors.append(exc.message)
    if errors:
        raise ValidationFailed({"attachments": errors})
    return inspected


def _clean_body(body, *, allow_empty):
    body = (body or "").strip()
    if not body and not allow_empty:
        raise ValidationFailed({"body": ["Write a message."]})
    if len(body) > MAX_BODY:
        raise ValidationFailed({"body": [f"Keep a message under {MAX_BODY} characters."]})
    return body


def _actor_label(actor, api_key=None, label=""):
    """Who acted, as the thread's history shows it: an integrator's key name, a user's name,
    or "system"."""
    if label:
        return label
    if api_key is not None:
        return f"{api_key.name}"[:120]
    if getattr(actor, "pk", None):
        return actor.get_full_name()[:120]
    return "system"


def _record_event(thread, kind, *, actor=None, api_key=None, label="", **event_fields):
    """An event row that is not a status change (the thread's creation, an assignment), through
    core's record_event. The audit entry stays the service's own (record("create") on
    creation, the assignee on assignment), so record_event writes none."""
    return transitions.record_event(
        thread, actor=actor if getattr(actor, "pk", None) else None, actor_label=_actor_label(actor, api_key, label),
        event_fields={"kind": kind, **event_fields}, from_status="",
        to_status=thread.status if kind == ThreadEvent.Kind.CREATED else "", audit=False,
    )


def _portal_link(thread):
    return reverse("portal_thread_detail", args=[thread.pk])


def _staff_link(thread):
    return reverse("staff_thread_detail", args=[thread.pk])


def _is_messaging_staff(user):
    return user is not None and user.is_active and user.is_staff and user.has_perm("messaging.view_thread")


def _notify_staff(thread, *, title, exclude=None):
    if thread.assigned_to_id and _is_messaging_staff(thread.assigned_to):
        users = [thread.assigned_to]
    else:
        User = get_user_model()
        users = list(User.objects.filter(is_active=True, is_staff=True, groups__name__in=DESK_ROLES).distinct().order_by("pk"))
    for user in users:
        if exclude is not None and user.pk == exclude.pk:
            continue
        # The subject may be clinical; staff may read it, and this is in-app only.
        notify(user=user, kind=NOTIFY_KIND_STAFF, title=title, body=thread.subject, link=_staff_link(thread))


def _notify_patient(thread, message, *, first_unread):
    user = thread.patient.user
    if user is None or not user.is_active:
        return
    # No message body and no subject: the notification (and the SMS/email the outbox makes of
    # it from the secure_message template) only says there is something to read.
    notify(
        user=user, kind=NOTIFY_KIND_PATIENT, title=PATIENT_TITLE, body="", link=_portal_link(thread),
        outbox=first_unread, dedupe_key=f"thread-message:{message.pk}",
    )


# --- writes -------------------------------------------------------------------------------

@transaction.atomic
def thread_create(*, patient, subject, body, author=None, api_key=None, files=()):
    """Open a thread for `patient` with its first message. Requires: `author` is that patient,
    or staff with messaging.add_thread and reply_thread; or an integrator `api_key`. Triggers:
    the other side is notified; live events after commit. Returns the thread."""
    subject = (subject or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = ["Give your message a subject."]
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = [f"Keep the subject under {MAX_SUBJECT} characters."]
    if errors:
        raise ValidationFailed(errors)
    if author is not None and author.is_staff and not author.has_perm("messaging.add_thread"):
        raise PermissionDenied()
    if author is not None and not author.is_staff and patient.user_id != author.pk:
        raise NotFound()
    now = timezone.now()
    thread = Thread.objects.create(
        patient=patient, subject=subject, created_by=author if getattr(author, "pk", None) else None,
        last_message_at=now,
    )
    _record_event(thread, ThreadEvent.Kind.CREATED, actor=author, api_key=api_key)
    record("create", thread)
    message_post(thread=thread, body=body, author=author, api_key=api_key, files=files)
    thread.refresh_from_db()
    return thread


@transaction.atomic
def message_post(*, thread, body, author=None, api_key=None, files=(), sms=False):
    """Add a message to `thread`. Requires: the author may write here (see _author_of); the
    thread is open, except that a patient's message reopens a closed thread. Attachments are
    checked by content before anything is written. Updates the thread's last-message and the
    author side's read time; notifies the other side; publishes thread.message (and
    thread.updated on a reopen) after commit. Returns the message."""
    kind, label = _author_of(thread=thread, author=author, api_key=api_key, sms=sms)
    inspected = _inspect_all(files)
    body = _clean_body(body, allow_empty=bool(inspected))
    # Lock the thread: concurrent posts update its last-message times and status in turn.
    locked = transitions.lock(Thread, thread.pk)
    reopened = False
    if locked.status == Thread.Status.CLOSED:
        if kind == Message.AuthorKind.PATIENT:
            _move(locked, Thread.Status.OPEN, actor=author, reason="patient_replied")
            reopened = True
        else:
            raise InvalidTransition("This conversation is closed. Reopen it to reply.", code="thread_closed")
    patient_side = kind in Message.PATIENT_SIDE
    was_unread_for_other_side = locked.unread_for_staff if patient_side else locked.unread_for_patient
    now = timezone.now()
    message = Message.objects.create(
        thread=locked, author=author if getattr(author, "pk", None) else None, author_kind=kind,
        author_label=label, body=body, created_at=now,
    )
    saved = []
    try:
        for upload, facts in inspected:
            saved.append(_attachment_store(message=message, upload=upload, facts=facts, uploaded_by=author))
        _message_bookkeeping(locked, message, author=author, kind=kind, patient_side=patient_side, now=now)
    except Exception:
        # Files are written before the transaction commits: a failure here rolls the rows
        # back, so remove the files too. (A rollback by an outer caller after we return would
        # leave unreachable files under random names; no caller with attachments nests us.)
        for attachment in saved:
            attachment.file.delete(save=False)
        raise

    if patient_side:
        if not was_unread_for_other_side or reopened:
            _notify_staff(locked, title="New patient message" if kind == Message.AuthorKind.PATIENT else "New text message from a patient")
    else:
        _notify_patient(locked, message, first_unread=not was_unread_for_other_side)
    events.publish_message(message)
    if reopened:
        events.publish_updated(locked)
    for field in ("status", "closed_at", "last_message_at", "last_patient_message_at", "last_staff_message_at", "patient_read_at", "staff_read_at"):
        setattr(thread, field, getattr(locked, field))
    return message


def _message_bookkeeping(locked, message, *, author, kind, patient_side, now):
    locked.last_message_at = now
    fields = ["last_message_at", "updated_at"]
    if patient_side:
        locked.last_patient_message_at = now
        fields.append("last_patient_message_at")
        if kind == Message.AuthorKind.PATIENT:
            locked.patient_read_at = now
            fields.append("patient_read_at")
    else:
        locked.last_staff_message_at = now
        fields.append("last_staff_message_at")
        if kind == Message.AuthorKind.STAFF:
            locked.staff_read_at = now
            fields.append("staff_read_at")
    locked.save(update_fields=fields)
    if getattr(author, "pk", None):
        ReadReceipt.objects.update_or_create(thread=locked, user=author, defaults={"last_read_at": now})
    record("create", message, patient_id=locked.patient_id)


def attachment_add(*, message, upload, uploaded_by=None):
    """Attach one uploaded file to `message` after checking it (type by content, size).
    Raises ValidationFailed({"attachments": [...]}) when the file is refused."""
    try:
        facts = inspect_upload(upload)
    except AttachmentRejected as exc:
        raise ValidationFailed({"attachments": [exc.message]})
    with transaction.atomic():
        return _attachment_store(message=message, upload=upload, facts=facts, uploaded_by=uploaded_by)


def _attachment_store(*, message, upload, facts, uploaded_by):
    content_type, size, sha256, name = facts
    attachment = Attachment(
        message=message, original_name=name, content_type=content_type, size=size, sha256=sha256,
        uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None,
    )
    upload.seek(0)
    attachment.file.save(name, upload, save=False)
    attachment.save()
    return attachment


def _move(thread, to, *, actor=None, api_key=None, reason=""):
    """Move a thread this transaction has locked to `to` through core's transition(): the
    table (Thread.TRANSITIONS) is checked, the row saved with closed_at, the ThreadEvent
    written and the audit entry made (the audit app's transition listener). A refused move is
    InvalidTransition (409) in the conversation's own words."""
    if not transitions.can_transition(Thread, thread.status, to):
        raise InvalidTransition(f"A {thread.get_status_display().lower()} conversation cannot become {to}.")
    transitions.transition(
        thread, to, actor=actor if getattr(actor, "pk", None) else api_key, actor_label=_actor_label(actor, api_key),
        reason=reason, locked=True, fields={"closed_at": timezone.now() if to == Thread.Status.CLOSED else None},
        event_fields={"kind": ThreadEvent.Kind.STATUS},
    )


def _staff_write_check(actor, perm, api_key=None):
    if api_key is not None:
        return
    if actor is None or not actor.is_clinic_staff or not actor.has_perm(perm):
        raise PermissionDenied()


def _staff_set_status(thread, status, *, actor, api_key, reason):
    _staff_write_check(actor, CHANGE_PERM, api_key)
    locked = transitions.lock(Thread, thread.pk)
    _move(locked, status, actor=actor, api_key=api_key, reason=reason)
    events.publish_updated(locked)
    return locked


@transaction.atomic
def thread_close(*, thread, actor=None, api_key=None, reason=""):
    """OPEN -> CLOSED. Requires messaging.change_thread. 409 when already closed."""
    return _staff_set_status(thread, Thread.Status.CLOSED, actor=actor, api_key=api_key, reason=reason)


@transaction.atomic
def thread_reopen(*, thread, actor=None, api_key=None, reason=""):
    """CLOSED -> OPEN. Requires messaging.change_thread. 409 when already open."""
    return _staff_set_status(thread, Thread.Status.OPEN, actor=actor, api_key=api_key, reason=reason)


@transaction.atomic
def thread_assign(*, thread, actor, assignee=None, api_key=None):
    """Assign `thread` to `assignee` (None: unassign). Requires messaging.assign_thread; the
    assignee must be active staff who may reply. Writes the event row, notifies the assignee
    (unless they assigned themselves), publishes thread.updated after commit."""
    _staff_write_check(actor, ASSIGN_PERM, api_key)
    if assignee is not None and not (assignee.is_active and assignee.is_staff and assignee.has_perm(REPLY_PERM)):
        raise ValidationFailed({"assigned_to": ["Choose a staff member who can reply to messages."]})
    locked = transitions.lock(Thread, thread.pk)
    if locked.assigned_to_id == getattr(assignee, "pk", None):
        return locked
    before = locked.assigned_to
    locked.assigned_to = assignee
    locked.save(update_fields=["assigned_to", "updated_at"])
    _record_event(locked, ThreadEvent.Kind.ASSIGNED, actor=actor, api_key=api_key, from_assignee=before, to_assignee=assignee)
    record("update", locked, detail={"assigned_to": str(getattr(assignee, "pk", "") or "")})
    if assignee is not None and (actor is None or assignee.pk != actor.pk):
        notify(user=assignee, kind=NOTIFY_KIND_STAFF, title="A patient conversation was assigned to you", body=locked.subject, link=_staff_link(locked))
    events.publish_updated(locked)
    return locked


def thread_mark_read(*, thread, user, up_to=None):
    """Record that `user` has read `thread` up to `up_to` (default now; pages pass the time of
    the newest message they showed, so a message that arrives while the page renders stays
    unread). Patient: the thread's patient_read_at; staff: the team's staff_read_at. Only ever
    moves forward. Publishes thread.read when the side's read time moved. Returns True then."""
    up_to = up_to or timezone.now()
    field = "staff_read_at" if user.is_staff else "patient_read_at"
    with transaction.atomic():
        moved = Thread.objects.filter(pk=thread.pk).filter(Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": up_to})).update(**{field: up_to})
        ReadReceipt.objects.update_or_create(thread_id=thread.pk, user=user, defaults={"last_read_at": up_to})
        if moved:
            setattr(thread, field, up_to)
            events.publish_read(thread, "staff" if user.is_staff else "patient")
    return bool(moved)


# --- SMS ----------------------------------------------------------------------------------

SMS_SUBJECT = "Text message"


@transaction.atomic
def sms_route_to_thread(*, inbound):
    """A free-text SMS from a matched patient: into their most recently active open thread,
    or a new thread "Text message". The message is an SMS message (no author); staff are
    notified as for any patient message. Returns the message, or None when the SMS has no
    single patient (staff handle it from the Inbound SMS list)."""
    patient = inbound.patient
    if patient is None:
        return None
    thread = Thread.objects.filter(patient=patient, status=Thread.Status.OPEN).order_by("-last_message_at", "-id").first()
    if thread is None:
        thread = Thread.objects.create(patient=patient, subject=SMS_SUBJECT, last_message_at=timezone.now())
        _record_event(thread, ThreadEvent.Kind.CREATED, label="sms")
    body = (inbound.body or "").strip() or "(empty text message)"
    return message_post(thread=thread, body=body, sms=True)
