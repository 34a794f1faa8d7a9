"""Query-count guards for POST /api/v1/visits/ (bench/README.md, "Booking"), and the proof that
the booking's messages (one messages_enqueue call) are the rows messaging's one-event
functions would write.

Counts are every statement the test sees (SAVEPOINT/RELEASE of the view's transaction standing
in for BEGIN/COMMIT, which Django does not capture), measured on PostgreSQL and SQLite alike.
A booking with an Idempotency-Key for a patient like the benchmark's (email, no portal login):
the API key, the patient, the visit type (the input serializer), BEGIN, the slot's lock (with
its provider, location, "offers this type" and "open RED request"), the slot's UPDATE and
event, the visit and its event, the audit entry, one read of both templates, one INSERT of the
three outbox rows and its read-back, the idempotency record, COMMIT: 15. A change that adds a query fails here: look
at what it reads before raising a number."""
import datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.messaging.models import MessageTemplate, OutboundMessage
from apps.scheduling import selectors, services
from apps.scheduling.models import Mode, Visit
from apps.scheduling.serializers import VisitOutput
from apps.scheduling.services import _notices
from tests.factories import PatientFactory, PortalPatientFactory
from tests.scheduling.api_support import API, integrator  # noqa: F401

pytestmark = pytest.mark.django_db

VISITS = f"{API}/visits/"
# The budget, at the benchmark's patient (bench/scheduling.py): at most 15 (33 before).
MAX_BOOKING = 15
MAX_BOOKING_WITHOUT_KEY = 14
# This suite's patient (SMS, email and a portal login: 9 outbox rows, an in-app notification):
# + the patient's user, the SMS opt-out check and the notification's INSERT (53 before); and,
# since the phone app: the visit's and the notification's rows in the app's change log
# (apps/portal_api/changes.py) and the look-up of the patient's phones for the push. A patient
# without a portal login has no app: their booking writes no change-log row (MAX_BOOKING).
MAX_BOOKING_PORTAL_PATIENT = 18 + 3
# A replay: key, patient, visit type; the booking tried again and refused at the slot's lock
# (BEGIN, lock, ROLLBACK); BEGIN, the record's INSERT that finds the key, its read, COMMIT;
# the audit entry of the read. Replays are rare; the first request is what the budget is for.
MAX_REPLAY = 12


def bench_like_patient():
    """As bench/scheduling.py seeds them: an email address, no phone, no portal login."""
    return PatientFactory(phone="", state="NY")


def _post(client, patient, slot, visit_type, key=None):
    body = {"patient": str(patient.pk), "slot": str(slot.pk), "visit_type": str(visit_type.pk)}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(VISITS, body, format="json", **headers)
    assert response.status_code == 201, response.content
    return len(ctx.captured_queries), response, ctx


def _listing(ctx):
    return "\n".join(q["sql"][:200] for q in ctx.captured_queries)


def test_a_booking_with_a_key_costs_at_most_15_queries(integrator, make_slot, visit_type):
    patient = bench_like_patient()
    integrator.get(f"{API}/visits/?patient={patient.pk}")  # warm the API key path like any later request

    count, response, ctx = _post(integrator, patient, make_slot(), visit_type, "perf-1")

    assert count <= MAX_BOOKING, _listing(ctx)
    visit = Visit.objects.get(pk=response.json()["id"])
    assert response.json() == VisitOutput(selectors.visit_get(visit.pk)).data  # what a fresh read shows
    assert "Idempotent-Replayed" not in response.headers
    rows = OutboundMessage.objects.filter(patient=patient)
    assert sorted(rows.values_list("kind", "channel")) == [
        ("visit_booked", "email"), ("visit_reminder", "email"), ("visit_reminder", "email")]
    assert [(e.from_status, e.to_status) for e in visit.slot.events.all()] == [("FREE", "BOOKED")]


def test_a_booking_without_a_key_costs_one_query_less(integrator, make_slot, visit_type):
    patient = bench_like_patient()
    integrator.get(f"{API}/visits/?patient={patient.pk}")

    count, _, ctx = _post(integrator, patient, make_slot(), visit_type)

    assert count <= MAX_BOOKING_WITHOUT_KEY, _listing(ctx)


def test_booking_a_portal_patient_stays_within_its_budget(integrator, patient, make_slot, visit_type):
    integrator.get(f"{API}/visits/?patient={patient.pk}")

    count, response, ctx = _post(integrator, patient, make_slot(), visit_type, "perf-2")

    assert count <= MAX_BOOKING_PORTAL_PATIENT, _listing(ctx)
    assert response.json() == VisitOutput(selectors.visit_get(response.json()["id"])).data
    kinds = sorted(OutboundMessage.objects.filter(patient=patient).values_list("kind", flat=True))
    assert kinds == ["visit_booked"] * 2 + ["visit_reminder"] * 6  # SMS + email; SMS + email + in-app, twice
    assert patient.user.notifications.get().kind == "visit_booked"


def test_a_replay_answers_the_same_visit_within_its_budget(integrator, patient, make_slot, visit_type):
    slot = make_slot()
    _, first, _ = _post(integrator, patient, slot, visit_type, "perf-3")
    messages = OutboundMessage.objects.count()

    count, again, ctx = _post(integrator, patient, slot, visit_type, "perf-3")

    assert count <= MAX_REPLAY, _listing(ctx)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert OutboundMessage.objects.count() == messages


# --- the booking's messages are messaging's own rows ------------------------------------------

COMPARED = ["patient_id", "user_id", "channel", "to", "subject", "body", "link", "kind", "language", "dedupe_key",
            "urgent", "status", "due_at", "next_attempt_at", "attempts"]


def _rows(visit):
    return list(OutboundMessage.objects.filter(dedupe_key__contains=str(visit.pk)).order_by("dedupe_key").values(*COMPARED))


def _written_both_ways(patient, slot, visit_type):
    """The visit's messages as visit_booked_notices writes them, then (rows removed) as
    notify_visit_booked + reminders_sync write them through message_enqueue, at the same
    moment (a notice is due "now")."""
    frozen = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=frozen):
        return _both_ways(patient, slot, visit_type)


def _both_ways(patient, slot, visit_type):
    visit = services.visit_book_for_patient(patient=patient, slot=slot, visit_type=visit_type, for_clinic=True)
    batch = _rows(visit)
    notifications = list(patient.user.notifications.values_list("kind", "title", "body", "link", "data")) if patient.user_id else []
    OutboundMessage.objects.filter(dedupe_key__contains=str(visit.pk)).delete()
    if patient.user_id:
        patient.user.notifications.all().delete()
    _notices.reminders_sync(visit)
    _notices.notify_visit_booked(visit)
    one_by_one = _rows(visit)
    notifications_one_by_one = list(patient.user.notifications.values_list("kind", "title", "body", "link", "data")) if patient.user_id else []
    return batch, one_by_one, notifications, notifications_one_by_one


@pytest.mark.parametrize("kind", ["portal, sms and email", "email only", "quiet hours, spanish, video", "no channel"])
def test_a_booking_writes_the_rows_message_enqueue_would(kind, make_slot, visit_type, provider, settings):
    settings.SCHEDULING_FOLLOW_UP_HOURS = 0
    MessageTemplate.objects.update_or_create(kind="visit_booked", language="es", defaults={
        "subject": "Cita", "sms_body": "Su cita: {{ visit_time }}", "email_body": "Hola {{ patient_first_name }}: {{ visit_time }}"})
    if kind == "portal, sms and email":
        patient = PortalPatientFactory(preferred_name="Pat")
    elif kind == "email only":
        patient = bench_like_patient()
    elif kind == "quiet hours, spanish, video":
        patient = PortalPatientFactory(preferred_language="es", timezone="America/Los_Angeles",
                                       quiet_hours_start=datetime.time(0, 0), quiet_hours_end=datetime.time(23, 59))
        visit_type.mode = Mode.VIRTUAL
        visit_type.save()
    else:
        patient = PatientFactory(phone="", email="")
    slot = make_slot(hours_from_now=50, mode=visit_type.mode)  # both reminders (48 h and 2 h) still ahead

    batch, one_by_one, notifications, notifications_one_by_one = _written_both_ways(patient, slot, visit_type)

    assert batch == one_by_one
    assert notifications == notifications_one_by_one
    if kind != "no channel":
        assert {r["kind"] for r in batch} == {"visit_booked", "visit_reminder"}


def test_a_booking_inside_a_reminder_window_writes_only_the_reminders_still_ahead(make_slot, visit_type):
    patient = bench_like_patient()
    slot = make_slot(hours_from_now=10)  # the 48 h reminder's time has passed

    batch, one_by_one, _, _ = _written_both_ways(patient, slot, visit_type)

    assert batch == one_by_one
    assert [r["dedupe_key"].split(":")[3] for r in batch if r["kind"] == "visit_reminder"] == ["120m"]
    reminder = next(r for r in batch if r["kind"] == "visit_reminder")
    assert reminder["due_at"] <= timezone.now() + datetime.timedelta(hours=8, minutes=1)
