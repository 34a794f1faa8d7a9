"""The two gates before a video visit starts.

Consent: the patient holds a valid, hash-verified TELEHEALTH_GENERAL consent; a STATE_SPECIFIC
one for the state they are in when TELEHEALTH_STATE_CONSENT_STATES names it; and RECORDING when
the visit will be recorded. The verdict comes from consents' own verification
(consent_check for display, consent_verify, audited, at the gate).

Licensure: the session's provider is licensed in the patient's current state (the provider's
licensed_states, kept by scheduling). Unlike booking, an empty list is not a pass: nobody
starts a video visit across a state line we cannot vouch for."""
from dataclasses import dataclass

from django.conf import settings

from apps.consents.models import ConsentForm, ConsentKind, ConsentTemplate
from apps.consents.services import consent_check, consent_verify
from apps.telehealth.exceptions import ConsentRequired, ProviderNotLicensed, StateRequired


@dataclass(frozen=True)
class Requirement:
    kind: str
    jurisdiction: str = ""

    @property
    def label(self):
        return ConsentKind(self.kind).label + (f" ({self.jurisdiction})" if self.jurisdiction else "")


def requirements(session, state):
    needed = [Requirement(ConsentKind.TELEHEALTH_GENERAL)]
    state = (state or "").upper()
    if state and state in {s.strip().upper() for s in settings.TELEHEALTH_STATE_CONSENT_STATES}:
        needed.append(Requirement(ConsentKind.STATE_SPECIFIC, state))
    if session.recording_planned:
        needed.append(Requirement(ConsentKind.RECORDING))
    return needed


def _candidates(patient, requirement):
    rows = ConsentForm.objects.filter(patient=patient, kind=requirement.kind).select_related("template")
    if requirement.jurisdiction:
        rows = rows.filter(template__jurisdiction=requirement.jurisdiction)
    return rows


def best_consent(patient, requirement):
    """The consent that answers `requirement`: the latest signed one, else the latest pending
    one (to sign), else the latest of any status (to say why it does not count)."""
    rows = _candidates(patient, requirement)
    return (rows.filter(status=ConsentForm.Status.SIGNED).order_by("-signed_at").first()
            or rows.filter(status=ConsentForm.Status.PENDING).order_by("-sent_at").first()
            or rows.order_by("-sent_at").first())


def consent_status(session, state, *, now=None):
    """[{"kind", "jurisdiction", "label", "code", "valid", "consent_id", "pending"}] for each
    requirement, without writing anything (for the pages and the queue)."""
    out = []
    for requirement in requirements(session, state):
        consent = best_consent(session.patient, requirement)
        verdict = consent_check(consent, now=now) if consent is not None else None
        out.append({
            "kind": requirement.kind, "jurisdiction": requirement.jurisdiction, "label": requirement.label,
            "code": verdict.code if verdict else "consent_missing", "valid": bool(verdict and verdict.valid),
            "consent_id": str(consent.pk) if consent else None,
            "pending": bool(consent and consent.status == ConsentForm.Status.PENDING),
        })
    return out


def consent_gate(session, state, *, now=None):
    """Raise ConsentRequired (409 telehealth_consent_required) unless every requirement is met.
    Each consent found is verified by consents (audited, so call it outside the admitting
    transaction: the entry of a failure is kept)."""
    problems = []
    for requirement in requirements(session, state):
        consent = best_consent(session.patient, requirement)
        if consent is None:
            problems.append({"kind": requirement.kind, "jurisdiction": requirement.jurisdiction, "code": "consent_missing"})
            continue
        result = consent_verify(consent=consent, purpose="telehealth_gate", now=now, raise_error=False)
        if not result.valid:
            problems.append({"kind": requirement.kind, "jurisdiction": requirement.jurisdiction, "code": result.code,
                             "consent_id": result.consent_id})
    if problems:
        labels = ", ".join(Requirement(p["kind"], p["jurisdiction"]).label for p in problems)
        raise ConsentRequired(f"These consents are missing or cannot be relied on: {labels}.",
                              extra={"problems": problems})


def template_for(requirement):
    """The newest published template that answers `requirement`, or None."""
    rows = ConsentTemplate.objects.filter(kind=requirement.kind, published_at__isnull=False)
    if requirement.jurisdiction:
        rows = rows.filter(jurisdiction=requirement.jurisdiction)
    return rows.order_by("-published_at", "-version").first()


def is_licensed(provider, state):
    return bool(state) and state.upper() in {s.strip().upper() for s in (provider.licensed_states or [])}


def licensure_gate(session, state):
    """Raise StateRequired without a state, ProviderNotLicensed (409) when the session's
    provider is not licensed there."""
    if not state:
        raise StateRequired()
    if not is_licensed(session.provider, state):
        raise ProviderNotLicensed(
            f"{session.provider} is not licensed in {state.upper()}: another provider must take this visit.",
            extra={"state": state.upper(), "provider_id": str(session.provider_id),
                   "licensed_states": list(session.provider.licensed_states or [])},
        )


def recording_consent_gate(session, *, now=None):
    """The id of the patient's valid RECORDING consent, verified by consents (audited, so call
    it outside the recording's transaction); ConsentRequired (409) when there is none or it
    cannot be relied on (expired, revoked, its hash fails)."""
    requirement = Requirement(ConsentKind.RECORDING)
    consent = best_consent(session.patient, requirement)
    if consent is None:
        raise ConsentRequired("The patient has not consented to recording: this visit cannot be recorded.",
                              extra={"problems": [{"kind": requirement.kind, "jurisdiction": "", "code": "consent_missing"}]})
    result = consent_verify(consent=consent, purpose="telehealth_recording", now=now, raise_error=False)
    if not result.valid:
        raise ConsentRequired("The patient's recording consent cannot be relied on: this visit cannot be recorded.",
                              extra={"problems": [{"kind": requirement.kind, "jurisdiction": "", "code": result.code,
                                                   "consent_id": result.consent_id}]})
    return consent.pk
