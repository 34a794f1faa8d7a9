"""The signed consent's PDF: core's renderer refuses file: and outside URLs; the PDF holds the
document's text, the patient's name, the signing time and the document hash (read back with
pdftotext); it is rendered once after signing (queued after commit), kept privately with its
SHA-256, downloadable only by the patient or permitted staff (audited), and an uploaded copy is
told apart from an altered one."""
import datetime
import shutil
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.models import AccessLog
from apps.consents import services, tasks
from apps.consents.models import ConsentEvent, ConsentForm
from apps.core import pdf as core_pdf
from tests.services import missing

pytestmark = pytest.mark.django_db


def pdf_text(data, tmp_path):
    if shutil.which("pdftotext") is None:
        missing("needs pdftotext (apt-get install -y poppler-utils)")
    path = tmp_path / "consent.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())  # the words as a reader sees them, whatever the line breaks


# --- core's renderer ------------------------------------------------------------------------------

def test_the_fetcher_refuses_file_and_outside_urls_and_keeps_data_uris():
    fetcher = core_pdf.restricted_url_fetcher()

    for url in ("file:///etc/passwd", "http://169.254.169.254/latest/meta-data/", "https://example.com/x.css",
                "ftp://example.com/x", f"{core_pdf.BASE_URL}static/../../../../etc/passwd"):
        with pytest.raises(core_pdf.RefusedURL):
            fetcher.fetch(url)
    response = fetcher.fetch("data:text/plain;base64,aGVsbG8=")

    assert response.read() == b"hello"
    assert len(fetcher.refused) == 5


def test_a_document_pointing_at_local_files_renders_without_them(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-CONTENT")
    fetcher = core_pdf.restricted_url_fetcher()
    html = (f'<html><body><p>Visible text</p><img src="file://{secret}"><object data="file://{secret}"></object>'
            f'<link rel="stylesheet" href="http://example.com/evil.css"></body></html>')

    data = core_pdf.render_pdf_from_html(html, fetcher=fetcher)

    assert data.startswith(b"%PDF-")
    text = pdf_text(data, tmp_path)
    assert "Visible text" in text and "TOPSECRET" not in text
    assert f"file://{secret}" in fetcher.refused and "http://example.com/evil.css" in fetcher.refused


# --- the consent's PDF ------------------------------------------------------------------------------

def test_the_pdf_holds_the_document_text_the_patient_the_signing_time_and_the_hash(flow, tmp_path):
    consent = flow.sign()

    text = pdf_text(services.pdf.render_consent_pdf(ConsentForm.objects.get(pk=consent.pk)), tmp_path)

    assert "I understand the risks: bleeding, infection, scarring and asymmetry." in text
    assert flow.patient.legal_name in text
    assert consent.signed_at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") in text
    assert consent.document_sha256 in text
    assert "Upper eyelid blepharoplasty" in text and "Can you eat on the morning of surgery?" in text


def test_signing_queues_the_pdf_after_commit(flow, django_capture_on_commit_callbacks, monkeypatch):
    flow.send()
    queued = []
    monkeypatch.setattr(tasks.render_pdf, "delay", lambda consent_id: queued.append(consent_id))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        flow.sign()
    assert queued == []
    for callback in callbacks:
        callback()

    assert queued == [str(flow.consent.pk)]


def test_the_task_renders_once_keeps_the_file_privately_and_records_its_hash(flow):
    flow.sign()

    first = tasks.render_pdf(str(flow.consent.pk))
    again = tasks.render_pdf(str(flow.consent.pk))

    consent = ConsentForm.objects.get(pk=flow.consent.pk)
    assert first == again == consent.pdf_sha256 and len(first) == 64
    assert consent.pdf.name == f"signed/{consent.pk}.pdf"
    with consent.pdf.open("rb") as handle:
        data = handle.read()
    assert services.pdf.sha256_hex(data) == consent.pdf_sha256
    with pytest.raises(ValueError):
        consent.pdf.url  # private: no public URL, ever
    assert ConsentEvent.objects.filter(consent=consent, reason="Signed PDF issued").count() == 1


def test_an_unsigned_consent_has_no_pdf(flow):
    flow.send()

    assert tasks.render_pdf(str(flow.consent.pk)) is None
    assert ConsentForm.objects.get(pk=flow.consent.pk).pdf_sha256 == ""


def test_the_sweep_renders_pdfs_the_task_missed(flow):
    flow.sign()

    assert services.consents_render_missing_pdfs() == 1
    assert services.consents_render_missing_pdfs() == 0


# --- downloads ---------------------------------------------------------------------------------------

def test_the_patient_downloads_their_signed_pdf_and_it_is_audited(flow, client_for):
    flow.sign()

    response = client_for(flow.patient.user).get(f"/portal/consents/{flow.consent.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response["Cache-Control"] == "private, no-store"
    assert response.content.startswith(b"%PDF-")
    consent = ConsentForm.objects.get(pk=flow.consent.pk)
    assert services.pdf.sha256_hex(response.content) == consent.pdf_sha256
    assert AccessLog.objects.filter(object_id=str(consent.pk), action="read", detail__view="portal_consent_pdf").exists()


def test_another_patient_gets_404_for_the_pdf(flow, other_patient, client_for):
    flow.sign()

    assert client_for(other_patient.user).get(f"/portal/consents/{flow.consent.pk}/pdf/").status_code == 404


def test_before_signing_the_pdf_answers_409(flow, client_for):
    flow.send()

    response = client_for(flow.patient.user).get(f"/portal/consents/{flow.consent.pk}/pdf/")

    assert response.status_code == 409 and "consent_not_signed" in response.content.decode()


def test_staff_download_by_permission(flow, nurse, billing_user, client_for):
    flow.sign()
    url = f"/staff/surgery/consents/{flow.consent.pk}/pdf/"

    assert client_for(nurse).get(url).status_code == 200
    assert client_for(billing_user).get(url).status_code == 403
    assert client_for(nurse, verified=False).get(url).status_code == 302


def test_anonymous_is_sent_to_sign_in_for_the_pdf(flow, client):
    flow.sign()

    response = client.get(f"/portal/consents/{flow.consent.pk}/pdf/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_api_serves_the_pdf_to_a_key_with_consents_read(flow, api_key_factory):
    from tests.conftest import api_keyed_client

    flow.sign()
    _, reader = api_key_factory("consents:read")
    _, other = api_key_factory("patients:read")

    response = api_keyed_client(reader).get(f"/api/v1/consents/{flow.consent.pk}/pdf/")

    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert api_keyed_client(other).get(f"/api/v1/consents/{flow.consent.pk}/pdf/").status_code == 403


# --- uploaded copies ---------------------------------------------------------------------------------

def _issued(flow):
    flow.sign()
    consent = services.consent_pdf_render(consent_id=flow.consent.pk)
    with consent.pdf.open("rb") as handle:
        return consent, handle.read()


def _upload(data):
    return SimpleUploadedFile("consent.pdf", data, content_type="application/pdf")


def test_the_pdf_we_issued_matches_and_the_consent_verifies(flow):
    consent, data = _issued(flow)

    result = services.consent_pdf_check_upload(upload=_upload(data), consent=consent)

    assert (result.issued, result.code, result.verification.code) == (True, "pdf_matches", "consent_valid")
    assert AccessLog.objects.filter(object_id=str(consent.pk), detail__pdf_check="pdf_matches").exists()


def test_an_altered_pdf_is_reported_as_tampering(flow):
    consent, data = _issued(flow)
    altered = data.replace(flow.patient.last_name.encode(), b"X" * len(flow.patient.last_name), 1)
    if altered == data:  # the name is in a compressed stream: change one byte anywhere
        altered = data[:-10] + bytes([data[-10] ^ 1]) + data[-9:]

    result = services.consent_pdf_check_upload(upload=_upload(altered), consent=consent)

    assert (result.issued, result.code) == (False, "pdf_altered")
    assert "Tampering" in result.message
    assert AccessLog.objects.filter(object_id=str(consent.pk), detail__pdf_check="pdf_altered").exists()


def test_a_file_that_is_not_a_pdf_or_of_another_consent(flow, other_flow):
    consent, _ = _issued(flow)
    _, other_data = _issued(other_flow)

    assert services.consent_pdf_check_upload(upload=_upload(b"hello"), consent=consent).code == "not_a_pdf"
    assert services.consent_pdf_check_upload(upload=_upload(other_data), consent=consent).code == "pdf_other_consent"


def test_without_a_consent_an_issued_pdf_is_found_by_its_hash(flow):
    consent, data = _issued(flow)

    found = services.consent_pdf_check_upload(upload=_upload(data))
    unknown = services.consent_pdf_check_upload(upload=_upload(data + b"\n"))

    assert (found.code, found.consent.pk) == ("pdf_matches", consent.pk)
    assert (unknown.issued, unknown.code, unknown.consent) == (False, "pdf_unknown", None)
