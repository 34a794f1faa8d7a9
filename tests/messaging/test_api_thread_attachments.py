"""Thread attachments through the API: uploaded with a message (multipart/form-data, the
portal's type and size checks, private storage) and downloaded by id under their thread
(messaging:read or staff who may view threads; audited; another thread's or patient's
attachment is 404; patients use the portal)."""
import pytest

from apps.audit.models import AccessLog
from apps.core.storage import PrivateFiles
from apps.messaging.threads.models import Attachment, Message
from tests.conftest import login
from tests.messaging.thread_helpers import HTML, PDF, TEXT, patient_thread, private_attachment_root, upload  # noqa: F401

pytestmark = pytest.mark.django_db

LIST = "/api/v1/threads/"


def keyed(api_client, raw):
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return api_client


@pytest.fixture
def thread(patient):
    return patient_thread(patient, files=[upload("scan.pdf", PDF)])


@pytest.fixture
def writer(api_client, api_key_factory):
    return keyed(api_client, api_key_factory("messaging:read", "messaging:write")[1])


def _file_url(thread, attachment):
    return f"{LIST}{thread.pk}/attachments/{attachment.pk}/"


def test_an_integrator_uploads_files_with_a_message_and_downloads_them(writer, thread):
    response = writer.post(f"{LIST}{thread.pk}/messages/", {"body": "Your form", "attachments": [upload("form.pdf", PDF),
                                                                                                   upload("notes.txt", TEXT)]},
                           format="multipart")

    assert response.status_code == 201, response.content
    files = response.json()["attachments"]
    assert [(f["original_name"], f["content_type"], f["size"]) for f in files] == [
        ("form.pdf", "application/pdf", len(PDF)), ("notes.txt", "text/plain", len(TEXT))]
    stored = Attachment.objects.get(pk=files[0]["id"])
    assert isinstance(stored.file.storage, PrivateFiles) and stored.file.storage.exists(stored.file.name)
    assert "form" not in stored.file.name  # a random stored name, never the patient's filename
    download = writer.get(files[0]["api_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AccessLog.objects.filter(action="read", object_id=str(stored.pk), detail__view="api_attachment_download").count() == 1


def test_files_alone_need_no_body_and_nothing_at_all_is_400(writer, thread):
    alone = writer.post(f"{LIST}{thread.pk}/messages/", {"attachments": [upload("a.pdf", PDF)]}, format="multipart")
    empty = writer.post(f"{LIST}{thread.pk}/messages/", {"body": ""}, format="json")

    assert alone.status_code == 201, alone.content
    assert empty.status_code == 400
    assert "body" in empty.json()["extra"]["fields"]


def test_a_file_the_portal_refuses_is_400_and_nothing_is_written(writer, thread):
    before = (Message.objects.count(), Attachment.objects.count())

    response = writer.post(f"{LIST}{thread.pk}/messages/", {"body": "x", "attachments": [upload("evil.pdf", HTML)]},
                           format="multipart")

    assert response.status_code == 400
    assert "attachments" in response.json()["extra"]["fields"]
    assert (Message.objects.count(), Attachment.objects.count()) == before


def test_staff_who_may_view_threads_download(api_client, front_desk, thread):
    attachment = Attachment.objects.get()
    login(api_client, front_desk)

    response = api_client.get(_file_url(thread, attachment))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def test_another_patients_attachment_under_this_thread_is_404(writer, thread, other_patient):
    theirs = patient_thread(other_patient, files=[upload("theirs.pdf", PDF)])
    their_file = Attachment.objects.get(message__thread=theirs)

    response = writer.get(_file_url(thread, their_file))

    assert response.status_code == 404
    assert PDF not in response.content
    assert not AccessLog.objects.filter(object_id=str(their_file.pk)).exists()


@pytest.mark.parametrize("bad", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_attachment_is_404(writer, thread, bad):
    assert writer.get(f"{LIST}{thread.pk}/attachments/{bad}/").status_code == 404


def test_a_key_without_messaging_read_is_403_and_patients_use_the_portal(api_client, api_key_factory, thread, patient):
    attachment = Attachment.objects.get()
    refused = keyed(api_client, api_key_factory("patients:read")[1]).get(_file_url(thread, attachment))
    api_client.credentials()
    login(api_client, patient.user)
    patient_answer = api_client.get(_file_url(thread, attachment))

    assert refused.status_code == 403
    assert patient_answer.status_code == 403
    assert PDF not in refused.content + patient_answer.content


def test_the_schema_documents_upload_and_download(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    if schema.status_code != 200:
        schema = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    body = schema.json() if schema["Content-Type"].startswith("application/") and "json" in schema["Content-Type"] else None
    assert body is not None, schema.status_code
    paths = body["paths"]
    assert "/api/v1/threads/{id}/attachments/{attachment_id}/" in paths
    post = paths["/api/v1/threads/{id}/messages/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in post
