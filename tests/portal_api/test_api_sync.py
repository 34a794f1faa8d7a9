"""Offline sync through a phone app's session token: the change feed (a cursor round trip with
changes and tombstones, pages, a fixed number of queries, nothing of another patient's) and
queued actions (a retry applied once, a conflict refused with the live error)."""
import uuid

import pytest
from django.test import Client

from apps.messaging.models import Notification
from apps.messaging.threads.models import Message, Thread
from apps.messaging.threads.services import thread_create
from apps.portal_api.models import SyncAction, SyncChange
from apps.records.models import RefillRequest
from apps.scheduling.models import Visit
from apps.scheduling.services import booking_create, visit_cancel
from tests.factories import NotificationFactory
from tests.portal_api.test_api_portal import App, booked, free_slot, sign_in, world  # noqa: F401 (fixture)
from tests.records.factories import lab, medication, provider_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_settling(settings):
    settings.PORTAL_SYNC_SETTLE_SECONDS = 0


@pytest.fixture
def app(patient):
    return App(sign_in(patient.user))


def sync(app, cursor=None, **params):
    response = app.get("sync/", **({"since": cursor} if cursor else {}), **params)
    assert response.status_code == 200, response.content
    return response.json()


def by_kind(body):
    return {(c["kind"], c["id"]): c for c in body["changes"]}


# --- the feed -------------------------------------------------------------------------------

def test_a_cursor_round_trip_brings_changes_then_nothing_then_the_tombstones(app, world, patient):
    visit = booked(world, patient)
    thread = thread_create(patient=patient, subject="My knee", body="It still hurts", author=patient.user)
    note = NotificationFactory(recipient=patient.user, title="Your visit is booked")

    first = sync(app)
    changes = by_kind(first)
    assert changes[("appointment", str(visit.pk))]["data"]["status"] == "PLANNED"
    assert changes[("thread", str(thread.pk))]["data"]["subject"] == "My knee"
    message = Message.objects.get(thread=thread)
    assert changes[("message", str(message.pk))]["data"]["body"] == "It still hurts"
    assert changes[("message", str(message.pk))]["data"]["thread"] == str(thread.pk)
    assert changes[("notification", str(note.pk))]["data"]["title"] == "Your visit is booked"
    assert not any(c["deleted"] for c in first["changes"]) and first["more"] is False

    assert sync(app, first["cursor"])["changes"] == []

    visit_cancel(visit=visit, actor=patient.user, reason="Feeling better")
    note_id = str(note.pk)
    note.delete()  # as a purge of old notifications would
    second = sync(app, first["cursor"])
    changes = by_kind(second)
    assert changes[("appointment", str(visit.pk))]["data"]["status"] == "CANCELLED"
    assert changes[("notification", note_id)] == {"kind": "notification", "id": note_id, "deleted": True, "data": None}
    # Only what changed since the cursor (the cancellation's own notice among them).
    assert ("thread", str(thread.pk)) not in changes
    assert {kind for kind, _ in changes} == {"appointment", "notification"}
    assert sync(app, second["cursor"])["changes"] == []


def test_a_record_the_patient_may_not_see_yet_is_left_out_until_released(app, patient, provider_user):
    provider_for(provider_user)
    result = lab(patient, provider_user)
    hidden = by_kind(sync(app))[("lab", str(result.pk))]
    assert hidden["deleted"] is True and hidden["data"] is None

    from apps.records.services import lab_result_release
    from tests.consents.factories import verified

    lab_result_release(result=result, actor=verified(provider_user))
    shown = by_kind(sync(app))[("lab", str(result.pk))]
    assert shown["deleted"] is False and shown["data"]["test_name"] == "Hemoglobin A1c"


def test_another_patients_changes_never_appear(app, world, other_patient):
    theirs = booked(world, other_patient)
    thread_create(patient=other_patient, subject="Private", body="Mine", author=other_patient.user)
    NotificationFactory(recipient=other_patient.user)
    body = sync(app)
    assert body["changes"] == []
    assert str(theirs.pk) not in str(body)


def test_the_feed_comes_in_pages(app, world, patient):
    visits = [booked(world, patient, days=d) for d in range(3, 8)]
    first = sync(app, page_size=2)
    assert first["more"] is True and len(first["changes"]) == 2
    second = sync(app, first["cursor"], page_size=2)
    third = sync(app, second["cursor"], page_size=2)
    pages = [first, second, third]
    while pages[-1]["more"]:
        pages.append(sync(app, pages[-1]["cursor"], page_size=2))
    assert all(len(page["changes"]) <= 2 for page in pages)
    seen = [c["id"] for page in pages for c in page["changes"] if c["kind"] == "appointment"]
    assert seen == [str(v.pk) for v in visits]
    assert sync(app, pages[-1]["cursor"])["changes"] == []


def test_a_change_too_fresh_to_be_settled_waits_for_the_next_sync(app, world, patient, settings):
    settings.PORTAL_SYNC_SETTLE_SECONDS = 60
    booked(world, patient)
    body = sync(app)
    assert body["changes"] == []
    settings.PORTAL_SYNC_SETTLE_SECONDS = 0
    assert [c["kind"] for c in sync(app, body["cursor"])["changes"]] == ["appointment", "notification"]


def test_the_log_keeps_one_row_per_object(app, world, patient):
    visit = booked(world, patient)
    visit_cancel(visit=visit, actor=patient.user, reason="Busy")
    assert SyncChange.objects.filter(kind="appointment", object_id=visit.pk).count() == 1


def test_a_page_costs_a_fixed_number_of_queries(app, world, patient, django_assert_max_num_queries):
    def make(n, start):
        for i in range(n):
            booked(world, patient, days=start + i)
            thread = thread_create(patient=patient, subject=f"S{i}", body="B", author=patient.user)
            NotificationFactory(recipient=patient.user)
            assert thread
    make(2, 3)
    with django_assert_max_num_queries(20) as few:
        cursor = sync(app)["cursor"]
    make(8, 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        # Each round: a visit and its booking notice, a thread and its first message, a notification.
        assert len(sync(app, cursor, page_size=100)["changes"]) == 8 * 5


@pytest.mark.parametrize("since", ["garbage", "1.2~abc", "9" * 40, "\x00"])
def test_a_cursor_that_is_not_ours_is_400_naming_since(app, since):
    response = app.get("sync/", since=since)
    assert response.status_code == 400
    assert "since" in response.json()["extra"]["fields"]


def test_another_patients_cursor_is_refused(app, other_patient):
    theirs = App(sign_in(other_patient.user)).get("sync/").json()["cursor"]
    response = app.get("sync/", since=theirs)
    assert response.status_code == 400


def test_sync_needs_a_live_token(patient):
    assert App(None).get("sync/").status_code == 401
    token = sign_in(patient.user)
    assert App(token).get("sync/").status_code == 200
    Client().delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token)
    assert App(token).get("sync/").status_code == 401
    assert App(token).post("sync/", {"actions": []}).status_code == 401


# --- queued actions ----------------------------------------------------------------------------

def test_an_offline_message_replayed_three_times_is_applied_once(app, patient):
    thread = thread_create(patient=patient, subject="Question", body="First", author=patient.user)
    action = {"client_id": "c-1", "type": "message", "data": {"thread": str(thread.pk), "body": "Sent from the train"}}
    answers = [app.post("sync/", {"actions": [action]}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    results = [a.json()["results"][0] for a in answers]
    assert [r["result"] for r in results] == ["applied"] * 3
    assert [r["replayed"] for r in results] == [False, True, True]
    assert results[0]["status"] == 201 and results[0]["body"]["body"] == "Sent from the train"
    assert results[1]["body"] == results[0]["body"] == results[2]["body"]
    assert Message.objects.filter(thread=thread, body="Sent from the train").count() == 1


def test_a_new_thread_and_a_booking_queued_offline_are_made(app, world, patient):
    slot = free_slot(world)
    response = app.post("sync/", {"actions": [
        {"client_id": "t-1", "type": "thread", "data": {"subject": "Offline", "body": "Hello"}},
        {"client_id": "b-1", "type": "appointment", "data": {"slot": str(slot.pk), "visit_type": str(world[0].pk)}},
    ]})
    assert response.status_code == 200
    thread, booking = response.json()["results"]
    assert thread["status"] == 201 and thread["body"]["subject"] == "Offline"
    assert booking["status"] == 201 and booking["body"]["status"] == "PLANNED"
    assert Thread.objects.filter(patient=patient, subject="Offline").count() == 1
    assert Visit.objects.get(patient=patient).slot_id == slot.pk


def test_a_booking_of_a_slot_taken_meanwhile_is_refused_with_the_live_409(app, world, patient, other_patient):
    slot = free_slot(world)
    booking_create(patient=other_patient, slot=slot, visit_type=world[0], actor=other_patient.user)
    data = {"slot": str(slot.pk), "visit_type": str(world[0].pk)}
    live = app.post("appointments/", data)
    assert live.status_code == 409

    response = app.post("sync/", {"actions": [{"client_id": "b-2", "type": "appointment", "data": data}]})
    result = response.json()["results"][0]
    assert result["result"] == "refused" and result["status"] == 409
    assert result["body"] == live.json()
    assert result["body"]["code"] == "slot_unavailable"
    assert not Visit.objects.filter(patient=patient).exists()
    # The refusal is the answer for that client id: a retry gets it again and books nothing.
    again = app.post("sync/", {"actions": [{"client_id": "b-2", "type": "appointment", "data": data}]}).json()["results"][0]
    assert again["status"] == 409 and again["replayed"] is True


def test_one_refused_action_does_not_stop_the_next(app, patient, other_patient):
    theirs = thread_create(patient=other_patient, subject="Private", body="Mine", author=other_patient.user)
    response = app.post("sync/", {"actions": [
        {"client_id": "m-1", "type": "message", "data": {"thread": str(theirs.pk), "body": "Hi"}},
        {"client_id": "m-2", "type": "message", "data": {"thread": "not-an-id", "body": "Hi"}},
        {"client_id": "t-2", "type": "thread", "data": {"subject": "", "body": "No subject"}},
        {"client_id": "t-3", "type": "thread", "data": {"subject": "Fine", "body": "Hello"}},
    ]})
    results = response.json()["results"]
    assert [r["status"] for r in results] == [404, 404, 400, 201]
    assert "subject" in results[2]["body"]["extra"]["fields"]
    assert Message.objects.filter(thread=theirs).count() == 1
    assert Thread.objects.filter(patient=patient).count() == 1


def test_a_refill_request_queued_offline_is_made_once(app, patient, provider_user):
    med = medication(patient, provider_user, prescriber=provider_for(provider_user))
    action = {"client_id": "r-1", "type": "refill", "data": {"medication": str(med.pk), "pharmacy": "Main St Pharmacy"}}
    first = app.post("sync/", {"actions": [action]}).json()["results"][0]
    assert first["status"] == 201 and first["body"]["pharmacy"] == "Main St Pharmacy"
    second = app.post("sync/", {"actions": [{**action, "client_id": "r-2"}]}).json()["results"][0]
    assert second["status"] == 409 and second["body"]["code"] == "refill_already_open"
    assert RefillRequest.objects.filter(medication=med).count() == 1


def test_a_client_id_reused_for_another_action_is_422(app, patient):
    app.post("sync/", {"actions": [{"client_id": "x", "type": "thread", "data": {"subject": "A", "body": "B"}}]})
    response = app.post("sync/", {"actions": [{"client_id": "x", "type": "thread", "data": {"subject": "Other", "body": "B"}}]})
    result = response.json()["results"][0]
    assert result["status"] == 422 and result["body"]["code"] == "client_id_reused"
    assert Thread.objects.filter(patient=patient).count() == 1
    assert SyncAction.objects.filter(user=patient.user).count() == 1


def test_client_ids_are_per_user(app, other_patient, patient):
    action = {"client_id": "same", "type": "thread", "data": {"subject": "A", "body": "B"}}
    app.post("sync/", {"actions": [action]})
    theirs = App(sign_in(other_patient.user)).post("sync/", {"actions": [action]}).json()["results"][0]
    assert theirs["replayed"] is False and theirs["status"] == 201
    assert Thread.objects.filter(patient=other_patient).count() == 1


@pytest.mark.parametrize("body, field", [
    ({}, "actions"),
    ({"actions": []}, "actions"),
    ({"actions": [{"client_id": "a", "type": "nope", "data": {}}]}, "actions"),
    ({"actions": [{"client_id": "a" * 101, "type": "thread", "data": {}}]}, "actions"),
    ({"actions": [{"client_id": "a\x00", "type": "thread", "data": {}}]}, "actions"),
    ({"actions": [{"client_id": str(uuid.uuid4()), "type": "thread", "data": {}}] * 51}, "actions"),
])
def test_a_bad_batch_is_400_and_runs_nothing(app, patient, body, field):
    response = app.post("sync/", body)
    assert response.status_code == 400
    assert any(name.split(".")[0] == field for name in response.json()["extra"]["fields"])
    assert not SyncAction.objects.exists() and not Thread.objects.filter(patient=patient).exists()
