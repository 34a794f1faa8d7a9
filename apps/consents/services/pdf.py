"""The signed consent's PDF: rendered once after signing (a task queued after the signature's
commit; the download views and a periodic sweep render it when that task did not run), kept in
the private storage with its SHA-256, and checked against uploaded copies.

The PDF is a rendering of the canonical document (documents.py), not the thing that is signed:
the document's SHA-256 (printed in the PDF) is what verification recomputes. The PDF's own hash
only answers "is this file the one we issued": WeasyPrint stamps a creation time, so a second
rendering is a different file, which is why it is rendered once and kept."""
import base64
import datetime
import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.audit.services import record
from apps.consents.documents import sha256_hex
from apps.consents.exceptions import OutOfOrder
from apps.consents.models import ConsentForm
from apps.consents.services.verification import consent_check
from apps.core import pdf as core_pdf
from apps.core.exceptions import ValidationFailed
from apps.core.timezones import clinic_zone
from apps.core.transitions import record_event

log = logging.getLogger(__name__)

C = ConsentForm.Status
# Statuses a signature stands behind (what it became later is printed on the page).
SIGNED_STATUSES = (C.SIGNED, C.EXPIRED, C.REVOKED)
# An uploaded copy is a PDF of a few hundred kilobytes; anything far larger is not ours.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
TEMPLATE = "consents/pdf/consent.html"


def _when(value):
    """(UTC, clinic time) of a datetime, as the PDF prints them."""
    if value is None:
        return "", ""
    utc = value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    local = value.astimezone(clinic_zone()).strftime("%Y-%m-%d %H:%M %Z")
    return utc, local


def pdf_context(consent):
    """What the PDF template shows: the signed document's content, read from the consent row
    (its template version, plan snapshot, signer snapshot, answers and signature)."""
    template = consent.template
    acknowledged = set(consent.progress.get("acknowledged", []))
    answers = consent.progress.get("answers", {})
    signed_utc, signed_local = _when(consent.signed_at)
    expires_utc, _ = _when(consent.expires_at)
    image = None
    if consent.signature_kind == ConsentForm.SignatureKind.DRAWN and consent.signature_image:
        image = "data:image/png;base64," + base64.b64encode(bytes(consent.signature_image)).decode()
    return {
        "consent": consent,
        "template": template,
        "sections": [{"title": s["title"], "clauses": [{"text": c["text"], "acknowledged": c["key"] in acknowledged}
                                                       for c in s["clauses"]]} for s in template.sections],
        "checks": [{"question": c["question"], "answer": answers.get(c["key"], "")} for c in template.checks],
        "plan": consent.plan_snapshot or None,
        "signer": consent.signer_snapshot or {},
        "signed_utc": signed_utc,
        "signed_local": signed_local,
        "expires_utc": expires_utc,
        "signature_image": image,
    }


def render_consent_pdf(consent):
    """The PDF bytes of a signed consent (nothing stored)."""
    return core_pdf.render_pdf(TEMPLATE, pdf_context(consent))


def consent_pdf_render(*, consent_id, now=None):
    """Render and keep the PDF of a signed consent, once: a consent that has one keeps it (a
    second call, or a second worker, changes nothing). Rendering happens outside any
    transaction (it takes a while); the row is then claimed by a conditional UPDATE (pdf_sha256
    still empty), and a loser's file is deleted. Returns the consent, or None when it is not
    signed. Triggers: an event row and the audit entry."""
    consent = ConsentForm.objects.select_related("template").filter(pk=consent_id).first()
    if consent is None or consent.status not in SIGNED_STATUSES:
        return None
    if consent.pdf_sha256:
        return consent
    data = render_consent_pdf(consent)
    digest = sha256_hex(data)
    storage = ConsentForm._meta.get_field("pdf").storage
    name = storage.save(f"signed/{consent.pk}.pdf", ContentFile(data))
    now = now or timezone.now()
    with transaction.atomic():
        won = ConsentForm.objects.filter(pk=consent.pk, pdf_sha256="").update(pdf=name, pdf_sha256=digest,
                                                                                pdf_rendered_at=now)
        if won:
            consent.pdf, consent.pdf_sha256, consent.pdf_rendered_at = name, digest, now
            record_event(consent, actor=None, actor_label="system", reason="Signed PDF issued",
                         data={"pdf_sha256": digest}, audit=False)
            record("update", consent, detail={"pdf": "issued", "pdf_sha256": digest})
    if not won:
        storage.delete(name)
        consent.refresh_from_db()
    return consent


def _queue_render(consent_id):
    # Imported here: tasks.py imports the services package.
    from apps.consents import tasks

    try:
        tasks.render_pdf.delay(consent_id)
    except Exception:  # broker down: the download views and the periodic sweep render it
        log.warning("could not queue the PDF of consent %s", consent_id, exc_info=True)


def queue_pdf_after_commit(consent):
    """Queue the PDF's rendering once the signature is committed (never inside the signing
    transaction: rendering takes a while, and a failed rendering must not undo a signature)."""
    consent_id = str(consent.pk)
    transaction.on_commit(lambda: _queue_render(consent_id), robust=True)


def consent_pdf_bytes(*, consent):
    """(consent, the bytes of its stored PDF) for a signed consent, rendered now when it was
    not yet (the task after signing may not have run). OutOfOrder (409 consent_not_signed)
    before signing."""
    if consent.status not in SIGNED_STATUSES:
        raise OutOfOrder("A consent has a PDF once it is signed.", code="consent_not_signed",
                         extra={"consent_status": consent.status})
    if not consent.pdf_sha256:
        consent = consent_pdf_render(consent_id=consent.pk)
    with consent.pdf.open("rb") as handle:
        return consent, handle.read()


def consents_render_missing_pdfs(*, limit=200):
    """The periodic sweep: render the PDFs of signed consents that have none (the task queued
    after signing was lost, the broker was down). Returns how many were rendered."""
    ids = list(ConsentForm.objects.filter(status__in=SIGNED_STATUSES, pdf_sha256="").values_list("pk", flat=True)[:limit])
    done = 0
    for consent_id in ids:
        try:
            if consent_pdf_render(consent_id=consent_id) is not None:
                done += 1
        except Exception:  # one bad row must not stop the sweep; it is retried next run
            log.exception("consent %s: the PDF could not be rendered", consent_id)
    return done


@dataclass
class UploadCheck:
    """The verdict on an uploaded file: `issued` (it is byte for byte the PDF we issued for
    `consent`), `code` (pdf_matches, pdf_altered, pdf_other_consent, pdf_unknown, not_a_pdf,
    pdf_not_issued) and a message for the page. `consent_valid`: the consent itself verifies."""

    issued: bool
    code: str
    message: str
    sha256: str
    consent: object = None
    verification: object = None


def _read_upload(upload):
    if upload is None:
        raise ValidationFailed({"pdf": ["Choose the PDF file to check."]})
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationFailed({"pdf": [f"At most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: a consent PDF is much smaller."]})
    return b"".join(upload.chunks())


def consent_pdf_check_upload(*, upload, consent=None, purpose="staff_pdf_check", now=None):
    """Whether an uploaded file is the PDF we issued: its SHA-256 against the stored PDF hash of
    `consent` (or, without one, of any consent). A file that differs by one byte is reported as
    altered (or as not ours). When it matches, the consent itself is checked too
    (consent_check: still signed, unexpired, intact). Writes an audit entry for the consent
    concerned. Raises ValidationFailed for a missing or oversized file."""
    data = _read_upload(upload)
    digest = sha256_hex(data)
    if not data.startswith(b"%PDF-"):
        result = UploadCheck(False, "not_a_pdf", "This file is not a PDF.", digest, consent)
    elif consent is not None and not consent.pdf_sha256:
        result = UploadCheck(False, "pdf_not_issued", "No PDF has been issued for this consent yet.", digest, consent)
    elif consent is not None and consent.pdf_sha256 == digest:
        result = UploadCheck(True, "pdf_matches", "This file is exactly the PDF we issued for this consent.", digest, consent)
    else:
        owner = ConsentForm.objects.select_related("template", "patient").filter(pdf_sha256=digest).first()
        if owner is not None and consent is None:
            result = UploadCheck(True, "pdf_matches", "This file is exactly the PDF we issued for this consent.", digest, owner)
        elif owner is not None:
            result = UploadCheck(False, "pdf_other_consent", "This file is the PDF of another consent, not of this one.",
                                 digest, consent)
        elif consent is not None:
            result = UploadCheck(False, "pdf_altered", "Tampering: this file is not the PDF we issued for this consent. "
                                 "It has been altered or replaced; rely only on the stored record.", digest, consent)
        else:
            result = UploadCheck(False, "pdf_unknown", "This file is not a PDF we issued: it has been altered, or it "
                                 "comes from elsewhere.", digest, None)
    if result.issued:
        result.verification = consent_check(ConsentForm.objects.select_related("template").get(pk=result.consent.pk), now=now)
    if result.consent is not None:
        record("read", result.consent, detail={"pdf_check": result.code, "purpose": purpose, "uploaded_sha256": digest,
                                               **({"verification": result.verification.code} if result.verification else {})})
    return result
