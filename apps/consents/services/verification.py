"""The one check of a consent that something relies on: signed, not expired, not revoked, and
intact (the stored document's SHA-256 is the stored hash, the drawn signature's digest is the
stored one, and the document rebuilt from the row's fields is the stored document). Everything
that relies on a consent calls consent_verify (creating and starting a surgical case now; the
telehealth gate later). A failure is audited and raises ConsentNotValid (409) with a stable code:
consent_not_signed, consent_declined, consent_revoked, consent_expired, consent_tampered."""
from dataclasses import dataclass, field

from django.utils import timezone

from apps.audit.services import record
from apps.consents.documents import build_document, sha256_hex, signature_digest
from apps.consents.exceptions import ConsentNotValid
from apps.consents.models import ConsentForm
from apps.core.lookups import get_or_not_found

C = ConsentForm.Status
_STATUS_PROBLEMS = {
    C.PENDING: ("consent_not_signed", "The consent has not been signed yet."),
    C.DECLINED: ("consent_declined", "The patient declined this consent."),
    C.REVOKED: ("consent_revoked", "The consent was revoked."),
    C.EXPIRED: ("consent_expired", "The consent has expired."),
}


@dataclass
class Verification:
    consent_id: str
    valid: bool
    code: str
    message: str
    status: str
    document_sha256: str
    checked_at: object
    problems: list = field(default_factory=list)


def consent_check(consent, *, now=None):
    """The verdict on `consent` as given (read it fresh from the database to check what is
    stored: consent_verify does). No writes."""
    now = now or timezone.now()
    problems = []
    if consent.status in (C.SIGNED, C.EXPIRED, C.REVOKED):
        if not consent.document or sha256_hex(consent.document) != consent.document_sha256:
            problems.append("the stored document does not match its hash")
        if consent.signature_kind == ConsentForm.SignatureKind.DRAWN and signature_digest(consent) != consent.signature_sha256:
            problems.append("the signature image does not match its digest")
        if consent.document and build_document(consent) != consent.document:
            problems.append("a stored field differs from the signed document")
    if problems:
        code, message = "consent_tampered", "The consent's stored record does not match what was signed: it cannot be relied on."
    elif consent.status in _STATUS_PROBLEMS:
        code, message = _STATUS_PROBLEMS[consent.status]
    elif consent.is_expired(now):
        code, message = "consent_expired", "The consent has expired."
    else:
        code, message = "consent_valid", "The consent is signed, in force and intact."
    return Verification(consent_id=str(consent.pk), valid=code == "consent_valid", code=code, message=message,
                        status=consent.status, document_sha256=consent.document_sha256, checked_at=now, problems=problems)


def consent_verify(*, consent, purpose, now=None, raise_error=True):
    """Re-read `consent` from the database and check it (consent_check). Writes an audit entry
    either way ({"verification": "passed" | "failed", "code", "purpose"}). Call it outside the
    dependent action's transaction, so the entry of a failure is kept when that action is
    refused. Raises ConsentNotValid (409, the failure's code) unless raise_error is False;
    returns the Verification."""
    fresh = get_or_not_found(ConsentForm.objects.select_related("template"), pk=consent.pk)
    result = consent_check(fresh, now=now)
    record("read", fresh, detail={"verification": "passed" if result.valid else "failed", "code": result.code,
                                  "purpose": purpose, **({"problems": result.problems} if result.problems else {})})
    if not result.valid and raise_error:
        raise ConsentNotValid(result.message, code=result.code, extra={"consent_id": result.consent_id,
                                                                       "consent_status": result.status})
    return result
