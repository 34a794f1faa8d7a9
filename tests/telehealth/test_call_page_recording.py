"""The provider's call page offers "Record" only when the server says the call may be recorded:
the patient's RECORDING consent is valid (consents' check: missing, revoked or tampered is no)
and the built-in provider serves the call (a Twilio room is recorded by Twilio's rules, not by
the page). The page's config then names the start and upload endpoints and the size limit;
otherwise it has neither the button nor the script nor the config."""
import json
import re

import pytest

from apps.consents.models import ConsentForm
from apps.consents.services import consent_revoke
from apps.telehealth.models import TelehealthSession
from tests.telehealth.factories import admitted, session_for, sign_consent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_registry(clean_registry):
    pass


@pytest.fixture
def session(patient):
    return admitted(session_for(patient))


def _page(client_for, session):
    response = client_for(session.provider.user).get(f"/staff/telehealth/{session.pk}/call/")
    assert response.status_code == 200
    body = response.content.decode()
    config = json.loads(re.search(r'<script id="telehealth-config" type="application/json">(.*?)</script>', body, re.S).group(1))
    return body, config


def test_with_a_valid_recording_consent_the_built_in_call_page_offers_record(client_for, settings, patient, session):
    settings.TELEHEALTH_RECORDING_MAX_MB = 7
    sign_consent(patient, "RECORDING")
    body, config = _page(client_for, session)
    assert "data-record " in body and "telehealth/recording.js" in body and 'role="status"' in body
    assert config["recording"] == {"start": f"/api/v1/telehealth/sessions/{session.pk}/recordings/",
                                   "upload": "/api/v1/telehealth/recordings/", "max_bytes": 7 * 1024 * 1024}


def test_without_a_valid_recording_consent_the_page_has_no_record_button(client_for, patient, session):
    body, config = _page(client_for, session)
    assert "data-record" not in body and "recording.js" not in body and "recording" not in config

    tampered = sign_consent(patient, "RECORDING")
    ConsentForm.objects.filter(pk=tampered.pk).update(typed_name="Someone Else")
    body, config = _page(client_for, session)
    assert "data-record" not in body and "recording" not in config

    ConsentForm.objects.filter(pk=tampered.pk).delete()
    revoked = sign_consent(patient, "RECORDING")
    consent_revoke(consent=revoked, reason="No recording please")
    body, config = _page(client_for, session)
    assert "data-record" not in body and "recording" not in config


def test_a_call_served_by_a_vendor_is_not_recorded_by_the_page(client_for, settings, patient, session):
    sign_consent(patient, "RECORDING")
    TelehealthSession.objects.filter(pk=session.pk).update(video_provider="TWILIO", room_sid="RM1")
    body, config = _page(client_for, session)
    assert "data-record" not in body and "recording" not in config

    # Before the room exists: the provider that would serve it (the first configured one).
    TelehealthSession.objects.filter(pk=session.pk).update(video_provider="", room_sid="")
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_API_KEY_SID = "AC" + "a" * 32, "SK" + "b" * 32
    settings.TWILIO_API_KEY_SECRET = "twilio-key-secret"
    settings.TELEHEALTH_VIDEO_PROVIDERS = ["twilio", "builtin"]
    body, config = _page(client_for, session)
    assert "data-record" not in body
    settings.TELEHEALTH_VIDEO_PROVIDERS = ["builtin"]
    body, config = _page(client_for, session)
    assert "data-record " in body and "recording" in config


def test_a_closed_session_has_no_record_button(client_for, patient, session):
    sign_consent(patient, "RECORDING")
    TelehealthSession.objects.filter(pk=session.pk).update(status="COMPLETED")
    response = client_for(session.provider.user).get(f"/staff/telehealth/{session.pk}/call/")
    body = response.content.decode()
    assert response.status_code == 200 and "data-record" not in body and "telehealth-config" not in body
