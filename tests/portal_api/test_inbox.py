"""The notification inbox for phone apps: list, mark read, mark all read and the unread count
through an app token, in a fixed number of queries however many notifications there are; and
the same notifications live over /ws/notifications/ with the app's token in the handshake
(a revoked, malformed or staff token refused with 4401)."""
import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.messaging.consumers import CLOSE_UNAUTHENTICATED
from apps.messaging.models import Notification
from apps.messaging.services import notify
from tests import ws
from tests.factories import NotificationFactory
from tests.portal_api.test_api_portal import App, sign_in
from tests.ws import ORIGIN, accepted_then_closed_with, own_channel_layer, run  # noqa: F401

PATH = "/ws/notifications/"


def queries(call):
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response


@pytest.mark.django_db
def test_the_inbox_costs_the_same_queries_for_2_or_40_notifications(patient):
    app = App(sign_in(patient.user))
    for i in range(2):
        NotificationFactory(recipient=patient.user, title=f"Notice {i}")
    few, first = queries(lambda: app.get("notifications/"))
    for i in range(38):
        NotificationFactory(recipient=patient.user, title=f"Notice {i + 2}")
    many, second = queries(lambda: app.get("notifications/", page_size=50))
    assert few == many
    assert first.json()["count"] == 2 and second.json()["count"] == 40
    assert {n["title"] for n in second.json()["results"]} == {f"Notice {i}" for i in range(40)}
    unread_queries, unread = queries(lambda: app.get("notifications/unread-count/"))
    assert unread.json() == {"unread": 40}
    read_all_queries, _ = queries(lambda: app.post("notifications/read-all/"))
    assert app.get("notifications/unread-count/").json() == {"unread": 0}
    # Marking read adds the ids read, their UPDATE, and the sync log's DELETE and INSERT.
    assert unread_queries <= few and read_all_queries <= few + 5
    for i in range(2):
        NotificationFactory(recipient=patient.user, title=f"Later {i}")
    read_two_queries, _ = queries(lambda: app.post("notifications/read-all/"))
    assert read_two_queries == read_all_queries


@pytest.mark.django_db
def test_marking_one_read_lowers_the_count_and_another_patients_is_404(patient, other_patient):
    app = App(sign_in(patient.user))
    mine = NotificationFactory(recipient=patient.user, title="Mine")
    NotificationFactory(recipient=patient.user, title="Also mine")
    theirs = NotificationFactory(recipient=other_patient.user, title="Theirs")
    response = app.post(f"notifications/{mine.pk}/read/")
    assert response.status_code == 200 and response.json() == {"unread": 1}
    assert app.post(f"notifications/{theirs.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    listed = app.get("notifications/").json()["results"]
    assert {n["title"]: n["read_at"] is not None for n in listed} == {"Mine": True, "Also mine": False}


def app_socket(token, origin=ORIGIN):
    comm = ws.communicator(PATH, None, origin=origin)
    comm.scope["headers"] = [*comm.scope["headers"], (b"x-session-token", token.encode())]
    return comm


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_channel_layer")
def test_an_app_token_hears_its_notifications_live(patient):
    token = sign_in(patient.user)
    NotificationFactory(recipient=patient.user, title="Earlier")

    async def scenario():
        comm = app_socket(token)
        accepted, _ = await comm.connect(timeout=5)
        assert accepted
        hello = await comm.receive_json_from(timeout=5)
        assert hello["type"] == "hello" and hello["unread"] == 1
        assert [n["title"] for n in hello["recent"]] == ["Earlier"]
        await database_sync_to_async(notify)(user=patient.user, kind="secure_message", title="You have a new message")
        frame = await comm.receive_json_from(timeout=5)
        assert frame["type"] == "notification" and frame["notification"]["title"] == "You have a new message"
        await comm.disconnect()

    run(scenario)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_channel_layer")
@pytest.mark.parametrize("token", ["not-a-real-session-token", "a\x00b" * 3, "x" * 10_000])
def test_an_unknown_or_malformed_app_token_is_refused_with_4401(token):
    async def scenario():
        await accepted_then_closed_with(app_socket(token), CLOSE_UNAUTHENTICATED)

    run(scenario)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_channel_layer")
def test_a_signed_out_app_token_is_refused_with_4401(patient):
    app = App(sign_in(patient.user))
    token = app.headers["HTTP_X_SESSION_TOKEN"]
    app.client.delete("/_allauth/app/v1/auth/session", **app.headers)

    async def scenario():
        await accepted_then_closed_with(app_socket(token), CLOSE_UNAUTHENTICATED)

    run(scenario)
