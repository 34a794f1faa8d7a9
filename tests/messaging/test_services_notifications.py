"""notify(): the in-app row in the caller's transaction, the WebSocket event after commit."""
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from apps.core.exceptions import NotFound
from apps.messaging import events, services
from apps.messaging.models import Notification
from apps.messaging.selectors import access_notification, notifications_for, unread_count
from tests.factories import NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db


class FakeLayer:
    """Stands in for the channel layer at its interface: records what is sent."""

    def __init__(self):
        self.sent = []

    async def group_send(self, group, message):
        self.sent.append((group, message))


@pytest.fixture
def layer(monkeypatch):
    fake = FakeLayer()
    monkeypatch.setattr(events, "get_channel_layer", lambda: fake)
    return fake


@pytest.fixture
def user(db):
    return UserFactory()


def batch(user, *sent_events):
    """What the user's group receives for a transaction: one message carrying its events."""
    return (f"user.{user.pk}", {"type": events.BATCH_TYPE, "events": list(sent_events)})


def test_notify_creates_the_row(user, layer):
    notification = services.notify(user=user, kind="offer_made", title="New times offered", body="Pick one", link="/portal/", data={"n": 3}, urgent=True)

    row = Notification.objects.get()
    assert row == notification
    assert (row.recipient, row.kind, row.title, row.body, row.link, row.data, row.urgent) == (
        user, "offer_made", "New times offered", "Pick one", "/portal/", {"n": 3}, True,
    )
    assert row.read_at is None


def test_notify_trims_a_long_title(user, layer):
    assert len(services.notify(user=user, kind="k", title="x" * 500).title) == 200


def test_notify_publishes_only_after_commit(user, layer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = services.notify(user=user, kind="offer_made", title="New times offered")
        assert layer.sent == []

    assert callbacks
    for callback in callbacks:
        callback()
    assert layer.sent == [batch(user, {"type": "notification.new", "notification": notification.as_event()})]


def test_notify_publishes_nothing_when_the_transaction_rolls_back(user, layer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.notify(user=user, kind="offer_made", title="New times offered")
            raise RuntimeError("the event that caused it failed")

    assert callbacks == []
    assert layer.sent == []
    assert not Notification.objects.exists()


def test_the_event_carries_no_more_than_the_row(user, layer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(user=user, kind="k", title="T", body="B", link="/x/")

    (event,) = [e["notification"] for e in layer.sent[0][1]["events"]]
    assert event == {
        "id": str(notification.pk), "kind": "k", "title": "T", "body": "B", "link": "/x/", "urgent": False,
        "created_at": notification.created_at.isoformat(), "read": False,
    }


def test_the_event_reaches_the_users_group_on_a_real_layer(settings, user, django_capture_on_commit_callbacks):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layer = get_channel_layer()
    mine = async_to_sync(channel_layer.new_channel)()
    theirs = async_to_sync(channel_layer.new_channel)()
    async_to_sync(channel_layer.group_add)(events.user_group(user.pk), mine)
    async_to_sync(channel_layer.group_add)(events.user_group(UserFactory().pk), theirs)

    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(user=user, kind="k", title="Hello")

    message = async_to_sync(channel_layer.receive)(mine)
    assert message["type"] == "notification.events"
    assert [(e["type"], e["notification"]["id"]) for e in message["events"]] == [("notification.new", str(notification.pk))]
    assert channel_layer.channels.get(theirs) is None or channel_layer.channels[theirs].qsize() == 0


def test_notify_many_gives_each_user_their_own_row(layer, django_capture_on_commit_callbacks):
    users = [UserFactory() for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        rows = services.notify_many(users=users, kind="queue_changed", title="Queue changed")

    assert {r.recipient_id for r in rows} == {u.pk for u in users}
    assert sorted(g for g, _ in layer.sent) == sorted(f"user.{u.pk}" for u in users)


# --- reading and marking read -------------------------------------------------------------

def test_unread_count_and_list_are_the_users_own(user):
    NotificationFactory.create_batch(2, recipient=user)
    NotificationFactory(recipient=user, read_at="2026-01-01T00:00:00Z")
    NotificationFactory.create_batch(4)

    assert unread_count(user) == 2
    assert notifications_for(user).count() == 3
    assert notifications_for(user, limit=1).count() == 1


def test_access_notification_answers_alike_for_missing_and_not_yours(user):
    theirs = NotificationFactory()

    with pytest.raises(NotFound):
        access_notification(user, theirs.pk)
    with pytest.raises(NotFound):
        access_notification(user, "not-a-uuid")


def test_mark_read_is_idempotent_and_publishes_the_new_count(user, layer, django_capture_on_commit_callbacks):
    notification = NotificationFactory(recipient=user)
    NotificationFactory(recipient=user)

    with django_capture_on_commit_callbacks(execute=True):
        first = services.notification_mark_read(user=user, notification=notification)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.notification_mark_read(user=user, notification=notification)

    assert (first, second) == (1, 0)
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert layer.sent == [batch(user, {"type": "notification.unread", "unread": 1})]


def test_mark_read_refuses_another_users_notification(user, layer):
    theirs = NotificationFactory()

    with pytest.raises(NotFound):
        services.notification_mark_read(user=user, notification=theirs)

    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_touches_only_the_users_notifications(user, layer, django_capture_on_commit_callbacks):
    NotificationFactory.create_batch(3, recipient=user)
    theirs = NotificationFactory()

    with django_capture_on_commit_callbacks(execute=True):
        updated = services.notification_mark_all_read(user=user)

    assert updated == 3
    assert unread_count(user) == 0
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert layer.sent == [batch(user, {"type": "notification.unread", "unread": 0})]
