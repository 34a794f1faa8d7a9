"""Attachments: type by content (never the name or the browser's type), size limit, private
storage, and the permission-checked download."""
import os

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from apps.audit.models import AccessLog
from apps.core.exceptions import ValidationFailed
from apps.messaging.threads import services
from apps.messaging.threads.attachments import private_attachment_storage, sniff
from apps.messaging.threads.models import Attachment, Message, Thread
from tests.messaging.thread_helpers import (  # noqa: F401
    HEIC, HTML, JPEG, PDF, PNG, TEXT, patient_thread, private_attachment_root, upload,
)

pytestmark = pytest.mark.django_db


# --- what a file is -----------------------------------------------------------------------

@pytest.mark.parametrize("content, expected", [
    (PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (HEIC, "image/heic"),
    (TEXT, "text/plain"), ("Café au lait, 37.5 °C\n".encode(), "text/plain"),
    (HTML, ""), (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", ""), (b"  <html>", ""),
    (b"MZ\x90\x00\x03", ""), (b"PK\x03\x04zipfile", ""), (b"GIF89a\x01\x00", ""), (b"\x00\x01binary", ""),
])
def test_sniff_decides_by_the_bytes(content, expected):
    assert sniff(content) == expected


def test_a_pdf_that_is_really_html_is_rejected(patient):
    with pytest.raises(ValidationFailed) as exc:
        patient_thread(patient, files=[upload("results.pdf", HTML, "application/pdf")])
    assert "attachments" in exc.value.extra["fields"]
    assert not Thread.objects.exists() and not Message.objects.exists() and not Attachment.objects.exists()


def test_a_text_file_named_pdf_is_rejected(patient):
    with pytest.raises(ValidationFailed) as exc:
        patient_thread(patient, files=[upload("scan.pdf", TEXT, "application/pdf")])
    assert "not what its name says" in exc.value.extra["fields"]["attachments"][0]


def test_the_browsers_content_type_is_ignored(patient):
    thread = patient_thread(patient, files=[upload("photo.png", PNG, "text/html")])
    attachment = Attachment.objects.get(message__thread=thread)
    assert attachment.content_type == "image/png"


def test_a_file_without_a_known_extension_gets_the_right_one(patient):
    thread = patient_thread(patient, files=[upload("IMG_0001", JPEG)])
    assert Attachment.objects.get(message__thread=thread).original_name == "IMG_0001.jpg"


def test_files_over_the_size_limit_are_rejected(patient, settings):
    settings.MESSAGING_ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(ValidationFailed) as exc:
        patient_thread(patient, files=[upload("big.pdf", PDF + b"0" * 2000)])
    assert "larger than" in exc.value.extra["fields"]["attachments"][0]


def test_empty_files_and_too_many_files_are_rejected(patient, settings):
    with pytest.raises(ValidationFailed):
        patient_thread(patient, files=[upload("empty.txt", b"")])
    settings.MESSAGING_ATTACHMENTS_PER_MESSAGE = 2
    with pytest.raises(ValidationFailed):
        patient_thread(patient, files=[upload(f"{i}.txt", TEXT) for i in range(3)])


def test_a_stored_attachment_is_private_with_its_hash(patient, private_attachment_root):
    thread = patient_thread(patient, files=[upload("../../etc/passwd.pdf", PDF, "application/pdf")])
    attachment = Attachment.objects.get(message__thread=thread)

    import hashlib

    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest() and attachment.size == len(PDF)
    assert attachment.original_name == "passwd.pdf"
    path = attachment.file.path
    assert path.startswith(str(private_attachment_root)) and "passwd" not in path
    assert not path.startswith(str(django_settings.MEDIA_ROOT or "/nonexistent"))
    with pytest.raises(ValueError):
        private_attachment_storage().url(attachment.file.name)
    with open(path, "rb") as fh:
        assert fh.read() == PDF


def test_attachment_add_checks_the_file(patient):
    thread = patient_thread(patient)
    message = thread.messages.get()
    with pytest.raises(ValidationFailed):
        services.attachment_add(message=message, upload=upload("x.txt", HTML), uploaded_by=patient.user)
    attachment = services.attachment_add(message=message, upload=upload("notes.txt", TEXT), uploaded_by=patient.user)
    assert attachment.content_type == "text/plain"


def test_a_failed_post_leaves_no_file_behind(patient, monkeypatch, private_attachment_root):
    thread = patient_thread(patient)

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("apps.messaging.threads.services._message_bookkeeping", boom)
    with pytest.raises(RuntimeError):
        services.message_post(thread=thread, body="with file", author=patient.user, files=[upload("a.pdf", PDF)])
    files = [f for _, _, fs in os.walk(private_attachment_root) for f in fs]
    assert files == []


# --- uploading through the pages ----------------------------------------------------------

def test_patient_uploads_through_the_reply_form(client_for, patient):
    thread = patient_thread(patient)
    c = client_for(patient.user)
    response = c.post(reverse("portal_thread_detail", args=[thread.pk]), {"body": "my results", "attachments": [upload("lab.pdf", PDF)]})
    assert response.status_code == 302
    assert Attachment.objects.filter(message__thread=thread, content_type="application/pdf").count() == 1


def test_the_reply_form_shows_a_rejected_file_and_saves_nothing(client_for, patient):
    thread = patient_thread(patient)
    response = client_for(patient.user).post(
        reverse("portal_thread_detail", args=[thread.pk]), {"body": "see file", "attachments": [upload("lab.pdf", HTML, "application/pdf")]}
    )
    assert response.status_code == 400
    assert "lab.pdf is not a PDF" in response.content.decode()
    assert thread.messages.count() == 1


# --- downloading --------------------------------------------------------------------------

@pytest.fixture
def attachment(patient):
    thread = patient_thread(patient, files=[upload("lab results.pdf", PDF)])
    return Attachment.objects.get(message__thread=thread)


def _url(attachment):
    return reverse("thread_attachment_download", args=[attachment.pk])


def test_the_owner_downloads_it_as_an_attachment_with_nosniff(client_for, patient, attachment):
    response = client_for(patient.user).get(_url(attachment))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "lab results.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert AccessLog.objects.filter(object_id=str(attachment.pk), action="read", patient_id=patient.pk).exists()


def test_another_patient_gets_404(client_for, other_patient, attachment):
    assert client_for(other_patient.user).get(_url(attachment)).status_code == 404


@pytest.mark.parametrize("role", ["front_desk", "nurse", "provider_user", "clinic_admin"])
def test_messaging_staff_download_it(request, client_for, attachment, role):
    response = client_for(request.getfixturevalue(role)).get(_url(attachment))
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF and "lab results.pdf" in response["Content-Disposition"]


def test_billing_gets_404(client_for, billing_user, attachment):
    assert client_for(billing_user).get(_url(attachment)).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, attachment):
    response = client.get(_url(attachment))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_unverified_staff_are_sent_to_the_second_factor(client_for, front_desk, attachment):
    response = client_for(front_desk, verified=False).get(_url(attachment))
    assert response.status_code == 302 and "/staff/mfa" in response.url


def test_an_unknown_attachment_is_404(client_for, patient):
    import uuid

    assert client_for(patient.user).get(reverse("thread_attachment_download", args=[uuid.uuid4()])).status_code == 404


def test_attachments_are_not_under_a_public_url(client, attachment):
    # Nothing maps the private directory: MEDIA is not served and the file name is random.
    assert client.get(f"/media/{attachment.file.name}").status_code == 404
