"""Offline sync, the parts made in bulk: readings from the phone (queued offline as a `reading`
action, applied once per client id through the live endpoint's code, and in the feed as kind
`reading`), and notifications marked read (a QuerySet.update(), logged through messaging's
notifications_changed hook), so another phone of the patient's learns the read state."""
import datetime
import uuid

import pytest
from django.utils import timezone

from apps.messaging.models import Notification
from apps.messaging.services import notification_mark_all_read, notification_mark_read, notify
from apps.portal_api import changes
from apps.portal_api.models import SyncChange
from apps.records.models import PatientReading
from tests.factories import NotificationFactory, PatientFactory
from tests.portal_api.test_api_portal import App, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_settling(settings):
    settings.PORTAL_SYNC_SETTLE_SECONDS = 0


@pytest.fixture
def app(patient):
    app = App(sign_in(patient.user))
    response = app.client.patch("/api/v1/portal/readings/permissions/", {"blood_pressure": True, "weight": True},
                                content_type="application/json", **app.headers)
    assert response.status_code == 200, response.content
    return app


def when(minutes_ago=30):
    return (timezone.now() - datetime.timedelta(minutes=minutes_ago)).replace(microsecond=0).isoformat()


def bp(systolic=132, diastolic=84, minutes_ago=30):
    return {"kind": "blood_pressure", "value": systolic, "diastolic": diastolic, "unit": "mmHg",
            "measured_at": when(minutes_ago), "source": "Omron BP7000"}


def sync(app, cursor=None):
    response = app.get("sync/", **({"since": cursor} if cursor else {}))
    assert response.status_code == 200, response.content
    return response.json()


def by_kind(body):
    return {(c["kind"], c["id"]): c for c in body["changes"]}


def queued(app, *actions):
    response = app.post("sync/", {"actions": list(actions)})
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- readings queued offline ---------------------------------------------------------------------

def test_a_reading_queued_offline_and_replayed_three_times_is_stored_once(app, patient):
    action = {"client_id": "bp-1", "type": "reading", "data": {"readings": [bp()]}}
    results = [queued(app, action)[0] for _ in range(3)]
    assert [r["result"] for r in results] == ["applied"] * 3
    assert [r["replayed"] for r in results] == [False, True, True]
    assert results[0]["status"] == 201
    assert results[0]["body"]["accepted"] == 1 and results[0]["body"]["readings"][0]["diastolic"] == 84
    assert results[1]["body"] == results[0]["body"] == results[2]["body"]
    assert PatientReading.objects.filter(patient=patient).count() == 1


def test_a_queued_reading_already_sent_live_is_a_duplicate_as_live(app, patient):
    reading = bp(minutes_ago=45)
    assert app.post("readings/", {"readings": [reading]}).status_code == 201
    live_retry = app.post("readings/", {"readings": [reading]})
    result = queued(app, {"client_id": "bp-2", "type": "reading", "data": {"readings": [reading]}})[0]
    assert result["result"] == "applied" and result["status"] == live_retry.status_code == 200
    assert result["body"] == live_retry.json() == {"accepted": 0, "duplicates": 1, "readings": []}
    assert PatientReading.objects.filter(patient=patient).count() == 1


@pytest.mark.parametrize("data, field", [
    ({"readings": [{**bp(), "kind": "steps", "value": 1200, "unit": "steps", "diastolic": None}]}, "readings.0.kind"),
    ({"readings": [bp(systolic=900)]}, "readings.0.value"),
    ({"readings": [bp(), {**bp(minutes_ago=10), "unit": "kPa"}]}, "readings.1.unit"),
    ({"readings": []}, "readings"),
    ({}, "readings"),
])
def test_a_refused_reading_gets_the_live_error_and_stores_nothing(app, patient, data, field):
    live = app.post("readings/", data)
    assert live.status_code == 400
    result = queued(app, {"client_id": "bad", "type": "reading", "data": data})[0]
    assert result["result"] == "refused" and result["status"] == 400
    assert result["body"] == live.json()
    assert field in result["body"]["extra"]["fields"]
    assert not PatientReading.objects.filter(patient=patient).exists()
    assert not SyncChange.objects.filter(kind="reading").exists()


# --- readings in the feed --------------------------------------------------------------------------

def test_readings_sent_by_one_phone_reach_the_patients_other_phone(app, patient):
    other_phone = App(sign_in(patient.user))
    start = sync(other_phone)["cursor"]
    app.post("readings/", {"readings": [bp(), bp(140, 90, minutes_ago=90)]})
    queued(app, {"client_id": "w-1", "type": "reading", "data": {"readings": [
        {"kind": "weight", "value": 180, "unit": "lb", "measured_at": when(5), "source": "Withings"}]}})

    changes_seen = by_kind(sync(other_phone, start))

    stored = {r.pk: r for r in PatientReading.objects.filter(patient=patient)}
    assert set(changes_seen) == {("reading", str(pk)) for pk in stored}
    weight = next(c for c in changes_seen.values() if c["data"]["kind"] == "weight")
    assert weight["deleted"] is False and weight["data"]["unit"] == "kg" and weight["data"]["value"] == 81.65
    assert weight["data"]["patient_reported"] is True and weight["data"]["source"] == "Withings"


def test_many_readings_are_logged_in_one_insert(app, patient, django_assert_num_queries):
    readings = [bp(120 + i, 80, minutes_ago=10 + i) for i in range(30)]
    response = app.post("readings/", {"readings": readings})
    assert response.status_code == 201 and response.json()["accepted"] == 30
    logged = set(SyncChange.objects.filter(patient=patient, kind="reading").values_list("object_id", flat=True))
    assert logged == set(PatientReading.objects.filter(patient=patient).values_list("pk", flat=True))
    with django_assert_num_queries(1):
        changes.objects_new_record(kind=SyncChange.Kind.READING, patient=patient,
                                   object_ids=[uuid.uuid4() for _ in range(30)])


def test_another_patients_readings_never_appear(app, other_patient):
    theirs = App(sign_in(other_patient.user))
    theirs.client.patch("/api/v1/portal/readings/permissions/", {"blood_pressure": True},
                        content_type="application/json", **theirs.headers)
    assert theirs.post("readings/", {"readings": [bp()]}).status_code == 201
    assert sync(app)["changes"] == []


def test_a_patient_without_a_login_writes_no_rows():
    patient = PatientFactory()
    assert patient.user_id is None
    changes.objects_new_record(kind=SyncChange.Kind.READING, patient=patient, object_ids=[uuid.uuid4()])
    assert not SyncChange.objects.exists()


# --- notifications marked read ----------------------------------------------------------------------

def test_a_notification_marked_read_shows_its_read_state_in_the_sync(app, patient):
    note = NotificationFactory(recipient=patient.user, title="You have a new message")
    first = sync(app)
    assert by_kind(first)[("notification", str(note.pk))]["data"]["read_at"] is None

    assert app.post(f"notifications/{note.pk}/read/").status_code == 200

    second = by_kind(sync(app, first["cursor"]))
    shown = second[("notification", str(note.pk))]
    assert shown["deleted"] is False and shown["data"]["read_at"] is not None
    assert SyncChange.objects.filter(kind="notification", object_id=note.pk).count() == 1


def test_marking_all_read_brings_every_read_state_and_only_those(app, patient):
    notes = [NotificationFactory(recipient=patient.user, title=f"Notice {i}") for i in range(3)]
    already = NotificationFactory(recipient=patient.user, title="Seen", read_at=timezone.now())
    cursor = sync(app)["cursor"]

    assert app.post("notifications/read-all/").json() == {"unread": 0}

    seen = by_kind(sync(app, cursor))
    assert set(seen) == {("notification", str(n.pk)) for n in notes}
    assert all(c["data"]["read_at"] is not None for c in seen.values())
    assert ("notification", str(already.pk)) not in seen


def test_marking_read_twice_logs_nothing_the_second_time(patient):
    note = NotificationFactory(recipient=patient.user)
    assert notification_mark_read(user=patient.user, notification=note) == 1
    position = SyncChange.objects.get(kind="notification", object_id=note.pk).id
    assert notification_mark_read(user=patient.user, notification=note) == 0
    assert notification_mark_all_read(user=patient.user) == 0
    assert SyncChange.objects.get(kind="notification", object_id=note.pk).id == position


def test_marking_all_read_costs_the_same_statements_for_3_or_40(patient, django_assert_max_num_queries):
    for i in range(3):
        notify(user=patient.user, kind="secure_message", title=f"Notice {i}")
    with django_assert_max_num_queries(20) as few:
        assert notification_mark_all_read(user=patient.user) == 3
    for i in range(40):
        notify(user=patient.user, kind="secure_message", title=f"Notice {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert notification_mark_all_read(user=patient.user) == 40
    assert SyncChange.objects.filter(kind="notification").count() == 43
    assert not Notification.objects.filter(recipient=patient.user, read_at__isnull=True).exists()


def test_marking_more_than_a_batch_read_logs_every_one(patient, settings):
    from apps.messaging import services
    NotificationFactory.create_batch(7, recipient=patient.user)
    original, services.READ_BATCH = services.READ_BATCH, 3
    try:
        assert notification_mark_all_read(user=patient.user) == 7
    finally:
        services.READ_BATCH = original
    assert SyncChange.objects.filter(kind="notification").count() == 7


def test_a_staff_users_notifications_read_write_no_rows(front_desk):
    NotificationFactory.create_batch(2, recipient=front_desk)
    SyncChange.objects.all().delete()
    assert notification_mark_all_read(user=front_desk) == 2
    assert not SyncChange.objects.exists()


@pytest.mark.parametrize("reading, field", [
    ({**bp(), "source": "Omron\x00"}, "source"),
    ({**bp(), "value": 2 ** 70}, "value"),
])
def test_nul_or_a_huge_number_refuses_the_whole_batch_naming_the_field(app, patient, reading, field):
    # The API's shared input check sees them first (no action runs, nothing is saved).
    response = app.post("sync/", {"actions": [{"client_id": "hostile", "type": "reading", "data": {"readings": [reading]}}]})
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == [f"actions.0.data.readings.0.{field}"]
    assert not PatientReading.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("data", [
    {"readings": [{**bp(), "measured_at": "9999-12-31T23:59:59+14:00"}]},
    {"readings": [{**bp(), "measured_at": "0001-01-01T00:00:00-12:00"}]},
    {"readings": [{**bp(), "kind": "x" * 10_000}]},
    {"readings": [bp(minutes_ago=10 + i) for i in range(201)]},
    {"readings": "not a list"},
    {"readings": [[[[]]]]},
])
def test_hostile_queued_readings_are_refused_with_a_400_never_a_500(app, patient, data):
    result = queued(app, {"client_id": "hostile", "type": "reading", "data": data})[0]
    assert result["result"] == "refused" and result["status"] == 400, result
    assert result["body"]["extra"]["fields"]
    assert not PatientReading.objects.filter(patient=patient).exists()
