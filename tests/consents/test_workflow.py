"""The workflow selector: the 14 stages move as the chronology does, with their dates, the current
stage, the next step and what blocks it; billing's two stages stay pending until billing fills
them through the hook."""
import pytest

from apps.consents import hooks, services
from apps.consents.workflow import STAGES, workflow_for_patient
from apps.scheduling.models import Visit

pytestmark = pytest.mark.django_db


def statuses(workflow):
    return {s.stage: s.status for s in workflow.current.stages}


def test_a_registered_patient_with_no_consultation_is_at_stage_one(patient):
    workflow = workflow_for_patient(patient)

    assert [s.stage for s in workflow.current.stages] == [name for name, _ in STAGES] and len(STAGES) == 14
    assert workflow.current.current_stage == "REGISTERED"
    assert workflow.current.next_step == "Book a consultation"
    assert workflow.current.stages[0].completed_at == patient.created_at


def test_a_booked_consultation_then_a_completed_one(flow):
    flow.consult(status=Visit.Status.PLANNED)
    workflow = workflow_for_patient(flow.patient)
    assert workflow.current.current_stage == "CONSULTATION_BOOKED"
    assert workflow.current.next_step == "Complete the consultation"

    Visit.objects.filter(pk=flow.consultation.pk).update(status="COMPLETED")
    assert workflow_for_patient(flow.patient).current.current_stage == "CONSULTATION_COMPLETED"


@pytest.mark.parametrize("step, current, next_step, blockers", [
    ("draft", "PLAN_DRAFTED", "Surgeon to approve the procedure plan", ["plan not submitted for approval"]),
    ("approve", "PLAN_APPROVED", "Send the procedure consent", []),
    ("send", "CONSENT_CREATED", "Patient to sign the procedure consent", ["consent not signed"]),
    ("sign", "CONSENT_SIGNED", "Complete the pre-op checklist",
     ["pre-op: labs missing", "pre-op: medical clearance missing", "pre-op: fasting instructions missing"]),
])
def test_each_step_moves_the_current_stage(flow, step, current, next_step, blockers):
    getattr(flow, step)()
    workflow = workflow_for_patient(flow.patient).current

    assert (workflow.current_stage, workflow.next_step, workflow.blockers) == (current, next_step, blockers)
    assert dict((s.stage, s.status) for s in workflow.stages)[workflow.next_stage] == ("BLOCKED" if blockers else "IN_PROGRESS")


def test_after_the_pre_op_checklist_surgery_can_be_scheduled(flow):
    flow.sign()
    flow.preop_done()
    workflow = workflow_for_patient(flow.patient)
    body = workflow.as_api()

    assert body["currentStage"] == "PREOP_COMPLETE" and body["nextStep"] == "Schedule surgery"
    assert body["canScheduleSurgery"] is True and body["hasConsent"] is True and body["hasSurgicalCase"] is False
    assert set(body) >= {"hasConsultation", "hasProcedurePlan", "hasConsent", "hasSurgicalCase", "canScheduleSurgery",
                         "nextStep", "currentStage", "timeline"}
    signed = next(s for s in body["timeline"] if s["stage"] == "CONSENT_SIGNED")
    assert signed["status"] == "COMPLETED" and signed["completedAt"].endswith("Z")
    assert next(s for s in body["timeline"] if s["stage"] == "CASE_CREATED")["status"] == "IN_PROGRESS"


@pytest.fixture
def billing_disconnected():
    """Consents on its own: whatever app answers workflow_billing (billing, installed) is
    disconnected for the test and connected again after it."""
    connected = hooks.workflow_billing.receivers
    for receiver in connected:
        hooks.workflow_billing.disconnect(receiver)
    yield
    for receiver in connected:
        hooks.workflow_billing.connect(receiver)


def test_a_completed_case_leaves_billings_stages_pending_until_billing_fills_them(flow, billing_disconnected):
    flow.start()
    services.case_complete(case=flow.case)
    workflow = workflow_for_patient(flow.patient)
    assert workflow.current.current_stage == "CASE_COMPLETED"
    assert statuses(workflow)["INVOICE_GENERATED"] == "PENDING" and statuses(workflow)["PAYMENT_RECEIVED"] == "PENDING"

    receiver = hooks.workflow_billing.connect(lambda *, plan: {"INVOICE_GENERATED": plan.completed_at})
    try:
        workflow = workflow_for_patient(flow.patient)
    finally:
        hooks.workflow_billing.disconnect(receiver)
    assert workflow.current.current_stage == "INVOICE_GENERATED"
    assert workflow.current.next_step == "Receive the payment"


def test_an_answer_may_carry_the_stage_detail_beside_its_date(flow, billing_disconnected):
    flow.start()
    services.case_complete(case=flow.case)
    receiver = hooks.workflow_billing.connect(lambda *, plan: {
        "INVOICE_GENERATED": {"completed_at": plan.completed_at, "detail": "INV-000007 issued"},
        "PAYMENT_RECEIVED": {"completed_at": None, "detail": "$0.00 of $10.00 paid"}})
    try:
        body = workflow_for_patient(flow.patient).as_api()
    finally:
        hooks.workflow_billing.disconnect(receiver)
    stages = {s["stage"]: s for s in body["timeline"]}
    assert stages["INVOICE_GENERATED"]["status"] == "COMPLETED" and stages["INVOICE_GENERATED"]["detail"] == "INV-000007 issued"
    assert stages["PAYMENT_RECEIVED"]["status"] == "IN_PROGRESS"
    assert stages["PAYMENT_RECEIVED"]["detail"] == "$0.00 of $10.00 paid" and stages["PAYMENT_RECEIVED"]["completedAt"] is None


def test_a_revoked_consent_blocks_and_the_plan_shows_it(flow):
    flow.sign()
    services.consent_revoke(consent=flow.consent, actor=flow.patient.user, reason="Second thoughts")
    workflow = workflow_for_patient(flow.patient).current

    assert workflow.current_stage == "CONSENT_CREATED"
    assert "consent revoked" in workflow.blockers and workflow.can_schedule_surgery is False


def test_a_new_version_becomes_the_current_plan(flow):
    flow.approve()
    new = services.procedure_plan_new_version(plan=flow.plan, reason="Change", actor=flow.surgeon_user)
    workflow = workflow_for_patient(flow.patient)

    assert workflow.current.plan == new and len(workflow.plans) == 2
    assert workflow.current.current_stage == "PLAN_DRAFTED"
