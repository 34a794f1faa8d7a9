"""The telehealth sockets against the real ASGI application: signalling only for the session's
two participants with a valid join token (another patient, staff without their second factor,
anonymous, a forged or foreign token: refused), relayed only within the session; the session
room socket (events, ping, leaving); the staff queue (who may watch, live events, revocation)."""
import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Group

from apps.core.consumers import CLOSE_ACCESS_CHANGED, CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from apps.telehealth import services
from apps.telehealth.models import WaitingRoomEntry
from apps.telehealth.providers.builtin import sign_join
from tests import ws
from tests.consents.factories import verified
from tests.ws import QUIET, accepted_then_closed_with, own_channel_layer, run, session_cookie  # noqa: F401
from tests.telehealth.factories import admitted, session_for, sign_consent, waiting

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_channel_layer")]
adb = database_sync_to_async


def token(session, user, role):
    return sign_join(room=session.room_name, identity=f"user-{user.pk}", role=role)


def signal_path(session, tok):
    return f"/ws/telehealth/{session.pk}/signal/?token={tok}"


async def connected(path, cookie):
    comm = ws.communicator(path, cookie)
    accepted, _ = await comm.connect(timeout=5)
    assert accepted
    assert await comm.receive_json_from(timeout=5) == {"type": "hello"}
    return comm


def refused(path, cookie, code):
    async def scenario():
        comm = ws.communicator(path, cookie)
        await accepted_then_closed_with(comm, code)
        await comm.disconnect()

    run(scenario)


@pytest.fixture
def live(patient):
    """A session whose patient is admitted (its room exists)."""
    return admitted(session_for(patient))


# --- signalling -----------------------------------------------------------------------------------

def test_anonymous_is_refused_from_signalling(live, patient):
    refused(signal_path(live, token(live, patient.user, "guest")), None, CLOSE_UNAUTHENTICATED)


def test_another_patient_is_refused_even_with_a_token_of_their_own(live, other_patient):
    refused(signal_path(live, token(live, other_patient.user, "guest")), session_cookie(other_patient.user), CLOSE_FORBIDDEN)


def test_the_provider_without_their_second_factor_is_refused(live):
    provider = live.provider.user
    refused(signal_path(live, token(live, provider, "host")), session_cookie(provider, verified=False), CLOSE_FORBIDDEN)


def test_other_staff_are_refused(live, provider_user):
    refused(signal_path(live, token(live, provider_user, "host")), session_cookie(provider_user), CLOSE_FORBIDDEN)


def test_a_forged_or_missing_token_or_one_for_another_role_is_refused(live, patient):
    cookie = session_cookie(patient.user)
    good = token(live, patient.user, "guest")
    refused(signal_path(live, good[:-3] + "abc"), cookie, CLOSE_FORBIDDEN)
    refused(f"/ws/telehealth/{live.pk}/signal/", cookie, CLOSE_FORBIDDEN)
    refused(signal_path(live, token(live, patient.user, "host")), cookie, CLOSE_FORBIDDEN)


def test_a_token_for_another_session_is_refused(live, patient):
    other = session_for(patient, minutes_ahead=12)
    refused(signal_path(live, token(other, patient.user, "guest")), session_cookie(patient.user), CLOSE_FORBIDDEN)


def test_signals_are_relayed_to_the_other_participant_only_and_never_across_sessions(live, patient, other_patient):
    other_session = admitted(session_for(other_patient))
    patient_cookie, provider_cookie = session_cookie(patient.user), session_cookie(live.provider.user)
    bystander_cookie = session_cookie(other_patient.user)

    async def scenario():
        guest = await connected(signal_path(live, token(live, patient.user, "guest")), patient_cookie)
        host = await connected(signal_path(live, token(live, live.provider.user, "host")), provider_cookie)
        bystander = await connected(signal_path(other_session, token(other_session, other_patient.user, "guest")),
                                    bystander_cookie)
        await guest.send_json_to({"type": "offer", "data": {"type": "offer", "sdp": "v=0"}})
        assert await host.receive_json_from(timeout=5) == {"type": "offer", "data": {"type": "offer", "sdp": "v=0"}, "from": "guest"}
        await host.send_json_to({"type": "ice", "data": {"candidate": "candidate:1"}})
        assert await guest.receive_json_from(timeout=5) == {"type": "ice", "data": {"candidate": "candidate:1"}, "from": "host"}
        await guest.send_json_to({"type": "exec", "data": {}})
        assert (await guest.receive_json_from(timeout=5))["code"] == "unknown_type"
        assert await host.receive_nothing(timeout=QUIET)
        assert await bystander.receive_nothing(timeout=QUIET)
        for comm in (guest, host, bystander):
            await comm.disconnect()

    run(scenario)


def test_a_closed_session_refuses_signalling(live, patient):
    services.session_mark_technical_issues(session=live, actor=verified(live.provider.user), reason="x")
    refused(signal_path(live, token(live, patient.user, "guest")), session_cookie(patient.user), CLOSE_FORBIDDEN)


# --- the session's room socket --------------------------------------------------------------------

def test_the_patient_hears_admission_and_answers_pings(patient):
    session = session_for(patient)
    sign_consent(patient)
    waiting(session)
    path = f"/ws/telehealth/{session.pk}/room/"
    provider, cookie = verified(session.provider.user), session_cookie(patient.user)

    async def scenario():
        comm = await connected(path, cookie)
        await comm.send_json_to({"type": "ping", "t": 12.5})
        assert await comm.receive_json_from(timeout=5) == {"type": "pong", "t": 12.5}
        await adb(services.waiting_room_admit)(session=session, actor=provider)
        event = await comm.receive_json_from(timeout=5)
        assert event == {"type": "room", "event": "admitted", "session": str(session.pk), "status": "WAITING"}
        await comm.disconnect()

    run(scenario)


def test_another_patient_cannot_open_the_room_socket(patient, other_patient):
    session = session_for(patient)
    refused(f"/ws/telehealth/{session.pk}/room/", session_cookie(other_patient.user), CLOSE_FORBIDDEN)
    refused(f"/ws/telehealth/{session.pk}/room/", None, CLOSE_UNAUTHENTICATED)


def test_closing_the_page_while_waiting_leaves_the_waiting_room(patient):
    session = session_for(patient)
    entry = waiting(session)
    cookie = session_cookie(patient.user)

    async def scenario():
        comm = await connected(f"/ws/telehealth/{session.pk}/room/", cookie)
        await comm.disconnect()

    run(scenario)
    entry.refresh_from_db()
    assert entry.status == WaitingRoomEntry.Status.LEFT


# --- the staff queue ------------------------------------------------------------------------------

QUEUE = "/ws/staff/telehealth/queue/"


def test_who_may_watch_the_queue(patient, front_desk):
    refused(QUEUE, None, CLOSE_UNAUTHENTICATED)
    refused(QUEUE, session_cookie(patient.user), CLOSE_FORBIDDEN)
    refused(QUEUE, session_cookie(front_desk, verified=False), CLOSE_FORBIDDEN)


def test_the_queue_hears_arrivals_and_device_checks_without_phi(patient, front_desk):
    session = session_for(patient)
    cookie = session_cookie(front_desk)

    async def scenario():
        comm = await connected(QUEUE, cookie)
        await adb(services.waiting_room_enter)(session=session, actor=patient.user)
        message = await comm.receive_json_from(timeout=5)
        assert message == {"type": "queue", "event": "waiting", "session": str(session.pk), "status": "WAITING",
                           "provider_id": str(session.provider_id)}
        await comm.disconnect()

    run(scenario)


def test_a_user_whose_role_is_withdrawn_is_cut_off_at_once(front_desk):
    cookie = session_cookie(front_desk)

    def demote():
        front_desk.groups.set([Group.objects.get(name="patient")])

    async def scenario():
        comm = await connected(QUEUE, cookie)
        await adb(demote)()
        assert await comm.receive_output(timeout=1) == {"type": "websocket.close", "code": CLOSE_ACCESS_CHANGED}
        await comm.disconnect()

    run(scenario)
