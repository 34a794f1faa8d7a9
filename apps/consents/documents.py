"""The canonical document of a signed consent: exactly what was shown and answered, as one JSON
text with sorted keys and no insignificant whitespace, and its SHA-256.

It is built only from what the consent row stores (its template version, which never changes
once published; the plan snapshot taken when it was sent; the signer's name and date of birth
as they were at signing; the acknowledgements, answers, typed name, signature digest, time, IP
and user agent), so verification can rebuild it from the row and compare: a stored field
altered afterwards no longer matches the document, and a document altered afterwards no longer
matches its hash."""
import datetime
import hashlib
import json

from apps.consents.models import ConsentForm

FORMAT = "clinic-consent/1"


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode("utf-8")).hexdigest()


def plan_snapshot(plan):
    """What a procedure consent shows of its plan, taken when it is sent (fees as strings)."""
    return {
        "id": str(plan.pk),
        "version": plan.version,
        "surgeon": str(plan.surgeon),
        "consultation_id": str(plan.consultation_id),
        "lines": [
            {"code": line.code, "description": line.description, "site": line.site, "side": line.side,
             "estimated_fee": str(line.estimated_fee)}
            for line in plan.lines.all()
        ],
        "quote_total": str(plan.quote_total),
        "notes": plan.notes,
    }


def signer_snapshot(patient):
    return {"legal_name": patient.legal_name, "date_of_birth": patient.date_of_birth.isoformat(), "mrn": patient.mrn}


def _utc(value):
    return value.astimezone(datetime.timezone.utc).isoformat() if value else None


def build_document(consent):
    """The canonical document text of `consent` (a signed one, or one being signed: its signing
    fields set, including signer_snapshot)."""
    template = consent.template
    signer = consent.signer_snapshot or {}
    acknowledged = sorted(consent.progress.get("acknowledged", []))
    answers = dict(sorted(consent.progress.get("answers", {}).items()))
    document = {
        "format": FORMAT,
        "consent_id": str(consent.pk),
        "kind": consent.kind,
        "template": {
            "id": str(template.pk), "key": template.key, "version": template.version, "title": template.title,
            "kind": template.kind, "jurisdiction": template.jurisdiction, "summary": template.summary,
            "sections": template.sections,
            # What was asked (not the answer key): the patient's answers are below.
            "checks": [{"key": c["key"], "question": c["question"], "choices": c["choices"]} for c in template.checks],
            "validity_days": template.validity_days,
        },
        "plan": consent.plan_snapshot or None,
        "consultation_id": str(consent.consultation_id) if consent.consultation_id else None,
        "patient": {"id": str(consent.patient_id), **signer},
        "acknowledged": acknowledged,
        "answers": answers,
        "signature": {
            "kind": consent.signature_kind,
            "typed_name": consent.typed_name,
            "typed_signature": consent.typed_signature,
            "image_sha256": consent.signature_sha256,
        },
        "signed_at": _utc(consent.signed_at),
        "expires_at": _utc(consent.expires_at),
        "ip": consent.signed_ip,
        "user_agent": consent.signed_user_agent,
    }
    return canonical_json(document)


def signature_digest(consent):
    """SHA-256 of the stored drawn signature image ("" when typed)."""
    image = consent.signature_image
    if consent.signature_kind != ConsentForm.SignatureKind.DRAWN or image is None:
        return ""
    return sha256_hex(bytes(image))
