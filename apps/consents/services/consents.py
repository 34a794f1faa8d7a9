"""Consent templates (publish, new version) and consents: create and send (a PROCEDURE consent
needs the approved plan and its completed consultation), save progress, sign, decline, revoke,
expire (a daily job), remind. Verification lives in verification.py."""
import datetime
import re

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from apps.audit.services import record
from apps.consents.content import validate_content, wrong_answers
from apps.consents.documents import build_document, plan_snapshot, sha256_hex, signer_snapshot
from apps.consents.exceptions import OutOfOrder, SigningIncomplete, StepUpRequired, TemplatePublished
from apps.consents.models import ConsentForm, ConsentKind, ConsentTemplate, ProcedurePlan
from apps.consents.services._common import (
    consent_link, move, notify_care_team, notify_patient, staff_consent_link, user_actor,
)
from apps.consents.services.pdf import queue_pdf_after_commit
from apps.consents.services.plans import ensure_completed_consultation
from apps.consents.signature import validate_png
from apps.consents.stepup import is_fresh
from apps.core.exceptions import DomainError, ValidationFailed
from apps.core.transitions import lock, record_event
from apps.scheduling.models import Visit

C = ConsentForm.Status
P = ProcedurePlan.Status
# A procedure consent may be sent for a plan the surgeon approved, until its surgery is done
# (again after a consent was declined, revoked or expired).
CONSENTABLE_PLAN_STATUSES = (P.APPROVED, P.CONSENT_PENDING, P.CONSENT_SIGNED, P.SCHEDULED)
REMIND_AFTER = datetime.timedelta(hours=48)
# The reminder before the plan's planned surgery date starts this many days before it.
REMIND_BEFORE_DAYS = 3
MAX_TYPED = 200


# --- templates --------------------------------------------------------------------------------

@transaction.atomic
def consent_template_publish(*, template, actor=None, now=None):
    """Publish a draft template version: its content is checked (content.py) and from now on it
    never changes (model guard and database trigger)."""
    template = lock(ConsentTemplate, template.pk)
    if template.is_published:
        raise TemplatePublished(extra={"template_id": str(template.pk)})
    validate_content(template.sections, template.checks)
    template.published_at, template.published_by = now or timezone.now(), user_actor(actor)
    template.save(update_fields=["published_at", "published_by"])
    return template


@transaction.atomic
def consent_template_new_version(*, template, actor=None):
    """A new draft version of the template's family, copied from `template` (the next version
    number of its key)."""
    latest = ConsentTemplate.objects.select_for_update().filter(key=template.key).aggregate(v=Max("version"))["v"] or 0
    return ConsentTemplate.objects.create(
        key=template.key, version=latest + 1, kind=template.kind, jurisdiction=template.jurisdiction,
        title=template.title, summary=template.summary, sections=template.sections, checks=template.checks,
        validity_days=template.validity_days,
    )


# --- create and send ----------------------------------------------------------------------------

class JurisdictionMismatch(DomainError):
    default_code = "jurisdiction_mismatch"
    default_message = "This consent is for another state than the patient's."


def _ensure_consentable_plan(plan, patient):
    if plan.patient_id != patient.pk:
        raise OutOfOrder("That plan belongs to another patient.", code="plan_other_patient")
    if plan.status in (P.DRAFT, P.PENDING_APPROVAL):
        raise OutOfOrder("The procedure plan has not been approved by the surgeon yet.", code="plan_not_approved",
                         extra={"plan_id": str(plan.pk), "plan_status": plan.status})
    if plan.status == P.CANCELLED:
        raise OutOfOrder("The procedure plan was cancelled.", code="plan_cancelled", extra={"plan_id": str(plan.pk)})
    if plan.status == P.COMPLETED:
        raise OutOfOrder("The procedure is already done.", code="plan_completed", extra={"plan_id": str(plan.pk)})


@transaction.atomic
def consent_create(*, patient, template, plan=None, actor=None, now=None):
    """Create a consent from a published template and send it to the patient to sign.

    A PROCEDURE consent requires `plan`: approved by its surgeon (plan_not_approved otherwise),
    of this patient, after its COMPLETED consultation (consultation_not_completed), with no
    other consent of the plan still pending or signed (consent_already_active). It moves the
    plan APPROVED -> CONSENT_PENDING. Triggers: the consent's first event row, the "create" audit
    entry, the patient's notice (in-app; SMS/email through the outbox, without PHI)."""
    now = now or timezone.now()
    template = ConsentTemplate.objects.get(pk=template.pk)
    if not template.is_published:
        raise OutOfOrder("Only a published consent template can be sent.", code="template_not_published")
    state = (patient.state or "").strip().upper()
    if template.jurisdiction and len(state) == 2 and state != template.jurisdiction:
        raise JurisdictionMismatch(extra={"template_jurisdiction": template.jurisdiction, "patient_state": state})
    consultation, snapshot = None, {}
    if template.kind == ConsentKind.PROCEDURE:
        if plan is None:
            raise OutOfOrder("A procedure consent needs the approved procedure plan.", code="plan_required")
        plan = lock(ProcedurePlan, plan.pk, related=("surgeon__user",))
        _ensure_consentable_plan(plan, patient)
        consultation = Visit.objects.get(pk=plan.consultation_id)
        ensure_completed_consultation(consultation, patient)
        active = ConsentForm.objects.select_for_update().filter(plan=plan, kind=ConsentKind.PROCEDURE, status__in=ConsentForm.ACTIVE_STATUSES)
        for existing in active:
            if existing.status == C.SIGNED and existing.is_expired(now):
                move(existing, C.EXPIRED, actor_label="system", reason="Validity period ended", expired_at=now)
            else:
                raise OutOfOrder("This plan already has a consent that is pending or signed.", code="consent_already_active",
                                 extra={"consent_id": str(existing.pk), "consent_status": existing.status})
        snapshot = plan_snapshot(plan)
    elif plan is not None:
        raise ValidationFailed({"plan": ["Only a procedure consent names a plan."]})
    consent = ConsentForm.objects.create(
        template=template, kind=template.kind, patient=patient, plan=plan, consultation=consultation,
        plan_snapshot=snapshot, sent_at=now, sent_by=user_actor(actor),
    )
    record_event(consent, actor=actor, reason="Sent to the patient to sign", from_status="", audit=False)
    record("create", consent)
    if plan is not None and plan.status == P.APPROVED:
        move(plan, P.CONSENT_PENDING, actor=actor, reason="Consent sent to the patient", data={"consent_id": str(consent.pk)})
    notify_patient(patient, kind="consent_to_sign", title="A form is waiting for your signature", body=template.title,
                   link=consent_link(consent), outbox_key=f"consent:{consent.pk}:sent")
    return consent


# --- progress -----------------------------------------------------------------------------------

def clean_progress(template, acknowledged, answers):
    """(acknowledged keys, answers) limited to what the template asks; ValidationFailed for
    a key it does not have or a choice it does not offer."""
    acknowledged = list(dict.fromkeys(acknowledged or []))
    answers = dict(answers or {})
    clause_keys = set(template.clause_keys())
    checks = {c["key"]: c for c in template.checks}
    errors = {}
    unknown = [k for k in acknowledged if k not in clause_keys]
    if unknown:
        errors["acknowledged"] = ["Unknown clause: " + ", ".join(map(str, unknown[:5]))]
    bad = [k for k, v in answers.items() if k not in checks or (v not in ("", None) and v not in checks[k]["choices"])]
    if bad:
        errors["answers"] = ["Not an answer to this form's questions: " + ", ".join(map(str, bad[:5]))]
    if errors:
        raise ValidationFailed(errors)
    return acknowledged, {k: v for k, v in answers.items() if v not in ("", None)}


def _ensure_pending(consent):
    if consent.status != C.PENDING:
        raise OutOfOrder(f"This consent is {consent.get_status_display().lower()}: it can no longer be changed.",
                         code="consent_not_pending", extra={"consent_status": consent.status})


@transaction.atomic
def consent_save_progress(*, consent, actor=None, acknowledged, answers, now=None):
    """Keep what the patient has acknowledged and answered so far (resumable on any device).
    Returns (consent, wrong answers among those given: [{"key", "question", "explanation"}])."""
    consent = lock(ConsentForm, consent.pk, related=("template",))
    _ensure_pending(consent)
    acknowledged, answers = clean_progress(consent.template, acknowledged, answers)
    consent.progress = {"acknowledged": acknowledged, "answers": answers}
    consent.progress_saved_at = now or timezone.now()
    consent.save(update_fields=["progress", "progress_saved_at", "updated_at"])
    record("update", consent, detail={"progress": "saved"})
    wrong = [w for w in wrong_answers(consent.template, answers) if w["key"] in answers]
    return consent, wrong


# --- signing ------------------------------------------------------------------------------------

def _normal_name(value):
    return " ".join(re.sub(r"[^\w\s'-]", " ", value or "").casefold().split())


def name_matches(typed, patient):
    """The typed name is the patient's legal name (first middle last, or first last), ignoring
    case, punctuation and spacing."""
    typed = _normal_name(typed)
    return bool(typed) and typed in {_normal_name(patient.legal_name), _normal_name(f"{patient.first_name} {patient.last_name}")}


def _client_ip(ip):
    if not ip:
        return None
    return clean_ipv6_address(ip) if ":" in ip else ip


@transaction.atomic
def consent_sign(*, consent, actor, acknowledged, answers, typed_name, signature_png=None, typed_signature="",
                 stepped_up_at=None, ip=None, user_agent="", now=None):
    """PENDING -> SIGNED, by the patient. Requires: a step-up (password or authenticator code)
    within the last 5 minutes (StepUpRequired 403); every clause acknowledged; every
    understanding check answered correctly (the wrong ones come back with their explanation);
    the typed name is the patient's legal name; a drawn signature that is a real PNG of a
    sensible size, or a typed signature (SigningIncomplete 400 with a code per rule). A
    PROCEDURE consent's plan must still be open (plan_cancelled...). Builds the canonical
    document (documents.py), stores it with its SHA-256 and the expiry (validity days), and
    moves the plan CONSENT_PENDING -> CONSENT_SIGNED. Triggers, after commit, the PDF's
    rendering (services/pdf.py)."""
    now = now or timezone.now()
    # The plan first, then the consent: every service locks in that order (no deadlock with a
    # surgical case being created for the same plan).
    plan_id = ConsentForm.objects.filter(pk=consent.pk).values_list("plan_id", flat=True).first()
    plan = lock(ProcedurePlan, plan_id) if plan_id else None
    consent = lock(ConsentForm, consent.pk, related=("template", "patient"))
    _ensure_pending(consent)
    if plan is not None:
        _ensure_consentable_plan(plan, consent.patient)
    if not is_fresh(stepped_up_at, now):
        raise StepUpRequired()
    template, patient = consent.template, consent.patient
    acknowledged, answers = clean_progress(template, acknowledged, answers)
    missing = [k for k in template.clause_keys() if k not in set(acknowledged)]
    if missing:
        raise SigningIncomplete("Please read and acknowledge every section before signing.",
                                code="clauses_not_acknowledged", extra={"missing": missing})
    wrong = wrong_answers(template, answers)
    if wrong:
        raise SigningIncomplete("Some answers are not right yet. " + " ".join(w["explanation"] for w in wrong),
                                code="understanding_check_failed", extra={"checks": wrong})
    if not name_matches(typed_name, patient):
        raise SigningIncomplete("The name you typed must be your full legal name as we have it on file.",
                                code="name_mismatch")
    typed_signature = (typed_signature or "").strip()
    if signature_png:
        validate_png(signature_png)
        kind, image, digest, typed_signature = ConsentForm.SignatureKind.DRAWN, bytes(signature_png), sha256_hex(bytes(signature_png)), ""
    elif typed_signature:
        if len(typed_signature) > MAX_TYPED or "\x00" in typed_signature:
            raise SigningIncomplete(f"A typed signature is at most {MAX_TYPED} characters.", code="signature_invalid")
        kind, image, digest = ConsentForm.SignatureKind.TYPED, None, ""
    else:
        raise SigningIncomplete("Please draw your signature, or type it instead.", code="signature_required")

    consent.progress = {"acknowledged": acknowledged, "answers": answers}
    consent.signer_snapshot = signer_snapshot(patient)
    consent.signed_at = now
    consent.signed_ip = _client_ip(ip)
    consent.signed_user_agent = (user_agent or "")[:500]
    consent.typed_name = " ".join(typed_name.split())[:300]
    consent.signature_kind, consent.signature_image, consent.signature_sha256 = kind, image, digest
    consent.typed_signature = typed_signature
    consent.expires_at = now + datetime.timedelta(days=template.validity_days)
    consent.document = build_document(consent)
    consent.document_sha256 = sha256_hex(consent.document)
    move(consent, C.SIGNED, actor=actor, reason="Signed by the patient", data={"sha256": consent.document_sha256},
         progress=consent.progress, progress_saved_at=now, signer_snapshot=consent.signer_snapshot, signed_at=now,
         signed_ip=consent.signed_ip, signed_user_agent=consent.signed_user_agent, typed_name=consent.typed_name,
         signature_kind=kind, signature_image=image, signature_sha256=digest, typed_signature=typed_signature,
         expires_at=consent.expires_at, document=consent.document, document_sha256=consent.document_sha256)
    if plan is not None and plan.status == P.CONSENT_PENDING:
        move(plan, P.CONSENT_SIGNED, actor=actor, reason="Consent signed", data={"consent_id": str(consent.pk)})
    notify_patient(patient, kind="consent_signed", title="Thank you: your form is signed", link=consent_link(consent))
    queue_pdf_after_commit(consent)
    return consent


# --- decline, revoke, expire, remind --------------------------------------------------------------

def _surgeon_of(consent):
    return consent.plan.surgeon if consent.plan_id else None


@transaction.atomic
def consent_decline(*, consent, actor=None, reason="", now=None):
    """PENDING -> DECLINED (the patient does not consent). Staff are alerted in-app: the plan's
    surgeon and the CONSENT_ALERT_ROLES, with a link to the consent's staff page and no PHI."""
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationFailed({"reason": ["At most 2000 characters."]})
    consent = lock(ConsentForm, consent.pk, related=("plan__surgeon__user",))
    move(consent, C.DECLINED, actor=actor, reason=reason or "Declined", declined_at=now or timezone.now(),
         decline_reason=reason)
    notify_care_team(surgeon=_surgeon_of(consent), kind="consent_declined", title="A patient declined a consent",
                     link=staff_consent_link(consent))
    return consent


@transaction.atomic
def consent_revoke(*, consent, actor=None, reason, now=None):
    """SIGNED -> REVOKED, by the patient or staff, with a reason. Everything relying on it is
    refused from now on (verification). Staff are alerted in-app as for a decline."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["Give the reason for revoking the consent."]})
    if len(reason) > 2000:
        raise ValidationFailed({"reason": ["At most 2000 characters."]})
    consent = lock(ConsentForm, consent.pk, related=("plan__surgeon__user",))
    move(consent, C.REVOKED, actor=actor, reason=reason, revoked_at=now or timezone.now(), revoked_by=user_actor(actor),
         revoke_reason=reason)
    notify_care_team(surgeon=_surgeon_of(consent), kind="consent_revoked", title="A signed consent was revoked",
                     link=staff_consent_link(consent))
    return consent


def consents_expire(*, now=None):
    """SIGNED -> EXPIRED for consents past their validity period (the daily job). One short
    transaction per consent, re-checked under its lock: two workers never both move one, and a
    second run is a no-op. Returns how many moved."""
    now = now or timezone.now()
    moved = 0
    for consent_id in list(ConsentForm.objects.due_for_expiry(now).values_list("pk", flat=True)[:5000]):
        with transaction.atomic():
            consent = lock(ConsentForm, consent_id)
            if consent.status == C.SIGNED and consent.is_expired(now):
                move(consent, C.EXPIRED, actor_label="system", reason="Validity period ended", expired_at=now)
                moved += 1
    return moved


def _remind(consent_id, *, kind, title, outbox_key, context=None):
    consent = ConsentForm.objects.select_related("patient__user").get(pk=consent_id)
    notify_patient(consent.patient, kind=kind, title=title, link=consent_link(consent), outbox_key=outbox_key,
                   context=context)
    record("update", consent, detail={"reminder": kind})


def consents_remind_unsigned(*, now=None):
    """Reminders of consents still PENDING (SMS/email through the outbox, PHI-free, and in-app),
    at two reminder points, each at most once per consent:
    1. REMIND_AFTER after it was sent (claims `reminded_at`);
    2. before the plan's planned surgery date: from REMIND_BEFORE_DAYS days before it until the
       day before (claims `reminded_before_date` = the date reminded for, so a moved date is a
       new reminder point, and the same date never a second one).
    A consent due at both in one run gets only the one before the date (both are claimed).
    Each claim is a conditional UPDATE checked by its row count, in one short transaction per
    consent: whatever the number of workers or runs, one reminder per point. Returns how many
    reminders were queued."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    reminded = 0
    before_date = ConsentForm.objects.filter(
        status=C.PENDING, kind=ConsentKind.PROCEDURE, plan__planned_date__gt=today,
        plan__planned_date__lte=today + datetime.timedelta(days=REMIND_BEFORE_DAYS),
    ).values_list("pk", "plan__planned_date", "reminded_before_date")
    for consent_id, planned, done_for in list(before_date[:5000]):
        if done_for == planned:
            continue
        with transaction.atomic():
            claimed = (ConsentForm.objects.filter(pk=consent_id, status=C.PENDING, plan__planned_date=planned)
                       .exclude(reminded_before_date=planned).update(reminded_before_date=planned))
            if not claimed:
                continue
            # The point after sending, if still open, is covered by this one.
            ConsentForm.objects.filter(pk=consent_id, reminded_at__isnull=True).update(reminded_at=now)
            _remind(consent_id, kind="consent_reminder_before_date",
                    title=f"Please sign your form before {planned:%a %d %b}",
                    outbox_key=f"consent:{consent_id}:reminder:before:{planned.isoformat()}",
                    context={"deadline": f"{planned:%a %d %b %Y}"})
            reminded += 1
    due = ConsentForm.objects.filter(status=C.PENDING, reminded_at__isnull=True, sent_at__lte=now - REMIND_AFTER)
    for consent_id in list(due.values_list("pk", flat=True)[:5000]):
        with transaction.atomic():
            if not ConsentForm.objects.filter(pk=consent_id, status=C.PENDING, reminded_at__isnull=True).update(reminded_at=now):
                continue
            _remind(consent_id, kind="consent_reminder", title="A form still needs your signature",
                    outbox_key=f"consent:{consent_id}:reminder")
            reminded += 1
    return reminded
