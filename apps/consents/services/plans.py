"""Procedure plans: created from a COMPLETED consultation of the same patient, edited while
DRAFT, submitted, approved by their own surgeon (verified second factor), cancelled, or replaced
by a new version. Every move through core's transition helper with the row locked."""
from decimal import Decimal, InvalidOperation

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit.services import record
from apps.consents import hooks
from apps.consents.exceptions import NotPlanSurgeon, OutOfOrder, PlanFrozen, SecondFactorRequired
from apps.consents.models import (
    ConsultationVisitType, PreOpItem, PreOpRequirement, ProcedureLine, ProcedurePlan, SurgicalCase,
    validate_procedure_code,
)
from apps.consents.services._common import move, notify_patient, plan_link, user_actor
from apps.core import validation
from apps.core.exceptions import ValidationFailed
from apps.core.transitions import lock, record_event
from apps.messaging.services import notify
from apps.scheduling.models import Visit

P = ProcedurePlan.Status
MAX_LINES = 30
MAX_FEE = Decimal("9999999.99")
SIDES = set(ProcedureLine.Side.values)
# How far ahead a planned surgery date may be set.
PLANNED_DATE_HORIZON_DAYS = 730
# The planned date may change until the theatre is booked (then the booking is the date).
PLANNED_DATE_STATUSES = (P.DRAFT, P.PENDING_APPROVAL, P.APPROVED, P.CONSENT_PENDING, P.CONSENT_SIGNED)
UNCHANGED = object()


# --- the consultation a plan follows ----------------------------------------------------------

def is_consultation(visit):
    return ConsultationVisitType.objects.filter(visit_type_id=visit.visit_type_id).exists()


def ensure_completed_consultation(visit, patient):
    """The chronology's steps 2-3: `visit` is a consultation of `patient`, COMPLETED."""
    if visit.patient_id != patient.pk:
        raise OutOfOrder("That consultation belongs to another patient.", code="consultation_other_patient",
                         extra={"consultation_id": str(visit.pk)})
    if not is_consultation(visit):
        raise OutOfOrder("That visit is not a consultation.", code="not_a_consultation",
                         extra={"consultation_id": str(visit.pk)})
    if visit.status != Visit.Status.COMPLETED:
        raise OutOfOrder("The consultation has not been completed yet.", code="consultation_not_completed",
                         extra={"consultation_id": str(visit.pk), "consultation_status": visit.status})


# --- lines ------------------------------------------------------------------------------------

def clean_lines(lines):
    """[ProcedureLine kwargs] from input dicts, or ValidationFailed naming each bad line."""
    if not isinstance(lines, (list, tuple)) or not lines:
        raise ValidationFailed({"lines": ["Add at least one procedure line."]})
    if len(lines) > MAX_LINES:
        raise ValidationFailed({"lines": [f"At most {MAX_LINES} procedure lines."]})
    cleaned, errors = [], []
    for number, line in enumerate(lines, 1):
        line = line if isinstance(line, dict) else {}
        code = str(line.get("code", "")).strip().upper()
        description = str(line.get("description", "")).strip()
        site = str(line.get("site", "") or "").strip()
        side = str(line.get("side", "") or ProcedureLine.Side.NOT_APPLICABLE).strip().upper()
        problems = []
        try:
            validate_procedure_code(code)
        except ValidationError:
            problems.append("a CPT or HCPCS code (e.g. 15823 or L8699)")
        if not description or len(description) > 300:
            problems.append("a description (up to 300 characters)")
        if len(site) > 120:
            problems.append("a site of up to 120 characters")
        if side not in SIDES:
            problems.append("a side (NA, LEFT, RIGHT or BILATERAL)")
        try:
            fee = Decimal(str(line.get("estimated_fee", "")))
            if not fee.is_finite() or fee < 0 or fee > MAX_FEE or fee != fee.quantize(Decimal("0.01")):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            problems.append("an estimated fee in dollars and cents, 0 or more")
            fee = None
        if problems:
            errors.append(f"Line {number} needs " + ", ".join(problems) + ".")
        else:
            cleaned.append({"position": number, "code": code, "description": description, "site": site, "side": side,
                            "estimated_fee": fee.quantize(Decimal("0.01"))})
    if errors:
        raise ValidationFailed({"lines": errors})
    return cleaned


def _write_lines(plan, cleaned):
    plan.lines.all().delete()
    ProcedureLine.objects.bulk_create([ProcedureLine(plan=plan, **line) for line in cleaned])
    return sum((line["estimated_fee"] for line in cleaned), Decimal("0.00"))


def clean_planned_date(value, *, today=None):
    """A planned surgery date: None, or a date from today (the clinic's) to
    PLANNED_DATE_HORIZON_DAYS ahead (ValidationFailed naming planned_date otherwise)."""
    if value is None:
        return None
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ValidationFailed({"planned_date": ["A date (YYYY-MM-DD)."]})
    try:
        return validation.check_upcoming_date(value, days=PLANNED_DATE_HORIZON_DAYS, noun="planned date", today=today)
    except ValidationError as exc:
        raise ValidationFailed({"planned_date": exc.messages})


def _check_notes(notes):
    if len(notes) > 4000:
        raise ValidationFailed({"notes": ["At most 4000 characters."]})
    return notes


# --- create and edit --------------------------------------------------------------------------

@transaction.atomic
def procedure_plan_create(*, patient, consultation, surgeon, lines, notes="", planned_date=None, actor=None):
    """A DRAFT plan for `patient` after `consultation`, a COMPLETED consultation visit of the
    same patient (OutOfOrder 409 otherwise: consultation_not_completed, not_a_consultation,
    consultation_other_patient). The surgeon is an active provider; `planned_date`, the surgery
    date aimed at, is optional (clean_planned_date). Triggers: its first event row and the
    "create" audit entry."""
    consultation = lock(Visit, consultation.pk)
    ensure_completed_consultation(consultation, patient)
    if not surgeon.is_active:
        raise ValidationFailed({"surgeon": ["This provider is not active."]})
    cleaned = clean_lines(lines)
    notes = _check_notes((notes or "").strip())
    planned_date = clean_planned_date(planned_date)
    plan = ProcedurePlan.objects.create(patient=patient, consultation=consultation, surgeon=surgeon, notes=notes,
                                        planned_date=planned_date, created_by=user_actor(actor))
    plan.quote_total = _write_lines(plan, cleaned)
    plan.save(update_fields=["quote_total", "updated_at"])
    record_event(plan, actor=actor, reason="Plan drafted", from_status="", audit=False)
    record("create", plan)
    return plan


@transaction.atomic
def procedure_plan_update(*, plan, actor=None, lines=None, notes=None, surgeon=None, planned_date=UNCHANGED):
    """Change a DRAFT plan's lines, notes or surgeon (PlanFrozen 409 once it is out of DRAFT:
    a change then needs a new version). Recomputes the quote. The planned surgery date alone
    may change until the theatre is booked (procedure_plan_set_planned_date). Triggers an
    event row and the "update" audit entry."""
    if lines is None and notes is None and surgeon is None and planned_date is not UNCHANGED:
        return procedure_plan_set_planned_date(plan=plan, planned_date=planned_date, actor=actor)
    plan = lock(ProcedurePlan, plan.pk)
    if plan.status != P.DRAFT:
        raise PlanFrozen(extra={"plan_id": str(plan.pk), "status": plan.status})
    fields = []
    if planned_date is not UNCHANGED and planned_date != plan.planned_date:
        plan.planned_date = clean_planned_date(planned_date)
        fields.append("planned_date")
    if lines is not None:
        plan.quote_total = _write_lines(plan, clean_lines(lines))
        fields.append("quote_total")
    if notes is not None:
        plan.notes = _check_notes(notes.strip())
        fields.append("notes")
    if surgeon is not None and surgeon.pk != plan.surgeon_id:
        if not surgeon.is_active:
            raise ValidationFailed({"surgeon": ["This provider is not active."]})
        plan.surgeon = surgeon
        fields.append("surgeon")
    if fields:
        plan.save(update_fields=[*fields, "updated_at"])
        record_event(plan, actor=actor, reason="Plan edited", data={"fields": fields})
    return plan


@transaction.atomic
def procedure_plan_set_planned_date(*, plan, planned_date, actor=None):
    """Set (or clear, with None) the surgery date a plan aims at, in any state until the theatre
    is booked (planned_date_locked 409 after: the booking is the date). Not clinical content, so
    an approved plan keeps its approval. A consent still unsigned is reminded before it
    (consents_remind_unsigned); a new date is a new reminder point. Triggers an event row."""
    plan = lock(ProcedurePlan, plan.pk)
    if plan.status not in PLANNED_DATE_STATUSES:
        raise OutOfOrder("The planned date can change until the theatre is booked.", code="planned_date_locked",
                         extra={"plan_id": str(plan.pk), "plan_status": plan.status})
    planned_date = clean_planned_date(planned_date)
    if planned_date != plan.planned_date:
        plan.planned_date = planned_date
        plan.save(update_fields=["planned_date", "updated_at"])
        record_event(plan, actor=actor, reason="Planned surgery date " + (f"set to {planned_date:%Y-%m-%d}" if planned_date else "cleared"),
                     data={"planned_date": planned_date.isoformat() if planned_date else None})
    return plan


# --- moves ------------------------------------------------------------------------------------

@transaction.atomic
def procedure_plan_submit(*, plan, actor=None, now=None):
    """DRAFT -> PENDING_APPROVAL. The surgeon is told (in-app)."""
    plan = lock(ProcedurePlan, plan.pk, related=("surgeon__user",))
    if plan.status == P.DRAFT and not plan.lines.exists():
        raise OutOfOrder("Add at least one procedure line before submitting.", code="plan_has_no_lines")
    move(plan, P.PENDING_APPROVAL, actor=actor, reason="Submitted for the surgeon's approval",
         submitted_at=now or timezone.now())
    # The surgeon's approval queue gained a plan (no patient name in the title: it shows in toasts).
    if plan.surgeon.user_id != getattr(user_actor(actor), "pk", None):
        notify(user=plan.surgeon.user, kind="plan_awaiting_approval", title="A procedure plan is waiting for your approval")
    return plan


@transaction.atomic
def procedure_plan_approve(*, plan, actor, now=None):
    """PENDING_APPROVAL -> APPROVED, by the plan's own surgeon with a verified second factor
    (NotPlanSurgeon / SecondFactorRequired, 403). Approval freezes the plan and derives its
    pre-op checklist (the clinic's active PreOpRequirements and what apps above add through
    hooks.preop_requirements). Triggers: the patient is told (in-app, SMS/email without PHI)."""
    now = now or timezone.now()
    plan = lock(ProcedurePlan, plan.pk, related=("surgeon__user", "patient"))
    if user_actor(actor) is None or plan.surgeon.user_id != actor.pk:
        raise NotPlanSurgeon(extra={"plan_id": str(plan.pk)})
    verified = getattr(actor, "is_verified", None)
    if not (callable(verified) and verified()):
        raise SecondFactorRequired(extra={"plan_id": str(plan.pk)})
    move(plan, P.APPROVED, actor=actor, reason="Approved by the surgeon", approved_at=now, approved_by=actor)
    _derive_checklist(plan)
    notify_patient(plan.patient, kind="plan_approved", title="Your treatment plan is ready", link=plan_link(plan),
                   outbox_key=f"plan:{plan.pk}:approved")
    return plan


def _derive_checklist(plan):
    items = [
        PreOpItem(plan=plan, code=r.code, label=r.label, instructions=r.instructions, is_required=r.is_required,
                  source="clinic", order=r.order)
        for r in PreOpRequirement.objects.filter(is_active=True)
    ]
    codes = {item.code for item in items}
    for answer in hooks.preop_requirements.all(plan=plan):
        for extra in answer or []:
            if extra["code"] in codes:
                continue
            codes.add(extra["code"])
            items.append(_hook_item(plan, extra))
    PreOpItem.objects.bulk_create(items)


def _hook_item(plan, extra):
    """A checklist item from an app's requirement dict (hooks.preop_requirements): already done
    when the app says so (a deposit paid before the approval)."""
    return PreOpItem(plan=plan, code=extra["code"], label=extra["label"], instructions=extra.get("instructions", ""),
                     is_required=extra.get("required", True), source=extra.get("source", "hook"),
                     order=extra.get("order", 500), done_at=extra.get("done_at"), note=(extra.get("note") or "")[:300])


@transaction.atomic
def procedure_plan_cancel(*, plan, actor=None, reason, now=None):
    """Any state before COMPLETED -> CANCELLED, with a reason. Refused while the plan has a
    surgical case that is not cancelled (cancel the case first: case_active)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["Give the reason for cancelling the plan."]})
    plan = lock(ProcedurePlan, plan.pk)
    if SurgicalCase.objects.filter(plan=plan).active().exists():
        raise OutOfOrder("This plan has a surgical case: cancel the case first.", code="case_active")
    return move(plan, P.CANCELLED, actor=actor, reason=reason, cancelled_at=now or timezone.now(), cancel_reason=reason)


NEW_VERSION_FROM = (P.PENDING_APPROVAL, P.APPROVED, P.CONSENT_PENDING, P.CONSENT_SIGNED)


@transaction.atomic
def procedure_plan_new_version(*, plan, actor=None, reason, now=None):
    """A change to a plan that is no longer a draft: a new DRAFT version (version + 1, linked to
    this one, same patient, consultation, surgeon, lines and notes), and this version
    CANCELLED ("superseded"), kept as it was. Refused once the surgery is scheduled or done,
    or while a case exists. Returns the new plan."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["Say what needs to change."]})
    plan = lock(ProcedurePlan, plan.pk)
    if plan.status not in NEW_VERSION_FROM:
        code = "plan_frozen" if plan.status in (P.SCHEDULED, P.COMPLETED) else "invalid_transition"
        raise OutOfOrder(f"A new version cannot be made of a plan that is {plan.get_status_display().lower()}.",
                         code=code if plan.status != P.DRAFT else "plan_is_draft")
    if SurgicalCase.objects.filter(plan=plan).active().exists():
        raise OutOfOrder("This plan has a surgical case: cancel the case first.", code="case_active")
    new = ProcedurePlan.objects.create(
        patient_id=plan.patient_id, consultation_id=plan.consultation_id, surgeon_id=plan.surgeon_id, notes=plan.notes,
        version=plan.version + 1, previous_version=plan, quote_total=plan.quote_total, planned_date=plan.planned_date,
        created_by=user_actor(actor),
    )
    ProcedureLine.objects.bulk_create([
        ProcedureLine(plan=new, position=line.position, code=line.code, description=line.description, site=line.site,
                      side=line.side, estimated_fee=line.estimated_fee)
        for line in plan.lines.all()
    ])
    move(plan, P.CANCELLED, actor=actor, reason=f"Superseded by version {new.version}: {reason}",
         cancelled_at=now or timezone.now(), cancel_reason=f"Superseded by version {new.version}: {reason}")
    record_event(new, actor=actor, reason=f"New version of plan {plan.pk}: {reason}", from_status="", audit=False,
                 data={"previous_version": str(plan.pk)})
    record("create", new)
    return new


# --- the pre-op checklist ---------------------------------------------------------------------

PREOP_OPEN_STATUSES = (P.APPROVED, P.CONSENT_PENDING, P.CONSENT_SIGNED, P.SCHEDULED)
# Items the clinic's catalogue (or a hook that names no source) put on the checklist: staff tick them.
STAFF_SOURCES = ("clinic", "hook")


@transaction.atomic
def preop_item_add(*, plan, requirement, actor=None):
    """Add an app's requirement (a dict as hooks.preop_requirements answers) to an approved
    plan's checklist after its approval (billing: a deposit set later). Idempotent on the
    item's code (an existing item is returned unchanged). Refused once the case has started
    (case_started) or when the plan is not approved and open (plan_not_approved): before the
    approval the hook adds it. Triggers an event row on the plan."""
    plan = lock(ProcedurePlan, plan.pk)
    if plan.status not in PREOP_OPEN_STATUSES:
        raise OutOfOrder("Pre-op requirements are added once the plan is approved, until the surgery.",
                         code="plan_not_approved")
    started = (SurgicalCase.Status.IN_PROGRESS, SurgicalCase.Status.COMPLETED)
    if SurgicalCase.objects.filter(plan=plan, status__in=started).exists():
        raise OutOfOrder("The surgery has started: the pre-op checklist is closed.", code="case_started")
    existing = PreOpItem.objects.filter(plan=plan, code=requirement["code"]).first()
    if existing is not None:
        return existing
    item = _hook_item(plan, requirement)
    item.save()
    record_event(plan, actor=actor, reason=f"Pre-op: {item.label} added",
                 data={"preop_item": item.code, "source": item.source})
    return item


@transaction.atomic
def preop_item_complete(*, item, actor=None, note="", now=None, source=None):
    """Mark a pre-op checklist item done (once; a second call changes nothing). The plan must be
    approved and open. An item an app added (source other than the clinic's) is done only by
    that app, which passes its `source` (preop_item_managed otherwise: staff cannot tick a
    deposit as paid). Triggers an event row on the plan and its audit entry."""
    plan = lock(ProcedurePlan, item.plan_id)
    if plan.status not in PREOP_OPEN_STATUSES:
        raise OutOfOrder("Pre-op items are done once the plan is approved, until the surgery.", code="plan_not_approved")
    item = lock(PreOpItem, item.pk)
    if item.done_at is not None:
        return item
    if item.source not in STAFF_SOURCES and source != item.source:
        raise OutOfOrder(f"{item.label} is marked done by {item.source} itself, not by hand.", code="preop_item_managed",
                         extra={"preop_item": item.code, "source": item.source})
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationFailed({"note": ["At most 300 characters."]})
    item.done_at, item.done_by, item.note = now or timezone.now(), user_actor(actor), note
    item.save(update_fields=["done_at", "done_by", "note"])
    record_event(plan, actor=actor, reason=f"Pre-op: {item.label} done", data={"preop_item": item.code})
    return item
