"""The notification service later features call. notify() writes the in-app row in the
caller's transaction and pushes it over WebSockets after commit (and queues a push to each of
the user's phones, apps/messaging/push/services.py); with outbox=True it also
queues SMS/email for a patient through message_enqueue (apps/messaging/outbox.py)."""
from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import NotFound
from apps.messaging.events import publish_to_user
from apps.messaging.hooks import notifications_changed
from apps.messaging.models import Channel, Notification
from apps.messaging.outbox import message_enqueue  # noqa: F401  (re-exported: the outbox API)
from apps.messaging.push.services import push_enqueue
from apps.messaging.selectors import unread_count
from apps.patients.models import Patient


def notify(*, user, kind, title, body="", link="", data=None, urgent=False, outbox=False, context=None, dedupe_key=None):
    """Create an in-app notification for `user` (call inside the transaction of the event that
    causes it). The user's open sockets receive it after commit. Keep PHI out of title/body
    beyond what the recipient may see; never put PHI in `link`.

    outbox=True: when `user` is a patient, the same event is also queued for SMS and email
    (by the patient's preferences and quiet hours) through message_enqueue, in this same
    transaction. SMS and email never reuse `title`/`body`: their words come from the
    MessageTemplate for `kind`, rendered with `context` (only PHI-free keys are used).
    `dedupe_key` makes the SMS/email once-only for an event (default: this notification)."""
    notification = Notification.objects.create(
        recipient=user, kind=kind, title=title[:200], body=body, link=link, data=data or {}, urgent=urgent
    )
    publish_to_user(user.pk, "notification.new", {"notification": notification.as_event()})
    # One push per notification to each of the user's phones (a generic line, no PHI).
    push_enqueue(notification=notification)
    if outbox and not user.is_staff:
        patient = Patient.objects.filter(user=user).first()
        if patient is not None:
            message_enqueue(
                kind=kind,
                patient=patient,
                user=user,
                channels=(Channel.SMS, Channel.EMAIL),
                context=context,
                link=link,
                urgent=urgent,
                dedupe_key=dedupe_key or f"notify:{notification.pk}",
            )
    return notification


def notify_many(*, users, kind, title, body="", link="", data=None, urgent=False, outbox=False, context=None, dedupe_key=None):
    """The same notification to several users (for example every front-desk user). With
    outbox=True and a dedupe_key, each user's key is made distinct by their id."""
    return [
        notify(
            user=u, kind=kind, title=title, body=body, link=link, data=data, urgent=urgent, outbox=outbox,
            context=context, dedupe_key=f"{dedupe_key}:u{u.pk}" if dedupe_key else None,
        )
        for u in users
    ]


def _publish_unread(user):
    publish_to_user(user.pk, "notification.unread", {"unread": unread_count(user)})


# Ids marked read per UPDATE: keeps each statement's parameters well under SQLite's limit.
READ_BATCH = 500


@transaction.atomic
def notification_mark_read(*, user, notification):
    """Mark one of the user's notifications read (idempotent); every open tab of the user,
    on any server process, gets the new unread count. A QuerySet.update() sends no
    post_save, so the floors above hear of it through hooks.notifications_changed."""
    if notification.recipient_id != user.pk:
        raise NotFound()
    updated = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    if updated:
        notifications_changed.all(user=user, ids=[notification.pk])
        _publish_unread(user)
    return updated


@transaction.atomic
def notification_mark_all_read(*, user):
    """Mark every unread notification of the user read, in batches of READ_BATCH (a fixed
    number of statements per batch, whatever it holds); the floors above hear of each batch
    through hooks.notifications_changed. Every open tab gets the new unread count."""
    now, updated = timezone.now(), 0
    # The rows are locked while read (PostgreSQL), so a concurrent "mark all" waits for this
    # one instead of reporting the same rows as its own.
    ids = list(Notification.objects.for_user(user).unread().select_for_update().values_list("pk", flat=True))
    for start in range(0, len(ids), READ_BATCH):
        batch = ids[start:start + READ_BATCH]
        updated += Notification.objects.filter(pk__in=batch, read_at__isnull=True).update(read_at=now)
        notifications_changed.all(user=user, ids=batch)
    _publish_unread(user)
    return updated
