"""/ws/staff/queue/<location_id>/ against the real ASGI application: the walk-in queue of one
location, live. Who may connect (as the board: verified staff who may view visit requests;
patients and anonymous users refused), that an unknown location is refused, and that a
walk-in at the location arrives while one at another location does not."""
import json
import uuid

import pytest
from channels.db import database_sync_to_async

from apps.core.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from apps.scheduling import services
from tests import ws
from tests.ws import QUIET, accepted_then_closed_with, own_channel_layer, run, session_cookie  # noqa: F401
from tests.scheduling.factories import LocationFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]

adb = database_sync_to_async


def path(location_id):
    return f"/ws/staff/queue/{location_id}/"


def refused(location_id, cookie, code):
    async def scenario():
        comm = ws.communicator(path(location_id), cookie)
        await accepted_then_closed_with(comm, code)
        await comm.disconnect()

    run(scenario)


def test_anonymous_is_refused_with_4401(location):
    refused(location.pk, None, CLOSE_UNAUTHENTICATED)


def test_a_patient_is_refused_with_4403(patient, location):
    refused(location.pk, session_cookie(patient.user), CLOSE_FORBIDDEN)


def test_staff_without_a_verified_second_factor_are_refused_with_4403(front_desk, location):
    refused(location.pk, session_cookie(front_desk, verified=False), CLOSE_FORBIDDEN)


def test_staff_without_the_view_permission_are_refused_with_4403(billing_user, location):
    refused(location.pk, session_cookie(billing_user), CLOSE_FORBIDDEN)


def test_an_unknown_or_inactive_location_is_refused_with_4403(front_desk):
    closed = LocationFactory(is_active=False)
    cookie = session_cookie(front_desk)

    refused(uuid.uuid4(), cookie, CLOSE_FORBIDDEN)
    refused(closed.pk, cookie, CLOSE_FORBIDDEN)


def test_a_walk_in_at_the_location_arrives_and_one_elsewhere_does_not(front_desk, patient, other_patient, location):
    elsewhere = LocationFactory()
    cookie = session_cookie(front_desk)

    async def scenario():
        comm = ws.communicator(path(location.pk), cookie)
        accepted, _ = await comm.connect(timeout=5)
        assert accepted
        assert await comm.receive_json_from(timeout=5) == {"type": "hello"}
        await adb(services.visit_request_create_walk_in)(patient=other_patient, location=elsewhere, reason="Cut finger",
                                                          actor=front_desk)
        here = await adb(services.visit_request_create_walk_in)(patient=patient, location=location, reason="Sprained ankle",
                                                                 actor=front_desk)
        raw = await comm.receive_from(timeout=5)
        message = json.loads(raw)
        assert message == {"type": "request.created", "request": {
            "id": str(here.request.pk), "type": "WALK_IN", "status": "NEW", "severity": message["request"]["severity"],
            "location_id": str(location.pk)}}
        for phi in [patient.first_name, patient.last_name, patient.mrn, "Sprained"]:
            assert phi not in raw
        # Triage may follow on the same location; nothing of the other location ever arrives.
        while not await comm.receive_nothing(timeout=QUIET):
            later = await comm.receive_json_from(timeout=5)
            assert later.get("request", {}).get("location_id") == str(location.pk), later
        await comm.disconnect()

    run(scenario)
