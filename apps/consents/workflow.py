"""The patient's workflow: the one selector that computes, for a patient and for each of their
procedure plans, the 14 stages of the chronology with their dates and states, the current stage,
the next step and what blocks it. The portal's timeline, the staff pages and the API
(`GET /api/v1/patients/{id}/workflow/`, in the shape of the seed's workflow-status example) all
render what workflow_for_patient returns.

Stage status: COMPLETED (with completedAt), IN_PROGRESS (the first stage not completed, when
the patient can act on it or staff are on it), BLOCKED (that stage, when something named in
`blockers` stops it) or PENDING (later stages). Stages 13 and 14 belong to billing: PENDING
until an app connects to hooks.workflow_billing."""
from dataclasses import dataclass, field

from apps.consents import hooks
from apps.consents.models import (
    CaseItem, ConsentForm, ConsentKind, ConsultationVisitType, PreOpItem, ProcedurePlan, SurgicalCase, TheatreBooking,
)
from apps.scheduling.models import Visit

STAGES = [
    ("REGISTERED", "Registered"),
    ("CONSULTATION_BOOKED", "Consultation booked"),
    ("CONSULTATION_COMPLETED", "Consultation completed"),
    ("PLAN_DRAFTED", "Procedure plan drafted"),
    ("PLAN_APPROVED", "Plan approved by the surgeon"),
    ("CONSENT_CREATED", "Consent sent"),
    ("CONSENT_SIGNED", "Consent signed"),
    ("PREOP_COMPLETE", "Pre-op requirements met"),
    ("CASE_CREATED", "Surgical case created"),
    ("THEATRE_BOOKED", "Theatre booked"),
    ("CONSUMABLES_RECORDED", "Consumables and implants recorded"),
    ("CASE_COMPLETED", "Surgery completed"),
    ("INVOICE_GENERATED", "Invoice generated"),
    ("PAYMENT_RECEIVED", "Payment received"),
]
LABELS = dict(STAGES)
NEXT_STEPS = {
    "REGISTERED": "Register the patient",
    "CONSULTATION_BOOKED": "Book a consultation",
    "CONSULTATION_COMPLETED": "Complete the consultation",
    "PLAN_DRAFTED": "Draft the procedure plan",
    "PLAN_APPROVED": "Surgeon to approve the procedure plan",
    "CONSENT_CREATED": "Send the procedure consent",
    "CONSENT_SIGNED": "Patient to sign the procedure consent",
    "PREOP_COMPLETE": "Complete the pre-op checklist",
    "CASE_CREATED": "Schedule surgery",
    "THEATRE_BOOKED": "Book the theatre",
    "CONSUMABLES_RECORDED": "Record consumables and implants",
    "CASE_COMPLETED": "Complete the surgery",
    "INVOICE_GENERATED": "Generate the invoice",
    "PAYMENT_RECEIVED": "Receive the payment",
}
BILLING_STAGES = ("INVOICE_GENERATED", "PAYMENT_RECEIVED")


@dataclass
class Stage:
    stage: str
    completed_at: object = None
    status: str = "PENDING"
    detail: str = ""

    @property
    def label(self):
        return LABELS[self.stage]

    @property
    def number(self):
        return [s for s, _ in STAGES].index(self.stage) + 1


@dataclass
class PlanWorkflow:
    plan: object
    stages: list
    current_stage: str
    next_step: str
    next_stage: str
    blockers: list
    can_schedule_surgery: bool
    consent: object = None
    case: object = None
    preop_items: list = field(default_factory=list)


@dataclass
class PatientWorkflow:
    patient: object
    current: PlanWorkflow
    plans: list

    def as_api(self):
        """The seed's shape (camelCase keys), for the current plan, with every plan under "plans"."""
        current = self.current
        return {
            "patientId": str(self.patient.pk),
            "hasConsultation": _done(current, "CONSULTATION_COMPLETED"),
            "hasProcedurePlan": current.plan is not None,
            "hasConsent": _done(current, "CONSENT_SIGNED"),
            "hasSurgicalCase": _done(current, "CASE_CREATED"),
            "canScheduleSurgery": current.can_schedule_surgery,
            "currentStage": current.current_stage,
            "nextStep": current.next_step,
            "nextStage": current.next_stage,
            "blockers": current.blockers,
            "planId": str(current.plan.pk) if current.plan else None,
            "timeline": _timeline(current),
            "plans": [
                {"planId": str(w.plan.pk), "version": w.plan.version, "status": w.plan.status,
                 "currentStage": w.current_stage, "nextStep": w.next_step, "blockers": w.blockers,
                 "canScheduleSurgery": w.can_schedule_surgery, "timeline": _timeline(w)}
                for w in self.plans
            ],
        }


def _done(workflow, stage):
    return any(s.stage == stage and s.status == "COMPLETED" for s in workflow.stages)


def _iso(value):
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _timeline(workflow):
    return [{"stage": s.stage, "label": s.label, "number": s.number, "status": s.status, "completedAt": _iso(s.completed_at),
             **({"detail": s.detail} if s.detail else {})} for s in workflow.stages]


def _consultation_type_ids():
    return list(ConsultationVisitType.objects.values_list("visit_type_id", flat=True))


def _effective_consent(plan):
    """The plan's procedure consent that matters now: the signed one, else the pending one, else
    the latest (declined, revoked or expired)."""
    consents = list(ConsentForm.objects.filter(plan=plan, kind=ConsentKind.PROCEDURE).order_by("-created_at"))
    for wanted in (ConsentForm.Status.SIGNED, ConsentForm.Status.PENDING):
        for consent in consents:
            if consent.status == wanted:
                return consent
    return consents[0] if consents else None


def plan_workflow(patient, plan, *, now=None, consultation=None, booked_consultation=None):
    """The 14 stages for `plan` of `patient` (plan None: a patient with no plan yet, judged on
    their consultations)."""
    stages = {name: Stage(name) for name, _ in STAGES}
    blockers = []
    stages["REGISTERED"].completed_at = patient.created_at
    consent = case = booking = None
    preop_items = []
    if plan is not None:
        consultation = booked_consultation = plan.consultation
    if booked_consultation is not None:
        stages["CONSULTATION_BOOKED"].completed_at = booked_consultation.created_at
    if consultation is not None and consultation.status == Visit.Status.COMPLETED:
        stages["CONSULTATION_COMPLETED"].completed_at = consultation.completed_at or consultation.end
    elif booked_consultation is not None and booked_consultation.status in (Visit.Status.CANCELLED, Visit.Status.NO_SHOW):
        blockers.append(f"consultation {booked_consultation.get_status_display().lower()}")
    if plan is not None:
        stages["PLAN_DRAFTED"].completed_at = plan.created_at
        stages["PLAN_DRAFTED"].detail = plan.status
        stages["PLAN_APPROVED"].completed_at = plan.approved_at
        if plan.status == ProcedurePlan.Status.CANCELLED:
            blockers.append("plan cancelled" + (f": {plan.cancel_reason}" if plan.cancel_reason else ""))
        consent = _effective_consent(plan)
        if consent is not None:
            stages["CONSENT_CREATED"].completed_at = consent.sent_at
            stages["CONSENT_SIGNED"].detail = consent.status
            if consent.status == ConsentForm.Status.SIGNED and not consent.is_expired(now):
                stages["CONSENT_SIGNED"].completed_at = consent.signed_at
            elif consent.status in (ConsentForm.Status.SIGNED, ConsentForm.Status.EXPIRED):
                blockers.append("consent expired")
            elif consent.status in (ConsentForm.Status.REVOKED, ConsentForm.Status.DECLINED):
                blockers.append(f"consent {consent.get_status_display().lower()}")
        preop_items = list(PreOpItem.objects.filter(plan=plan).order_by("order", "id"))
        required = [item for item in preop_items if item.is_required]
        if plan.approved_at is not None:
            missing = [item for item in required if item.done_at is None]
            if not missing:
                done = [item.done_at for item in required]
                stages["PREOP_COMPLETE"].completed_at = max(done) if done else plan.approved_at
            stages["PREOP_COMPLETE"].detail = f"{len(required) - len(missing)} of {len(required)} done"
        case = SurgicalCase.objects.filter(plan=plan).exclude(status=SurgicalCase.Status.CANCELLED).first()
        if case is not None:
            stages["CASE_CREATED"].completed_at = case.created_at
            stages["CASE_CREATED"].detail = case.status
            booking = TheatreBooking.objects.filter(case=case, status=TheatreBooking.Status.BOOKED).select_related("room").first()
            if booking is not None:
                stages["THEATRE_BOOKED"].completed_at = booking.created_at
                stages["THEATRE_BOOKED"].detail = booking.room.name
            first_item = CaseItem.objects.filter(case=case).order_by("recorded_at").first()
            if first_item is not None:
                stages["CONSUMABLES_RECORDED"].completed_at = first_item.recorded_at
            elif case.status == SurgicalCase.Status.COMPLETED:
                stages["CONSUMABLES_RECORDED"].completed_at = case.completed_at
                stages["CONSUMABLES_RECORDED"].detail = "none used"
            if case.status == SurgicalCase.Status.COMPLETED:
                stages["CASE_COMPLETED"].completed_at = case.completed_at
        for answer in hooks.workflow_billing.all(plan=plan):
            for name in BILLING_STAGES:
                value = (answer or {}).get(name)
                if isinstance(value, dict):
                    stages[name].completed_at = value.get("completed_at") or stages[name].completed_at
                    stages[name].detail = value.get("detail") or stages[name].detail
                elif value:
                    stages[name].completed_at = value

    ordered = [stages[name] for name, _ in STAGES]
    for stage in ordered:
        if stage.completed_at is not None:
            stage.status = "COMPLETED"
    # The current stage: the last of the unbroken run of completed stages from the start.
    current = "REGISTERED"
    next_stage = None
    for stage in ordered:
        if stage.status != "COMPLETED":
            next_stage = stage
            break
        current = stage.stage
    if next_stage is not None:
        blockers.extend(_blockers_for(next_stage.stage, plan=plan, consent=consent, preop_items=preop_items))
        next_stage.status = "BLOCKED" if blockers else "IN_PROGRESS"
        if next_stage.stage in BILLING_STAGES and not hooks.workflow_billing:
            next_stage.status, next_stage.detail = "PENDING", "billing is not connected yet"
    next_step = NEXT_STEPS[next_stage.stage] if next_stage is not None else "Done"
    can_schedule = (plan is not None and plan.status in (ProcedurePlan.Status.CONSENT_SIGNED, ProcedurePlan.Status.SCHEDULED)
                    and stages["CONSENT_SIGNED"].status == "COMPLETED" and case is None)
    return PlanWorkflow(plan=plan, stages=ordered, current_stage=current, next_step=next_step,
                        next_stage=next_stage.stage if next_stage else None, blockers=blockers,
                        can_schedule_surgery=can_schedule, consent=consent, case=case, preop_items=preop_items)


def _blockers_for(stage, *, plan, consent, preop_items):
    """What stops `stage` (the next one) beyond what the stages above already said."""
    if plan is not None and plan.status == ProcedurePlan.Status.CANCELLED:
        return []
    if stage == "PLAN_APPROVED" and plan is not None and plan.status == ProcedurePlan.Status.DRAFT:
        return ["plan not submitted for approval"]
    if stage == "CONSENT_SIGNED" and consent is not None and consent.status == ConsentForm.Status.PENDING:
        return ["consent not signed"]
    # The checklist blocks its own stage and the case's start (the stage after the theatre).
    if stage in ("PREOP_COMPLETE", "CONSUMABLES_RECORDED"):
        return [f"pre-op: {item.label.lower()} missing" for item in preop_items if item.is_required and item.done_at is None]
    return []


def workflow_for_patient(patient, *, now=None):
    """The patient's workflow: every plan's (newest first) and the current one (the newest plan
    that is not cancelled, else the newest plan, else the patient's consultations alone)."""
    plans = list(ProcedurePlan.objects.filter(patient=patient).select_related("consultation").order_by("-created_at"))
    workflows = [plan_workflow(patient, plan, now=now) for plan in plans]
    current = next((w for w in workflows if w.plan.status != ProcedurePlan.Status.CANCELLED), None)
    if current is None and workflows:
        current = workflows[0]
    if current is None:
        visits = Visit.objects.filter(patient=patient, visit_type_id__in=_consultation_type_ids())
        completed = visits.filter(status=Visit.Status.COMPLETED).order_by("-completed_at").first()
        booked = completed or visits.exclude(status=Visit.Status.CANCELLED).order_by("-created_at").first() \
            or visits.order_by("-created_at").first()
        current = plan_workflow(patient, None, now=now, consultation=completed, booked_consultation=booked)
    return PatientWorkflow(patient=patient, current=current, plans=workflows)
