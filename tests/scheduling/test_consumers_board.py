"""/ws/staff/board/ against the real ASGI application: who may connect, what arrives when a
patient creates a request or accepts an offer, that events carry ids and statuses only, and
that a user deactivated or stripped of the permission stops receiving at the next event."""
import datetime
import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.core.consumers import CLOSE_ACCESS_CHANGED, CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from apps.scheduling import services
from apps.scheduling.models import Severity, VisitRequest
from tests import ws
from tests.ws import QUIET, accepted_then_closed_with, own_channel_layer, run, session_cookie  # noqa: F401
from tests.scheduling.factories import TriageRuleFactory, VisitRequestFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]

PATH = "/ws/staff/board/"
adb = database_sync_to_async


def communicator(cookie=None):
    return ws.communicator(PATH, cookie)


async def connected(cookie):
    comm = communicator(cookie)
    accepted, _ = await comm.connect(timeout=5)
    assert accepted
    assert await comm.receive_json_from(timeout=5) == {"type": "hello"}
    return comm


async def assert_refused_with(comm, code):
    await accepted_then_closed_with(comm, code)
    await comm.disconnect()


def refused(cookie, code):
    async def scenario():
        await assert_refused_with(communicator(cookie or None), code)

    run(scenario)


async def receive_until(comm, predicate, *, limit=20):
    seen = []
    for _ in range(limit):
        message = await comm.receive_json_from(timeout=5)
        seen.append(message)
        if predicate(message):
            return seen
    raise AssertionError(f"not received; got {seen}")


# --- connecting ---------------------------------------------------------------------------

def test_anonymous_is_refused_with_4401():
    refused(None, CLOSE_UNAUTHENTICATED)


def test_a_patient_is_refused_with_4403(patient):
    cookie = session_cookie(patient.user)
    refused(cookie, CLOSE_FORBIDDEN)


def test_staff_without_a_verified_second_factor_are_refused_with_4403(front_desk):
    cookie = session_cookie(front_desk, verified=False)
    refused(cookie, CLOSE_FORBIDDEN)


def test_staff_without_the_view_permission_are_refused_with_4403(billing_user):
    cookie = session_cookie(billing_user)
    refused(cookie, CLOSE_FORBIDDEN)


def test_an_inactive_staff_user_is_refused_with_4401(front_desk):
    cookie = session_cookie(front_desk)
    front_desk.is_active = False
    front_desk.save(update_fields=["is_active"])
    refused(cookie, CLOSE_UNAUTHENTICATED)


@pytest.mark.parametrize("role", ["front_desk", "nurse", "provider_user"])
def test_verified_staff_with_the_permission_connect(request, role):
    cookie = session_cookie(request.getfixturevalue(role))

    async def scenario():
        comm = await connected(cookie)
        await comm.disconnect()

    run(scenario)


# --- events -------------------------------------------------------------------------------

def test_staff_receive_an_event_without_phi_when_a_patient_creates_a_request(front_desk, patient):
    cookie = session_cookie(front_desk)

    async def scenario():
        comm = await connected(cookie)
        outcome = await adb(services.visit_request_create)(
            patient=patient, reason="Sore throat since Monday", symptoms=["sore throat"], actor=patient.user)
        raw = await comm.receive_from(timeout=5)
        message = json.loads(raw)
        assert message == {"type": "request.created", "request": {
            "id": str(outcome.request.pk), "type": "SCHEDULED", "status": "NEW", "severity": "GREEN", "location_id": None}}
        for phi in [patient.first_name, patient.last_name, patient.mrn, "Sore throat", "sore throat", str(patient.pk)]:
            assert phi not in raw
        await comm.disconnect()

    run(scenario)


def test_a_red_request_arrives_as_created_and_as_an_emergency(front_desk, patient):
    TriageRuleFactory(name="chest pain", symptom_keyword="chest pain", severity=Severity.RED)
    cookie = session_cookie(front_desk)

    async def scenario():
        comm = await connected(cookie)
        await adb(services.visit_request_create)(patient=patient, symptoms=["chest pain"], actor=patient.user)
        seen = await receive_until(comm, lambda m: m["type"] == "request.emergency")
        assert {m["type"] for m in seen} >= {"request.created", "request.emergency"}
        assert all(m["request"]["severity"] == "RED" for m in seen if "request" in m)
        await comm.disconnect()

    run(scenario)


def test_staff_receive_events_when_a_patient_accepts_an_offer(front_desk, patient, make_slot, make_request):
    vr = make_request()
    first, second = make_slot(hours_from_now=30), make_slot(hours_from_now=31)
    services.visit_request_offer_slots(request=vr, slots=[first, second], actor=front_desk)
    cookie = session_cookie(front_desk)

    async def scenario():
        comm = await connected(cookie)
        visit = await adb(services.visit_request_accept_offer)(request=vr, slot=first, actor=patient.user)
        seen = await receive_until(comm, lambda m: m["type"] == "request.changed")
        assert seen[-1]["request"] == {"id": str(vr.pk), "type": "SCHEDULED", "status": "CONVERTED_TO_VISIT",
                                       "severity": "GREEN", "location_id": None}
        visits = [m for m in seen if m["type"] == "visit.created"]
        assert visits and visits[0]["visit"]["id"] == str(visit.pk) and set(visits[0]["visit"]) == {
            "id", "status", "provider_id", "location_id", "start"}
        slots = {m["slot"]["id"]: m["slot"]["status"] for m in seen if m["type"] == "slot.changed"}
        assert slots == {str(first.pk): "BOOKED", str(second.pk): "FREE"}
        await comm.disconnect()

    run(scenario)


def test_a_declined_offer_reaches_the_board(front_desk, patient, make_slot, make_request):
    vr = make_request()
    services.visit_request_offer_slots(request=vr, slots=[make_slot()], actor=front_desk)
    cookie = session_cookie(front_desk)

    async def scenario():
        comm = await connected(cookie)
        await adb(services.visit_request_decline_offer)(request=vr, actor=patient.user)
        seen = await receive_until(comm, lambda m: m["type"] == "request.changed")
        assert seen[-1]["request"]["status"] == "TRIAGED"
        await comm.disconnect()

    run(scenario)


def test_a_user_deactivated_while_connected_is_closed_at_the_next_event(front_desk, patient):
    cookie = session_cookie(front_desk)

    def deactivate():
        front_desk.is_active = False
        front_desk.save(update_fields=["is_active"])

    async def scenario():
        comm = await connected(cookie)
        await adb(deactivate)()
        await adb(services.visit_request_create)(patient=patient, reason="x", actor=patient.user)
        assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
        await comm.disconnect()

    run(scenario)


def test_a_user_whose_role_is_withdrawn_is_closed_at_once_and_refused_on_reconnect(front_desk, patient):
    """The role change revokes the socket through the user's own group (no event needed); the
    page reconnects (4409) and connect() refuses it (4403)."""
    cookie = session_cookie(front_desk)

    def demote():
        front_desk.groups.set([Group.objects.get(name="billing")])

    async def scenario():
        comm = await connected(cookie)
        await adb(demote)()
        assert await comm.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_ACCESS_CHANGED}
        await comm.disconnect()
        await assert_refused_with(communicator(cookie), CLOSE_FORBIDDEN)

    run(scenario)


def test_messages_from_the_client_do_nothing(front_desk):
    cookie = session_cookie(front_desk)

    async def scenario():
        comm = await connected(cookie)
        await comm.send_to(text_data="{not json")
        await comm.send_json_to({"action": "anything"})
        assert await comm.receive_nothing(timeout=QUIET)
        await comm.disconnect()

    run(scenario)


def test_a_walk_in_assignment_reaches_the_board(front_desk, patient, provider, visit_type, location):
    vr = VisitRequestFactory(patient=patient, request_type=VisitRequest.Type.WALK_IN, location=location,
                             status=VisitRequest.Status.NEW, created_at=timezone.now() - datetime.timedelta(minutes=5))
    cookie = session_cookie(front_desk)

    async def scenario():
        comm = await connected(cookie)
        await adb(services.visit_request_assign_immediate)(request=vr, provider=provider, actor=front_desk, visit_type=visit_type)
        seen = await receive_until(comm, lambda m: m["type"] == "request.changed" and m["request"]["status"] == "CONVERTED_TO_VISIT")
        assert seen[-1]["request"]["location_id"] == str(location.pk)
        await comm.disconnect()

    run(scenario)
