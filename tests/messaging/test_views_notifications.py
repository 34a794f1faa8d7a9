"""/notifications/: the signed-in user's own notifications, opening one, marking all read."""
import uuid

import pytest

from apps.messaging.models import Notification
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

LIST = "/notifications/"
READ_ALL = "/notifications/read-all/"


def open_url(notification):
    return f"/notifications/{notification.pk}/open/"


@pytest.fixture(autouse=True)
def _no_channel_layer(monkeypatch):
    from apps.messaging import events

    monkeypatch.setattr(events, "get_channel_layer", lambda: None)


# --- who gets in --------------------------------------------------------------------------

@pytest.mark.parametrize("method, url", [("get", LIST), ("post", READ_ALL), ("post", "open")])
def test_anonymous_is_sent_to_login(client, patient, method, url):
    notification = NotificationFactory(recipient=patient.user)
    url = open_url(notification) if url == "open" else url

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Notification.objects.get().read_at is None


def test_unverified_staff_are_sent_to_mfa(client_for, front_desk):
    response = client_for(front_desk, verified=False).get(LIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/mfa/")


@pytest.mark.parametrize("who", ["patient", "front_desk", "nurse", "provider_user", "billing_user", "clinic_admin"])
def test_everyone_signed_in_sees_only_their_own(request, client_for, other_patient, who):
    fixture = request.getfixturevalue(who)
    user = fixture.user if who == "patient" else fixture
    NotificationFactory(recipient=user, title="Mine to read")
    NotificationFactory(recipient=other_patient.user, title="Someone else's")

    response = client_for(user).get(LIST)

    assert response.status_code == 200
    assert b"Mine to read" in response.content
    assert b"Someone else" not in response.content
    assert [n.recipient_id for n in response.context["page"]] == [user.pk]


def test_a_registrant_without_a_record_can_read_their_notifications(client_for, db):
    from tests.factories import UserFactory

    user = UserFactory()
    NotificationFactory(recipient=user, title="Welcome")

    assert b"Welcome" in client_for(user).get(LIST).content


# --- the list -----------------------------------------------------------------------------

def test_the_list_is_newest_first_and_paginated(client_for, patient):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    for i in range(30):
        NotificationFactory(recipient=patient.user, title=f"n{i:02d}", created_at=now - timedelta(minutes=i))
    client = client_for(patient.user)

    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})

    assert [n.title for n in first.context["page"]][:3] == ["n00", "n01", "n02"]
    assert len(first.context["page"]) == 25
    assert len(second.context["page"]) == 5


def test_the_bell_shows_the_unread_count(client_for, patient):
    NotificationFactory.create_batch(3, recipient=patient.user)
    NotificationFactory(recipient=patient.user, read_at="2026-01-01T00:00:00Z")

    response = client_for(patient.user).get(LIST)

    assert response.context["unread_notifications"] == 3


def test_get_on_the_actions_is_not_allowed(client_for, patient):
    notification = NotificationFactory(recipient=patient.user)
    client = client_for(patient.user)

    assert client.get(open_url(notification)).status_code == 405
    assert client.get(READ_ALL).status_code == 405
    assert Notification.objects.get().read_at is None


# --- opening ------------------------------------------------------------------------------

def test_opening_marks_read_and_follows_the_link(client_for, patient):
    notification = NotificationFactory(recipient=patient.user, link="/portal/")

    response = client_for(patient.user).post(open_url(notification))

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_opening_one_without_a_link_goes_back_to_the_list(client_for, patient):
    notification = NotificationFactory(recipient=patient.user, link="")

    response = client_for(patient.user).post(open_url(notification))

    assert response["Location"] == LIST


@pytest.mark.parametrize("link", ["https://evil.example/phish", "//evil.example/", "javascript:alert(1)"])
def test_an_outside_link_is_not_followed(client_for, patient, link):
    notification = NotificationFactory(recipient=patient.user, link=link)

    response = client_for(patient.user).post(open_url(notification))

    assert response.status_code == 302
    assert response["Location"] == LIST


def test_opening_twice_keeps_the_first_read_time(client_for, patient):
    notification = NotificationFactory(recipient=patient.user, link="/portal/")
    client = client_for(patient.user)
    client.post(open_url(notification))
    first = Notification.objects.get().read_at

    client.post(open_url(notification))

    assert Notification.objects.get().read_at == first


@pytest.mark.parametrize("who", ["other_patient", "front_desk"])
def test_another_users_notification_is_404(request, client_for, patient, who):
    theirs = NotificationFactory(recipient=patient.user, link="/portal/")
    fixture = request.getfixturevalue(who)
    intruder = fixture.user if who == "other_patient" else fixture

    response = client_for(intruder).post(open_url(theirs))

    assert response.status_code == 404
    assert Notification.objects.get().read_at is None


def test_an_unknown_id_is_404(client_for, patient):
    assert client_for(patient.user).post(f"/notifications/{uuid.uuid4()}/open/").status_code == 404


# --- mark all read ------------------------------------------------------------------------

def test_mark_all_read_marks_only_mine(client_for, patient, other_patient):
    NotificationFactory.create_batch(3, recipient=patient.user)
    theirs = NotificationFactory(recipient=other_patient.user)

    response = client_for(patient.user).post(READ_ALL)

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not Notification.objects.filter(recipient=patient.user, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None
