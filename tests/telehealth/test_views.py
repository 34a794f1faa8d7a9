"""The telehealth pages: the patient's video visits and waiting room, sending the missing
consent, the staff queue (admit, running late, refusals shown with their status), the
provider's call page; each for the owner, another patient, staff roles and anonymous."""
from urllib.parse import quote

import pytest

from apps.consents.models import ConsentForm
from apps.telehealth.models import WaitingRoomEntry
from tests.telehealth.factories import session_for, sign_consent, telehealth_template, waiting

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(patient):
    return session_for(patient)


def test_the_patient_sees_their_video_visits_and_the_waiting_room(client_for, patient, session):
    client = client_for(patient.user)
    listed = client.get("/portal/telehealth/")
    assert listed.status_code == 200 and f"/portal/telehealth/{session.pk}/" in listed.content.decode()
    page = client.get(f"/portal/telehealth/{session.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "data-waiting-room" in body and "telehealth/waiting_room.js" in body and "telehealth-config" in body
    assert "Which US state are you in right now?" in body and "Sign the telehealth consent" in body


def test_another_patient_gets_404_and_anonymous_is_sent_to_sign_in(client_for, other_patient, session, client):
    assert client_for(other_patient.user).get(f"/portal/telehealth/{session.pk}/").status_code == 404
    response = client.get(f"/portal/telehealth/{session.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_before_it_opens_the_page_says_when(client_for, patient):
    early = session_for(patient, minutes_ahead=180)
    body = client_for(patient.user).get(f"/portal/telehealth/{early.pk}/").content.decode()
    assert "The waiting room opens at" in body and "waiting_room.js" not in body


def test_sign_consents_sends_the_consent_and_opens_it(client_for, patient, session):
    telehealth_template()
    response = client_for(patient.user).post(f"/portal/telehealth/{session.pk}/consents/")
    consent = ConsentForm.objects.get(patient=patient, kind="TELEHEALTH_GENERAL")
    back = quote(f"/portal/telehealth/{session.pk}/", safe="")
    assert response.status_code == 302
    assert response["Location"] == f"/portal/consents/{consent.pk}/?next={back}"


def test_once_signed_the_page_shows_it(client_for, patient, session):
    sign_consent(patient)
    body = client_for(patient.user).get(f"/portal/telehealth/{session.pk}/").content.decode()
    assert "data-consents-ok" in body and "Sign the telehealth consent" not in body


def test_the_staff_queue_lists_who_waits(client_for, front_desk, patient, session):
    waiting(session)
    page = client_for(front_desk).get("/staff/telehealth/queue/")
    body = page.content.decode()
    assert page.status_code == 200 and patient.display_name in body and "passed" in body and "NY" in body
    rows = client_for(front_desk).get("/staff/telehealth/queue/?rows=1")
    assert rows.status_code == 200 and patient.display_name in rows.content.decode() and "<html" not in rows.content.decode()


def test_the_queue_is_for_verified_staff(client_for, patient, front_desk, client):
    assert client_for(patient.user).get("/staff/telehealth/queue/").status_code == 302
    assert client_for(front_desk, verified=False).get("/staff/telehealth/queue/").status_code == 302
    assert client.get("/staff/telehealth/queue/").status_code == 302


def test_admitting_from_the_queue_opens_the_call_for_the_sessions_provider(client_for, patient, session):
    sign_consent(patient)
    waiting(session)
    response = client_for(session.provider.user).post(f"/staff/telehealth/{session.pk}/admit/")
    assert response.status_code == 302 and response["Location"] == f"/staff/telehealth/{session.pk}/call/"
    assert WaitingRoomEntry.objects.get(session=session).status == "ADMITTED"
    call = client_for(session.provider.user).get(response["Location"])
    assert call.status_code == 200 and "telehealth/provider_call.js" in call.content.decode()


def test_a_refused_admission_shows_the_reason_with_409(client_for, nurse, session):
    waiting(session)
    response = client_for(nurse).post(f"/staff/telehealth/{session.pk}/admit/")
    assert response.status_code == 409 and "telehealth_consent_required" in response.content.decode()
    assert WaitingRoomEntry.objects.get(session=session).status == "WAITING"


def test_the_front_desk_cannot_admit_but_can_say_running_late(client_for, front_desk, session):
    waiting(session)
    assert client_for(front_desk).post(f"/staff/telehealth/{session.pk}/admit/").status_code == 403
    told = client_for(front_desk).post(f"/staff/telehealth/{session.pk}/running-late/", {"minutes": "20", "message": ""})
    assert told.status_code == 302
    assert "20 minutes" in WaitingRoomEntry.objects.get(session=session).late_message
    bad = client_for(front_desk).post(f"/staff/telehealth/{session.pk}/running-late/", {"minutes": "9" * 30})
    assert bad.status_code == 400


def test_only_the_sessions_provider_opens_the_call_page(client_for, provider_user, session):
    assert client_for(provider_user).get(f"/staff/telehealth/{session.pk}/call/").status_code == 403


def test_webhooks_of_an_unknown_or_builtin_provider_are_404(client):
    assert client.post("/telehealth/webhooks/nobody/").status_code == 404
    assert client.post("/telehealth/webhooks/builtin/").status_code == 404


def test_the_download_check_is_for_signed_in_users(client_for, patient, client):
    assert client.get("/telehealth/download-check/").status_code == 404
    response = client_for(patient.user).get("/telehealth/download-check/")
    assert response.status_code == 200 and len(response.content) == 256 * 1024
