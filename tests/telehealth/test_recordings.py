"""Recordings: only the visit's provider starts one, only during the call, only with the
patient's valid RECORDING consent (missing, revoked or tampered: 409, nothing recorded) and a
provider that can record; the built-in provider's upload is checked by its bytes and stored
privately; listing and downloading are permission-checked and audited; the retention job
(with a fixed clock) deletes expired recordings through the provider interface, audited, once."""
import datetime
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.models import AccessLog
from apps.consents.models import ConsentForm
from apps.consents.services import consent_revoke
from apps.core.exceptions import PermissionDenied
from apps.core.periodic import declared
from apps.telehealth import services, tasks
from apps.telehealth.exceptions import ConsentRequired, RecordingUnsupported, SessionClosed
from apps.telehealth.models import Recording, TelehealthSession
from apps.telehealth.models.recordings import recording_storage
from apps.telehealth.providers import registry
from apps.telehealth.providers.twilio_video import TwilioVideoProvider
from tests.conftest import api_keyed_client, api_session
from tests.telehealth.factories import admitted, in_call, session_for, sign_consent, verified

pytestmark = pytest.mark.django_db
API = "/api/v1/telehealth"
WEBM = b"\x1a\x45\xdf\xa3" + b"\x9f\x42\x86\x81\x01" + b"recorded-call-bytes" * 50
# A fixed clock: the moment the recording starts, and the retention period's edges around it.
T0 = datetime.datetime(2026, 12, 4, 15, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(autouse=True)
def _clean_registry(clean_registry):
    pass


@pytest.fixture
def call(patient):
    return in_call(session_for(patient))


def host(session):
    return verified(session.provider.user)


def _start(session, now=T0):
    return services.recording_start(session=session, actor=host(session), now=now)


def _webm(content=WEBM, name="call.webm"):
    return SimpleUploadedFile(name, content, content_type="video/webm")


def test_the_retention_job_is_declared_for_beat():
    assert "telehealth.recording_retention" in {job.name for job in declared()}


def test_a_call_is_not_recorded_without_the_recording_consent(call):
    with pytest.raises(ConsentRequired) as refused:
        _start(call)
    assert refused.value.status_code == 409
    assert refused.value.extra["problems"] == [{"kind": "RECORDING", "jurisdiction": "", "code": "consent_missing"}]
    assert not Recording.objects.exists()


def test_a_revoked_or_tampered_recording_consent_is_refused_and_the_check_audited(call, patient):
    consent = sign_consent(patient, "RECORDING")
    ConsentForm.objects.filter(pk=consent.pk).update(typed_name="Someone Else")
    with pytest.raises(ConsentRequired) as tampered:
        _start(call)
    assert tampered.value.extra["problems"][0]["code"] == "consent_tampered"
    assert AccessLog.objects.filter(object_id=str(consent.pk), detail__purpose="telehealth_recording",
                                    detail__verification="failed").exists()
    fresh = sign_consent(patient, "RECORDING")
    consent_revoke(consent=fresh, reason="No recording please")
    ConsentForm.objects.filter(pk=consent.pk).delete()
    with pytest.raises(ConsentRequired) as revoked:
        _start(call)
    assert revoked.value.extra["problems"][0]["code"] == "consent_revoked"
    assert not Recording.objects.exists()


def test_the_provider_starts_a_recording_once_with_its_retention_deadline(call, patient, settings):
    settings.TELEHEALTH_RECORDING_RETENTION_DAYS = 30
    consent = sign_consent(patient, "RECORDING")
    recording = _start(call)
    assert recording.status == "RECORDING" and recording.video_provider == "BUILTIN"
    assert recording.delete_after == T0 + datetime.timedelta(days=30) and recording.consent_id == consent.pk
    assert _start(call).pk == recording.pk  # a second click: the running one
    assert Recording.objects.count() == 1
    assert recording.events.get().reason == "Recording started"
    assert TelehealthSession.objects.get(pk=call.pk).recording_planned is True


def test_only_the_provider_records_and_only_during_the_call(patient, nurse):
    sign_consent(patient, "RECORDING")
    session = admitted(session_for(patient))
    with pytest.raises(SessionClosed) as not_yet:
        _start(session)
    assert not_yet.value.code == "call_not_in_progress"
    services.session_start(session=session, actor=host(session))
    session.refresh_from_db()
    for someone in (verified(nurse), patient.user):
        with pytest.raises(PermissionDenied) as refused:
            services.recording_start(session=session, actor=someone)
        assert refused.value.code == "not_the_provider"
    assert not Recording.objects.exists()


def test_a_provider_that_cannot_record_refuses(call, patient):
    sign_consent(patient, "RECORDING")
    TelehealthSession.objects.filter(pk=call.pk).update(video_provider="ZOOM")
    call.refresh_from_db()
    with pytest.raises(RecordingUnsupported) as refused:
        _start(call)
    assert refused.value.status_code == 409 and refused.value.code == "recording_unsupported"
    assert not Recording.objects.exists()


# --- over the API: start, upload, list, download ------------------------------------------------

def test_the_provider_records_uploads_and_downloads_over_the_api_all_audited(call, patient):
    sign_consent(patient, "RECORDING")
    provider = api_session(call.provider.user)
    started = provider.post(f"{API}/sessions/{call.pk}/recordings/", {}, format="json")
    assert started.status_code == 201 and started.json()["status"] == "RECORDING"
    rid = started.json()["id"]
    uploaded = provider.post(f"{API}/recordings/{rid}/upload/", {"file": _webm()}, format="multipart")
    assert uploaded.status_code == 200, uploaded.content
    body = uploaded.json()
    assert body["status"] == "AVAILABLE" and body["downloadable"] is True and body["content_type"] == "video/webm"
    assert body["size_bytes"] == len(WEBM) and body["sha256"] == hashlib.sha256(WEBM).hexdigest()
    stored = Recording.objects.get(pk=rid)
    assert recording_storage.exists(stored.file.name)

    listed = provider.get(f"{API}/recordings/", {"session": str(call.pk)})
    assert listed.status_code == 200 and [row["id"] for row in listed.json()["results"]] == [rid]
    got = provider.get(f"{API}/recordings/{rid}/download/")
    assert got.status_code == 200 and b"".join(got.streaming_content) == WEBM
    assert got["Content-Disposition"].startswith("attachment") and got["Cache-Control"] == "no-store"
    views = set(AccessLog.objects.filter(object_id=rid, action="read").values_list("detail__view", flat=True))
    assert {"api_telehealth_recordings", "api_telehealth_recording_download"} <= views
    again = provider.post(f"{API}/recordings/{rid}/upload/", {"file": _webm()}, format="multipart")
    assert again.status_code == 409 and again.json()["code"] == "recording_not_recording"


def test_an_upload_that_is_not_a_recording_is_a_400_and_nothing_is_stored(call, patient):
    sign_consent(patient, "RECORDING")
    recording = _start(call)
    provider = api_session(call.provider.user)
    bad = provider.post(f"{API}/recordings/{recording.pk}/upload/",
                        {"file": SimpleUploadedFile("x.webm", b"<html>not a video</html>", content_type="video/webm")},
                        format="multipart")
    assert bad.status_code == 400 and "file" in bad.json()["extra"]["fields"]
    missing = provider.post(f"{API}/recordings/{recording.pk}/upload/", {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["extra"]["fields"]
    recording.refresh_from_db()
    assert recording.status == "RECORDING" and not recording.file


def test_who_may_see_and_fetch_recordings(call, patient, other_patient, nurse, front_desk, clinic_admin, api_key_factory,
                                          api_client):
    sign_consent(patient, "RECORDING")
    recording = _start(call)
    services.recording_store(recording=recording, actor=host(call), upload=_webm())
    one, media = f"{API}/recordings/{recording.pk}/", f"{API}/recordings/{recording.pk}/download/"

    for person in (patient.user, other_patient.user):  # a patient: 404 for every recording
        client = api_session(person)
        assert client.get(one).status_code == 404 and client.get(media).status_code == 404
        assert client.get(f"{API}/recordings/").status_code == 404
    nurse_client = api_session(nurse)  # sees the list, may not play
    assert nurse_client.get(one).json()["id"] == str(recording.pk)
    assert nurse_client.get(media).status_code == 403
    assert api_session(front_desk).get(one).status_code == 403
    assert api_session(clinic_admin).get(media).status_code == 200
    _, read_raw = api_key_factory("telehealth:read")
    keyed = api_keyed_client(read_raw)
    assert keyed.get(f"{API}/recordings/").json()["count"] == 1
    assert keyed.get(media).status_code == 403  # never the media through a key
    assert api_session(call.provider.user, verified=False).get(media).status_code in (401, 403)
    assert api_client.get(media).status_code in (401, 403)
    other = api_session(nurse).post(f"{API}/recordings/{recording.pk}/upload/", {"file": _webm()}, format="multipart")
    assert other.status_code == 403


# --- retention ------------------------------------------------------------------------------------

def test_retention_deletes_the_file_after_the_period_audited_and_only_once(call, patient, settings):
    settings.TELEHEALTH_RECORDING_RETENTION_DAYS = 30
    sign_consent(patient, "RECORDING")
    recording = services.recording_store(recording=_start(call), actor=host(call), upload=_webm())
    name = recording.file.name
    assert services.recordings_delete_expired(now=T0 + datetime.timedelta(days=29, hours=23)) == 0
    assert recording_storage.exists(name)

    after = T0 + datetime.timedelta(days=30, minutes=1)
    assert services.recordings_delete_expired(now=after) == 1
    assert services.recordings_delete_expired(now=after) == 0  # a second run: nothing to do
    recording.refresh_from_db()
    assert recording.status == "DELETED" and recording.deleted_at == after and not recording.file
    assert not recording_storage.exists(name)
    logged = AccessLog.objects.get(object_id=str(recording.pk), action="delete")
    assert logged.detail["reason"] == "retention" and logged.patient_id == patient.pk
    assert recording.events.filter(to_status="DELETED", actor_label="system").exists()
    assert api_session(call.provider.user).get(f"{API}/recordings/{recording.pk}/download/").json()["code"] == \
        "recording_not_stored"


def test_retention_task_runs_on_the_real_clock(call, patient):
    sign_consent(patient, "RECORDING")
    old = _start(call, now=T0 - datetime.timedelta(days=400))
    assert tasks.recording_retention.run() == 1
    assert Recording.objects.get(pk=old.pk).status == "DELETED"


class FakeTwilioRecordings:
    """Twilio's REST API for rooms and recordings, at its HTTP boundary."""

    def __init__(self, *, fail_delete=False):
        self.calls, self.fail_delete = [], fail_delete

    def __call__(self, method, url, *, data=None, auth=None):
        self.calls.append((method, url, data))
        if method == "DELETE":
            return (500, {"message": "down"}) if self.fail_delete else (204, {})
        if method == "GET" and "/Recordings?" in url:
            return 200, {"recordings": [{"sid": "RT1"}, {"sid": "RT2"}]}
        return 201, {"sid": "RM123", "unique_name": (data or {}).get("UniqueName", "x")}


@pytest.fixture
def twilio(settings):
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_API_KEY_SID = "AC" + "a" * 32, "SK" + "b" * 32
    settings.TWILIO_API_KEY_SECRET = "twilio-key-secret"
    settings.TELEHEALTH_VIDEO_PROVIDERS = ["twilio"]
    http = FakeTwilioRecordings()
    registry.install("twilio", TwilioVideoProvider(http_client=http))
    return http


def test_twilio_records_by_its_rules_and_retention_deletes_at_twilio(patient, twilio):
    session = in_call(session_for(patient))
    assert session.video_provider == "TWILIO" and session.room_sid == "RM123"
    sign_consent(patient, "RECORDING")
    recording = _start(session)
    assert recording.status == "AVAILABLE" and recording.vendor_sid == "RM123"
    rules = [c for c in twilio.calls if c[1].endswith("/Rooms/RM123/RecordingRules")]
    assert rules and '"type": "include"' in rules[0][2]["Rules"]
    assert services.recordings_delete_expired(now=recording.delete_after) == 1
    deleted = [c[1] for c in twilio.calls if c[0] == "DELETE"]
    assert deleted == ["https://video.twilio.com/v1/Recordings/RT1", "https://video.twilio.com/v1/Recordings/RT2"]
    assert Recording.objects.get(pk=recording.pk).status == "DELETED"


def test_a_failed_vendor_deletion_keeps_the_recording_for_the_next_run(patient, twilio):
    session = in_call(session_for(patient))
    sign_consent(patient, "RECORDING")
    recording = _start(session)
    twilio.fail_delete = True
    assert services.recordings_delete_expired(now=recording.delete_after) == 0
    assert Recording.objects.get(pk=recording.pk).status == "AVAILABLE"
    assert not AccessLog.objects.filter(object_id=str(recording.pk), action="delete").exists()
    twilio.fail_delete = False
    assert services.recordings_delete_expired(now=recording.delete_after) == 1
