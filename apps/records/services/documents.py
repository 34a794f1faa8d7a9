"""Documents: uploads by the patient (theirs to see at once) or by staff (in the chart until
shared), kept in the private storage; sharing tells the patient. Reading the file is
services' business too, so every download goes through the access-checked, audited view."""
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from apps.audit.services import record
from apps.core.transitions import lock
from apps.records.exceptions import DocumentRejected
from apps.records.files import Rejected, inspect_document
from apps.records.models import Document
from apps.records.services._common import notify_patient, user_actor, validated


def document_upload(*, patient, actor, upload, category, title="", by_patient=False):
    """Store an uploaded file for `patient` (type by content, size limit: 400
    document_rejected naming the file otherwise). A patient's own upload is visible to them at
    once; a staff upload stays in the chart until document_share. The file is written before
    the row; a refused row removes it again."""
    try:
        content_type, size, sha256, filename = inspect_document(upload)
    except Rejected as exc:
        raise DocumentRejected(exc.message, extra={"fields": {"file": [exc.message]}})
    document = Document(patient=patient, category=category, title=(title or "").strip(), filename=filename,
                        content_type=content_type, size=size, sha256=sha256, uploaded_by=user_actor(actor),
                        uploaded_by_patient=by_patient, shared_with_patient=by_patient,
                        shared_at=timezone.now() if by_patient else None)
    validated(document, exclude=["file"])
    document.file.save(filename, File(upload), save=False)
    try:
        with transaction.atomic():
            document.save()
            record("create", document)
    except Exception:
        document.file.delete(save=False)
        raise
    return document


def document_share(*, document, actor):
    """Share a staff document with its patient (idempotent: sharing again changes nothing).
    Triggers: the patient is told, once per document."""
    with transaction.atomic():
        document = lock(Document, document.pk, related=("patient",))
        if document.shared_with_patient:
            return document
        document.shared_with_patient = True
        document.shared_at = timezone.now()
        document.shared_by = user_actor(actor)
        document.save(update_fields=["shared_with_patient", "shared_at", "shared_by"])
        record("update", document, detail={"shared_with_patient": True})
        notify_patient(document.patient, kind="document_shared", title="A new document is in your portal",
                       link="/portal/records/documents/", outbox_key=f"document_shared:{document.pk}")
    return document


def document_open(*, document):
    """The stored file, opened for reading (the caller has checked access and audits the read)."""
    return document.file.storage.open(document.file.name, "rb")
