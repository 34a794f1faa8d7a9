"""Query-count guard for POST /api/v1/visits/ (bench/README.md, scheduling: "Booking: savings
for the service layer"). The booking writes the slot moves and their events, the visit and its
event, the audit row, the booking notice and two reminders through the outbox: the count below
is what that costs now (SAVEPOINT/RELEASE included, BEGIN/COMMIT not captured), measured on
PostgreSQL and SQLite alike. A change that adds a query to booking fails here: look at what
it reads before raising the number."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.messaging.models import OutboundMessage
from apps.scheduling import selectors
from apps.scheduling.models import Visit
from apps.scheduling.serializers import VisitOutput
from tests.scheduling.api_support import API, integrator  # noqa: F401

pytestmark = pytest.mark.django_db

VISITS = f"{API}/visits/"
# Measured with this test's patient (SMS, email and a portal user: 3 outbox rows per message,
# 9 in all, and an in-app notification): 65 before the savings of bench/README.md, 53 after;
# a replay 9 before, 8 after.
MAX_BOOKING = 53
MAX_REPLAY = 8


def _post(client, patient, slot, visit_type, key):
    body = {"patient": str(patient.pk), "slot": str(slot.pk), "visit_type": str(visit_type.pk)}
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(VISITS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content
    return len(ctx.captured_queries), response, ctx


def test_booking_through_the_api_stays_within_its_query_budget(integrator, patient, make_slot, visit_type):
    integrator.get(f"{API}/visits/?patient={patient.pk}")  # warm the API key path like any later request
    count, response, ctx = _post(integrator, patient, make_slot(), visit_type, "perf-1")
    assert count <= MAX_BOOKING, "\n".join(q["sql"][:200] for q in ctx.captured_queries)

    # What the answer shows is what a fresh read shows.
    visit = Visit.objects.get(pk=response.json()["id"])
    assert response.json() == VisitOutput(selectors.visit_get(visit.pk)).data
    assert "Idempotent-Replayed" not in response.headers
    kinds = sorted(OutboundMessage.objects.filter(patient=patient).values_list("kind", flat=True))
    assert "visit_booked" in kinds and "visit_reminder" in kinds


def test_a_replay_answers_the_same_visit_within_its_budget(integrator, patient, make_slot, visit_type):
    slot = make_slot()
    _, first, _ = _post(integrator, patient, slot, visit_type, "perf-2")
    messages = OutboundMessage.objects.count()
    count, again, ctx = _post(integrator, patient, slot, visit_type, "perf-2")
    assert count <= MAX_REPLAY, "\n".join(q["sql"][:200] for q in ctx.captured_queries)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert OutboundMessage.objects.count() == messages
