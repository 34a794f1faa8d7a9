"""The chart staff keep (problems, allergies, medications) and the patients' refill requests.

Chart entries share three writes: create, update (the entry's own fields) and a status move
through core's transition() (resolving a problem dates it; stopping or completing a medication
ends it today). Refills: one REQUESTED row per medication, backed by a partial unique index, so
two requests racing for the same medication leave exactly one (the other gets 409
refill_already_open); the prescriber approves or denies with a note and the patient is told."""
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import record
from apps.core.transitions import lock
from apps.messaging.services import notify
from apps.records.exceptions import MedicationNotCurrent, RefillAlreadyOpen
from apps.records.models import Allergy, Medication, Problem, RefillRequest
from apps.records.services._common import move, notify_patient, user_actor, validated

# What each chart model lets staff set (the rest is kept by the services).
CHART_FIELDS = {
    Problem: ("code", "description", "onset_date", "note"),
    Allergy: ("substance", "substance_system", "substance_code", "reaction", "severity"),
    Medication: ("name", "rxnorm_code", "dose", "route", "frequency", "prescriber", "start_date", "end_date"),
}
R = RefillRequest.Status


def _fields(model, fields):
    unknown = set(fields) - set(CHART_FIELDS[model])
    if unknown:
        raise ValueError(f"{model.__name__}: not editable: {sorted(unknown)}")
    if model is Problem and "code" in fields:
        fields["code"] = str(fields["code"] or "").strip().upper()
    for name in ("substance_code", "rxnorm_code"):
        if name in fields:
            fields[name] = str(fields[name] or "").strip()
    return fields


def chart_entry_create(*, model, patient, actor, **fields):
    """A new Problem, Allergy or Medication for `patient` (ACTIVE), validated like every write
    (400 naming the field). Audited as a create."""
    entry = model(patient=patient, recorded_by=user_actor(actor), **_fields(model, fields))
    with transaction.atomic():
        validated(entry)
        entry.save()
        record("create", entry)
    return entry


def chart_entry_update(*, entry, actor, **fields):
    """Change a chart entry's own fields (CHART_FIELDS); the status moves through
    chart_entry_set_status. Audited with the names of the fields changed."""
    model = type(entry)
    fields = _fields(model, fields)
    with transaction.atomic():
        entry = lock(model, entry.pk)
        for name, value in fields.items():
            setattr(entry, name, value)
        validated(entry)
        entry.save(update_fields=[*fields, "updated_at"])
        record("update", entry, detail={"fields": sorted(fields)})
    return entry


def chart_entry_set_status(*, entry, actor, status, reason=""):
    """Move a chart entry to `status` as its TRANSITIONS table allows (409 invalid_transition
    otherwise). A resolved problem gets today's resolved_date (cleared when it comes back); a
    stopped or completed medication ends today unless it ended already; stopping one cancels
    its open refill request."""
    model = type(entry)
    with transaction.atomic():
        entry = lock(model, entry.pk)
        today = timezone.localdate()
        extra = {}
        if model is Problem:
            extra["resolved_date"] = today if status == Problem.Status.RESOLVED else None
        if model is Medication and status in (Medication.Status.STOPPED, Medication.Status.COMPLETED):
            extra["end_date"] = entry.end_date or max(today, entry.start_date)
        move(entry, status, actor=actor, reason=reason, **extra)
        if model is Medication and not entry.is_current:
            for refill in RefillRequest.objects.select_for_update().filter(medication=entry, status=R.REQUESTED):
                move(refill, R.CANCELLED, actor=actor, reason="The medication was stopped.")
    return entry


# --- refill requests -----------------------------------------------------------------------------

def refill_request_create(*, medication, actor, pharmacy, note=""):
    """The patient asks for a refill of a current medication (409 medication_not_current),
    naming a pharmacy. At most one REQUESTED per medication: the partial unique index decides
    between racing requests (409 refill_already_open for the loser, nothing written). Triggers:
    an in-app alert to the prescriber (the queue); the request waits in their queue."""
    refill = RefillRequest(medication=medication, patient_id=medication.patient_id,
                           prescriber_id=medication.prescriber_id, pharmacy=(pharmacy or "").strip(),
                           note=(note or "").strip())
    validated(refill)
    with transaction.atomic():
        if not medication.is_current:
            raise MedicationNotCurrent()
        try:
            # A savepoint: the refused INSERT leaves the caller's transaction usable.
            with transaction.atomic():
                refill.save(force_insert=True)
        except IntegrityError:
            raise RefillAlreadyOpen(extra={"medication_id": str(medication.pk)})
        record("create", refill)
        if medication.prescriber_id:
            notify(user=medication.prescriber.user, kind="refill_requested", title="A refill request is waiting",
                   link="/staff/records/refills/")
    return refill


def refill_request_decide(*, refill, actor, approve, note=""):
    """Approve or deny a REQUESTED refill with a note (-> APPROVED / DENIED; 409 once decided).
    Triggers: the patient is told (in-app, SMS/email through the outbox, once)."""
    with transaction.atomic():
        refill = lock(RefillRequest, refill.pk, related=("patient",))
        refill.decision_note = (note or "").strip()
        validated(refill)
        to = R.APPROVED if approve else R.DENIED
        move(refill, to, actor=actor, reason=refill.decision_note, decided_by=user_actor(actor),
             decided_at=timezone.now(), decision_note=refill.decision_note)
        notify_patient(refill.patient, kind="refill_decided", title="There is news about your refill request",
                       link="/portal/records/medications/", outbox_key=f"refill_decided:{refill.pk}")
    return refill


def refill_request_cancel(*, refill, actor):
    """The patient withdraws their REQUESTED refill (409 once decided)."""
    with transaction.atomic():
        refill = lock(RefillRequest, refill.pk)
        move(refill, R.CANCELLED, actor=actor, reason="Withdrawn by the patient")
    return refill
