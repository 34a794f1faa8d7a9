"""The chronology through the services: each step taken too early is refused with a 409 whose
stable code names what is missing, and writes nothing; taken in order, the plan moves through its
table and every move has its event row."""
import datetime

import pytest
from django.db.models import F
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.consents import hooks, services
from apps.consents.exceptions import (
    ConsentNotValid, NotPlanSurgeon, OutOfOrder, PlanFrozen, SecondFactorRequired, TheatreUnavailable,
)
from apps.consents.models import (
    CaseEvent, CaseItem, ConsentEvent, ConsentForm, PlanEvent, PreOpItem, ProcedurePlan, SurgicalCase, TheatreBooking,
)
from apps.core.exceptions import InvalidTransition
from apps.scheduling.models import Visit
from apps.messaging.models import Notification, OutboundMessage
from tests.consents.factories import LINES, RoomFactory, TemplateFactory, verified, visit
from tests.factories import StaffFactory
from tests.scheduling.factories import VisitTypeFactory

pytestmark = pytest.mark.django_db


def written():
    return (ProcedurePlan.objects.count(), PlanEvent.objects.count(), ConsentForm.objects.count(),
            ConsentEvent.objects.count(), SurgicalCase.objects.count(), CaseEvent.objects.count(),
            TheatreBooking.objects.count(), CaseItem.objects.count(), PreOpItem.objects.count(),
            list(ProcedurePlan.objects.values_list("status", flat=True)),
            list(ConsentForm.objects.values_list("status", flat=True)))


def refused(code, call):
    before = written()
    with pytest.raises(OutOfOrder) as info:
        call()
    assert info.value.status_code == 409
    assert info.value.code == code, (info.value.code, info.value.message)
    assert written() == before
    return info.value


# --- step 4: a plan needs a completed consultation of the same patient ---------------------------

@pytest.mark.parametrize("status", [Visit.Status.PLANNED, Visit.Status.CHECKED_IN, Visit.Status.IN_PROGRESS,
                                    Visit.Status.NO_SHOW, Visit.Status.CANCELLED])
def test_a_plan_before_the_consultation_is_completed_is_refused(flow, status):
    flow.consult(status=status)
    refused("consultation_not_completed", flow.draft)


def test_a_plan_from_another_patients_consultation_is_refused(flow, other_patient):
    flow.consultation = visit(other_patient, flow.surgeon, flow.visit_type)
    refused("consultation_other_patient", flow.draft)


def test_a_plan_from_a_visit_that_is_not_a_consultation_is_refused(flow):
    flow.consultation = visit(flow.patient, flow.surgeon, VisitTypeFactory(name="Follow-up"))
    refused("not_a_consultation", flow.draft)


def test_a_plan_from_a_completed_consultation_is_a_draft_with_its_quote(flow):
    plan = flow.draft()

    assert plan.status == "DRAFT" and plan.version == 1
    assert str(plan.quote_total) == "3650.50"
    assert [(line.code, str(line.estimated_fee)) for line in plan.lines.all()] == [("15823", "3200.00"), ("L8699", "450.50")]
    assert list(plan.events.values_list("from_status", "to_status")) == [("", "DRAFT")]
    assert AccessLog.objects.filter(object_type="consents.procedureplan", object_id=str(plan.pk), action="create").exists()


# --- step 5: approval ------------------------------------------------------------------------------

def test_approving_a_draft_that_was_never_submitted_is_refused(flow):
    flow.draft()
    before = written()
    with pytest.raises(InvalidTransition):
        services.procedure_plan_approve(plan=flow.plan, actor=flow.surgeon_user)
    assert written() == before


def test_only_the_plans_surgeon_with_a_verified_second_factor_approves(flow):
    flow.draft()
    services.procedure_plan_submit(plan=flow.plan, actor=flow.surgeon_user)
    before = written()
    with pytest.raises(NotPlanSurgeon):
        services.procedure_plan_approve(plan=flow.plan, actor=verified(StaffFactory(role="provider")))
    flow.surgeon_user.is_verified = lambda: False
    with pytest.raises(SecondFactorRequired):
        services.procedure_plan_approve(plan=flow.plan, actor=flow.surgeon_user)
    assert written() == before

    flow.surgeon_user.is_verified = lambda: True
    plan = services.procedure_plan_approve(plan=flow.plan, actor=flow.surgeon_user)
    assert plan.status == "APPROVED" and plan.approved_by == flow.surgeon_user
    assert list(plan.preop_items.values_list("code", flat=True)) == ["labs", "clearance", "fasting"]


def test_an_approved_plan_cannot_be_edited_a_new_version_keeps_the_old_one(flow):
    plan = flow.approve()
    with pytest.raises(PlanFrozen):
        services.procedure_plan_update(plan=plan, lines=LINES[:1], actor=flow.surgeon_user)
    new = services.procedure_plan_new_version(plan=plan, reason="Add the lower lids", actor=flow.surgeon_user)

    plan.refresh_from_db()
    assert (new.status, new.version, new.previous_version_id) == ("DRAFT", 2, plan.pk)
    assert plan.status == "CANCELLED" and "Superseded by version 2" in plan.cancel_reason
    assert list(new.lines.values_list("code", flat=True)) == ["15823", "L8699"]
    assert list(plan.lines.values_list("code", flat=True)) == ["15823", "L8699"]  # the old one is kept as it was
    services.procedure_plan_update(plan=new, lines=LINES[:1], actor=flow.surgeon_user)
    new.refresh_from_db()
    assert str(new.quote_total) == "3200.00"


# --- step 6: a consent needs the approved plan ------------------------------------------------------

def test_a_procedure_consent_before_approval_is_refused(flow):
    flow.draft()
    refused("plan_not_approved", lambda: services.consent_create(patient=flow.patient, template=flow.template, plan=flow.plan))
    services.procedure_plan_submit(plan=flow.plan, actor=flow.surgeon_user)
    refused("plan_not_approved", lambda: services.consent_create(patient=flow.patient, template=flow.template, plan=flow.plan))


def test_a_procedure_consent_without_a_plan_is_refused(flow):
    refused("plan_required", lambda: services.consent_create(patient=flow.patient, template=flow.template))


def test_a_draft_template_cannot_be_sent(flow):
    flow.approve()
    draft = TemplateFactory(published_at=None)
    refused("template_not_published", lambda: services.consent_create(patient=flow.patient, template=draft, plan=flow.plan))


def test_a_second_active_consent_for_one_plan_is_refused(flow):
    flow.send()
    refused("consent_already_active", lambda: services.consent_create(patient=flow.patient, template=flow.template,
                                                                       plan=flow.plan))


def test_sending_a_consent_moves_the_plan_and_tells_the_patient(flow):
    consent = flow.send()
    flow.refresh()

    assert consent.status == "PENDING" and flow.plan.status == "CONSENT_PENDING"
    assert consent.consultation_id == flow.consultation.pk
    assert consent.plan_snapshot["quote_total"] == "3650.50"
    assert Notification.objects.filter(recipient=flow.patient.user, kind="consent_to_sign").exists()
    texts = list(OutboundMessage.objects.filter(kind="consent_to_sign", patient=flow.patient).values_list("body", flat=True))
    assert texts and all("blepharoplasty" not in t.lower() and "3650" not in t for t in texts)  # no PHI by SMS/email


# --- step 9: a surgical case needs the signed consent ------------------------------------------------

def test_a_case_before_the_consent_is_signed_is_refused(flow):
    flow.send()
    refused("consent_not_signed", lambda: services.surgical_case_create(plan=flow.plan, consent=flow.consent,
                                                                         anaesthesia_type="GENERAL"))


def test_a_case_on_an_expired_consent_is_refused_and_audited(flow):
    flow.sign()
    later = flow.consent.expires_at + datetime.timedelta(minutes=1)
    with pytest.raises(ConsentNotValid) as info:
        services.surgical_case_create(plan=flow.plan, consent=flow.consent, anaesthesia_type="GENERAL", now=later)
    assert info.value.code == "consent_expired" and info.value.status_code == 409
    assert not SurgicalCase.objects.exists()
    entry = AccessLog.objects.filter(object_id=str(flow.consent.pk), detail__verification="failed").get()
    assert entry.detail["code"] == "consent_expired"


def test_a_case_on_a_revoked_consent_is_refused(flow):
    flow.sign()
    services.consent_revoke(consent=flow.consent, actor=flow.patient.user, reason="Changed my mind")
    with pytest.raises(ConsentNotValid) as info:
        services.surgical_case_create(plan=flow.plan, consent=flow.consent, anaesthesia_type="GENERAL")
    assert info.value.code == "consent_revoked"
    assert not SurgicalCase.objects.exists()


# --- steps 10-12 ---------------------------------------------------------------------------------------

def test_starting_a_case_needs_the_theatre_and_the_pre_op_checklist(flow):
    flow.case_create()
    refused("theatre_not_booked", lambda: services.case_start(case=flow.case))
    flow.book()
    error = refused("preop_incomplete", lambda: services.case_start(case=flow.case))
    assert "Labs missing" in error.message and error.extra["missing"] == ["labs", "clearance", "fasting"]
    for item in flow.plan.preop_items.exclude(code="labs"):
        services.preop_item_complete(item=item, actor=flow.surgeon_user)
    error = refused("preop_incomplete", lambda: services.case_start(case=flow.case))
    assert error.message == "Pre-op: Labs missing."

    services.preop_item_complete(item=flow.plan.preop_items.get(code="labs"), actor=flow.surgeon_user)
    case = services.case_start(case=flow.case, actor=flow.surgeon_user)
    assert case.status == "IN_PROGRESS"


def test_consumables_are_recorded_only_while_the_case_is_in_progress(flow):
    flow.book()
    item = dict(kind="IMPLANT", name="Silicone implant", manufacturer="Acme", lot_number="LOT-1", serial_number="SN-9")
    refused("case_not_in_progress", lambda: services.case_item_record(case=flow.case, **item))


def test_the_whole_chronology_in_order_reaches_completion_and_tells_billing(flow):
    heard = []
    receiver = hooks.case_completed.connect(lambda **kw: heard.append(kw))
    try:
        flow.start()
        services.case_item_record(case=flow.case, kind="IMPLANT", name="Silicone implant", manufacturer="Acme",
                                  lot_number="LOT-1", serial_number="SN-9", billing_code="L8699", actor=flow.surgeon_user)
        services.case_item_record(case=flow.case, kind="CONSUMABLE", name="Sutures", manufacturer="Acme",
                                  lot_number="S-77", quantity=3, billable=False, actor=flow.surgeon_user)
        case = services.case_complete(case=flow.case, actor=flow.surgeon_user)
    finally:
        hooks.case_completed.disconnect(receiver)
    flow.refresh()

    assert case.status == "COMPLETED" and flow.plan.status == "COMPLETED"
    assert list(flow.plan.events.exclude(from_status="").exclude(from_status=F("to_status")).values_list(
        "from_status", "to_status")) == [
        ("DRAFT", "PENDING_APPROVAL"), ("PENDING_APPROVAL", "APPROVED"), ("APPROVED", "CONSENT_PENDING"),
        ("CONSENT_PENDING", "CONSENT_SIGNED"), ("CONSENT_SIGNED", "SCHEDULED"), ("SCHEDULED", "COMPLETED")]
    assert len(heard) == 1
    assert [c["code"] for c in heard[0]["procedure_codes"]] == ["15823", "L8699"]
    assert [(i["name"], i["lot_number"], i["quantity"]) for i in heard[0]["billable_items"]] == [("Silicone implant", "LOT-1", 1)]


def test_a_plan_cannot_be_cancelled_while_it_has_a_case(flow):
    flow.case_create()
    refused("case_active", lambda: services.procedure_plan_cancel(plan=flow.plan, reason="Patient moved"))
    services.case_cancel(case=flow.case, reason="Patient unwell", actor=flow.surgeon_user)
    plan = services.procedure_plan_cancel(plan=flow.plan, reason="Patient moved", actor=flow.surgeon_user)
    assert plan.status == "CANCELLED"


def test_expiry_job_moves_signed_consents_past_their_validity_once(flow):
    flow.sign()
    later = flow.consent.expires_at + datetime.timedelta(seconds=1)

    assert services.consents_expire(now=flow.consent.expires_at - datetime.timedelta(seconds=1)) == 0
    assert services.consents_expire(now=later) == 1
    assert services.consents_expire(now=later) == 0
    flow.refresh()
    assert flow.consent.status == "EXPIRED"
    assert flow.consent.events.filter(to_status="EXPIRED", actor_label="system").count() == 1


def test_an_unsigned_consent_is_reminded_once(flow):
    flow.send()
    assert services.consents_remind_unsigned(now=timezone.now() + datetime.timedelta(hours=47)) == 0
    assert services.consents_remind_unsigned(now=timezone.now() + datetime.timedelta(hours=49)) == 1
    assert services.consents_remind_unsigned(now=timezone.now() + datetime.timedelta(hours=50)) == 0
    assert OutboundMessage.objects.filter(kind="consent_reminder", patient=flow.patient).exists()


def test_the_theatre_booking_refuses_a_room_already_taken(flow, other_flow):
    room = RoomFactory()
    start = (timezone.now() + datetime.timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
    flow.book(room=room, start=start, hours=3)
    other_flow.case_create()
    before = written()
    with pytest.raises(TheatreUnavailable) as info:
        other_flow.book(room=room, start=start + datetime.timedelta(hours=2), hours=2)
    assert info.value.code == "theatre_unavailable"
    assert written() == before
    booking = other_flow.book(room=room, start=start + datetime.timedelta(hours=3), hours=2)  # back to back is fine
    assert booking.status == "BOOKED"


def test_an_app_above_adds_a_pre_op_requirement_through_the_hook_and_the_case_waits_for_it(flow):
    receiver = hooks.preop_requirements.connect(lambda *, plan: [
        {"code": "deposit", "label": "Deposit paid", "required": True, "source": "billing"}])
    try:
        flow.approve()
    finally:
        hooks.preop_requirements.disconnect(receiver)
    deposit = flow.plan.preop_items.get(code="deposit")
    assert (deposit.label, deposit.source, deposit.is_required) == ("Deposit paid", "billing", True)

    flow.book()
    for item in flow.plan.preop_items.exclude(code="deposit"):
        services.preop_item_complete(item=item, actor=flow.surgeon_user)
    error = refused("preop_incomplete", lambda: services.case_start(case=flow.case))
    assert error.extra["missing"] == ["deposit"]
    # Only the app that added the item marks it done (staff cannot tick a deposit as paid).
    assert refused("preop_item_managed", lambda: services.preop_item_complete(item=deposit, actor=flow.surgeon_user))
    services.preop_item_complete(item=deposit, source="billing")  # billing marks it done when the deposit is paid
    assert services.case_start(case=flow.case).status == "IN_PROGRESS"
