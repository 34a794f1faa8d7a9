"""Documents: type by content (magic bytes), size limit, private storage, sharing."""
import pytest

from apps.core.exceptions import DomainError
from apps.messaging.models import Notification
from apps.records import services
from apps.records.models import Document
from tests.records.factories import PDF, PNG, upload

pytestmark = pytest.mark.django_db


def test_a_patient_upload_is_stored_privately_and_visible_to_them(patient):
    document = services.document_upload(patient=patient, actor=patient.user, upload=upload(), category="INSURANCE_CARD",
                                        by_patient=True)
    assert (document.content_type, document.size, document.shared_with_patient) == ("image/png", len(PNG), True)
    assert document.file.name.startswith(f"documents/{patient.pk}/") and "card" not in document.file.name
    with pytest.raises(ValueError):
        document.file.url
    assert services.document_open(document=document).read() == PNG


@pytest.mark.parametrize("name, content", [
    ("card.png", b"<html><script>alert(1)</script></html>"),
    ("scan.pdf", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>"),
    ("notes.txt", b"just some text"),
    ("empty.pdf", b""),
    ("scan.png", PDF),
])
def test_files_that_are_not_what_they_say_or_not_allowed_are_refused(patient, name, content):
    with pytest.raises(DomainError) as exc:
        services.document_upload(patient=patient, actor=patient.user, upload=upload(name, content), category="OTHER",
                                 by_patient=True)
    assert exc.value.code == "document_rejected" and exc.value.status_code == 400
    assert "file" in exc.value.extra["fields"]
    assert not Document.objects.exists()


def test_a_file_over_the_limit_is_refused(patient, settings):
    settings.RECORDS_DOCUMENT_MAX_BYTES = 1024
    with pytest.raises(DomainError) as exc:
        services.document_upload(patient=patient, actor=patient.user, upload=upload("big.pdf", PDF + b"0" * 2048),
                                 category="OTHER", by_patient=True)
    assert "larger than" in exc.value.message


def test_a_pdf_without_extension_gets_one(patient):
    document = services.document_upload(patient=patient, actor=patient.user, upload=upload("referral", PDF),
                                        category="REFERRAL", by_patient=True)
    assert document.filename == "referral.pdf" and document.content_type == "application/pdf"


def test_staff_documents_wait_until_shared_and_sharing_tells_the_patient_once(patient, provider_user):
    document = services.document_upload(patient=patient, actor=provider_user, upload=upload("mri.pdf", PDF),
                                        category="IMAGING_REPORT")
    assert not document.shared_with_patient
    services.document_share(document=document, actor=provider_user)
    services.document_share(document=document, actor=provider_user)
    document.refresh_from_db()
    assert document.shared_with_patient and document.shared_by == provider_user
    assert Notification.objects.filter(recipient=patient.user, kind="document_shared").count() == 1
