"""/api/v1/portal/ through a phone app's session token: the owner's answers with content,
another patient's ids 404, anonymous and revoked tokens 401, staff and API keys refused; the
same rules as the portal (cancellation window 400, a slot taken 409, idempotent booking)."""
import datetime
import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.messaging.models import Notification
from apps.scheduling.models import Visit
from apps.scheduling.services import booking_create
from tests.conftest import api_keyed_client, login
from tests.factories import NotificationFactory, PortalPatientFactory, StaffFactory
from tests.scheduling.factories import LocationFactory, ProviderFactory, SlotFactory, VisitTypeFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def sign_in(user):
    response = Client().post("/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD},
                             content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


class App:
    """A phone app: one client that sends its session token on every call."""

    def __init__(self, token):
        self.client = Client()
        self.headers = {"HTTP_X_SESSION_TOKEN": token} if token else {}

    def get(self, path, **params):
        return self.client.get(f"/api/v1/portal/{path}", params, **self.headers)

    def post(self, path, data=None, **headers):
        return self.client.post(f"/api/v1/portal/{path}", data or {}, content_type="application/json", **self.headers, **headers)

    def patch(self, path, data):
        return self.client.patch(f"/api/v1/portal/{path}", data, content_type="application/json", **self.headers)


@pytest.fixture
def world(db):
    visit_type = VisitTypeFactory(name="Check-up")
    provider = ProviderFactory(offers=[visit_type])
    location = LocationFactory(name="Main street")
    return visit_type, provider, location


def free_slot(world, days=5, hour=15):
    _, provider, location = world
    start = (timezone.now() + datetime.timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return SlotFactory(provider=provider, location=location, start=start, end=start + datetime.timedelta(minutes=30))


def booked(world, patient, days=5, hour=15):
    visit_type = world[0]
    return booking_create(patient=patient, slot=free_slot(world, days, hour), visit_type=visit_type, actor=patient.user)


@pytest.fixture
def app(patient):
    return App(sign_in(patient.user))


# --- the access matrix -----------------------------------------------------------------------

def test_profile_is_the_patients_own_and_the_read_is_audited(app, patient):
    response = app.get("profile/")
    assert response.status_code == 200
    assert response.json()["mrn"] == patient.mrn
    assert response.json()["last_name"] == patient.last_name
    log = AccessLog.objects.filter(action="read", patient_id=patient.pk).latest("at")
    assert log.actor_user_id == patient.user.pk
    assert log.detail["view"] == "app_profile"


def test_anonymous_and_ended_tokens_get_401(patient):
    assert App(None).get("profile/").status_code == 401
    assert App("made-up-token").get("appointments/").status_code == 401


def test_staff_cannot_use_the_patient_api(db):
    staff = StaffFactory(role="front_desk")
    client = login(Client(), staff)
    response = client.get("/api/v1/portal/profile/")
    assert response.status_code == 403


def test_api_keys_cannot_use_the_patient_api(api_key_factory, patient):
    _, raw = api_key_factory("patients:read", "scheduling:read")
    response = api_keyed_client(raw).get("/api/v1/portal/profile/")
    assert response.status_code == 403


def test_a_signed_in_user_without_a_patient_record_gets_403_pending(db):
    from tests.factories import UserFactory

    user = UserFactory()
    response = App(sign_in(user)).get("profile/")
    assert response.status_code == 403
    assert response.json()["code"] == "patient_record_pending"


@pytest.mark.parametrize("path", [
    "appointments/{id}/", "appointments/{id}/cancel/", "appointments/{id}/reschedule/",
])
def test_another_patients_appointment_is_404_everywhere(app, world, other_patient, path):
    theirs = booked(world, other_patient)
    url = path.format(id=theirs.pk)
    response = app.get(url) if url.endswith("/") and "cancel" not in url and "reschedule" not in url else app.post(url, {"slot": str(free_slot(world, 6).pk)})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Visit.Status.PLANNED


def test_another_patients_notification_is_404(app, other_patient):
    theirs = NotificationFactory(recipient=other_patient.user)
    response = app.post(f"notifications/{theirs.pk}/read/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


# --- profile and preferences ---------------------------------------------------------------

def test_profile_update_changes_contact_details_only(app, patient):
    response = app.patch("profile/", {"phone": "(212) 555-0199", "preferred_name": "Mo"})
    assert response.status_code == 200
    assert response.json()["phone"] == "+12125550199"
    patient.refresh_from_db()
    assert patient.preferred_name == "Mo"

    refused = app.patch("profile/", {"phone": "not a number"})
    assert refused.status_code == 400
    assert "phone" in refused.json()["extra"]["fields"]


def test_profile_update_ignores_fields_patients_may_not_change(app, patient):
    before = patient.last_name
    response = app.patch("profile/", {"last_name": "Changed"})
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.last_name == before


def test_preferences_round_trip(app, patient):
    response = app.patch("notification-preferences/", {"sms_opt_in": False, "quiet_hours_start": "21:00", "quiet_hours_end": "07:00"})
    assert response.status_code == 200
    assert response.json()["sms_opt_in"] is False
    assert response.json()["quiet_hours_start"] == "21:00:00"
    assert app.patch("notification-preferences/", {"sms_opt_in": "maybe"}).status_code == 400


# --- booking and appointments ----------------------------------------------------------------

def test_availability_lists_free_times_for_a_day(app, world):
    slot = free_slot(world, days=4)
    day = slot.start.astimezone(slot.location.tzinfo).date()
    response = app.get("availability/", visit_type=str(world[0].pk), day=day.isoformat())
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["slots"]] == [str(slot.pk)]
    assert app.get("availability/", visit_type=str(world[0].pk), day="9999-12-31").status_code == 400
    assert app.get("availability/", visit_type="nope").status_code == 400


def test_book_list_and_read_an_appointment(app, world, patient):
    slot = free_slot(world)
    response = app.post("appointments/", {"slot": str(slot.pk), "visit_type": str(world[0].pk)})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "PLANNED" and body["visit_type_name"] == "Check-up" and body["can_change"] is True

    listed = app.get("appointments/")
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()["results"]] == [body["id"]]
    assert app.get(f"appointments/{body['id']}/").json()["provider_name"] == world[1].user.full_name


def test_booking_a_taken_slot_answers_409(app, world, other_patient):
    slot = free_slot(world)
    booking_create(patient=other_patient, slot=slot, visit_type=world[0], actor=other_patient.user)
    response = app.post("appointments/", {"slot": str(slot.pk), "visit_type": str(world[0].pk)})
    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"


def test_a_repeated_booking_with_one_key_books_once_and_says_so(app, world, patient):
    slot = free_slot(world)
    data = {"slot": str(slot.pk), "visit_type": str(world[0].pk)}
    first = app.post("appointments/", data, HTTP_IDEMPOTENCY_KEY="tap-1")
    again = app.post("appointments/", data, HTTP_IDEMPOTENCY_KEY="tap-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Visit.objects.filter(patient=patient).count() == 1
    other = app.post("appointments/", {"slot": str(free_slot(world, 6).pk), "visit_type": str(world[0].pk)}, HTTP_IDEMPOTENCY_KEY="tap-1")
    assert other.status_code == 422


def test_cancel_and_reschedule_follow_the_portals_window(app, world, patient, settings):
    visit = booked(world, patient, days=5)
    moved = app.post(f"appointments/{visit.pk}/reschedule/", {"slot": str(free_slot(world, 6).pk)})
    assert moved.status_code == 200
    assert moved.json()["start"] != visit.start.isoformat()

    soon = booked(world, patient, days=0, hour=23) if timezone.now().hour < 22 else booked(world, patient, days=1, hour=1)
    refused = app.post(f"appointments/{soon.pk}/cancel/", {"reason": "busy"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "inside_cancellation_window"

    cancelled = app.post(f"appointments/{visit.pk}/cancel/", {"reason": "busy"})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "CANCELLED"
    again = app.post(f"appointments/{visit.pk}/cancel/", {"reason": "busy"})
    assert again.status_code == 409


# --- the notification inbox ------------------------------------------------------------------

def test_inbox_list_read_and_unread_count(app, patient):
    first = NotificationFactory(recipient=patient.user, title="One")
    NotificationFactory(recipient=patient.user, title="Two")
    assert app.get("notifications/unread-count/").json() == {"unread": 2}
    titles = [n["title"] for n in app.get("notifications/").json()["results"]]
    assert sorted(titles) == ["One", "Two"]
    assert app.post(f"notifications/{first.pk}/read/").json() == {"unread": 1}
    assert app.post("notifications/read-all/").json() == {"unread": 0}
    assert Notification.objects.filter(recipient=patient.user, read_at__isnull=True).count() == 0


def test_lists_cost_a_fixed_number_of_queries(app, world, patient, django_assert_max_num_queries):
    for day in range(3, 9):
        booked(world, patient, days=day)
    for _ in range(10):
        NotificationFactory(recipient=patient.user)
    with django_assert_max_num_queries(12) as few:
        assert app.get("appointments/").status_code == 200
    for day in range(9, 15):
        booked(world, patient, days=day)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(app.get("appointments/").json()["results"]) == 12
    with django_assert_max_num_queries(8):
        assert app.get("notifications/").status_code == 200


def test_concurrent_app_bookings_of_one_slot_have_one_winner(requires_postgres, world, transactional_db):
    patients = [PortalPatientFactory() for _ in range(6)]
    apps = [App(sign_in(p.user)) for p in patients]
    slot = free_slot(world)
    barrier = threading.Barrier(len(apps))
    statuses = []

    def book(app):
        try:
            barrier.wait()
            statuses.append(app.post("appointments/", {"slot": str(slot.pk), "visit_type": str(world[0].pk)}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 5
    assert Visit.objects.filter(slot=slot).count() == 1


# --- messages with the care team ------------------------------------------------------------

def test_start_a_thread_reply_and_read_it(app, patient):
    started = app.post("threads/", {"subject": "Question about my results", "body": "Are they back yet?"})
    assert started.status_code == 201
    thread_id = started.json()["id"]
    assert started.json()["subject"] == "Question about my results"

    reply = app.post(f"threads/{thread_id}/messages/", {"body": "Also, can I eat before the test?"})
    assert reply.status_code == 201
    assert reply.json()["author_kind"] == "patient"

    messages = app.get(f"threads/{thread_id}/messages/")
    assert messages.status_code == 200
    assert [m["body"] for m in messages.json()["results"]] == ["Are they back yet?", "Also, can I eat before the test?"]
    assert [t["id"] for t in app.get("threads/").json()["results"]] == [thread_id]


def test_another_patients_thread_is_404_for_reading_and_replying(app, other_patient):
    from apps.messaging.threads.models import Message
    from apps.messaging.threads.services import thread_create

    theirs = thread_create(patient=other_patient, subject="Private", body="Mine", author=other_patient.user)
    assert app.get(f"threads/{theirs.pk}/messages/").status_code == 404
    assert app.post(f"threads/{theirs.pk}/messages/", {"body": "hello"}).status_code == 404
    assert Message.objects.filter(thread=theirs).count() == 1


def test_a_reply_without_a_body_is_400_naming_it(app):
    thread_id = app.post("threads/", {"subject": "S", "body": "B"}).json()["id"]
    response = app.post(f"threads/{thread_id}/messages/", {"body": ""})
    assert response.status_code == 400
    assert "body" in response.json()["extra"]["fields"]
