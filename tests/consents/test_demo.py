"""The demo: published templates of every kind, rooms, the pre-op catalogue, and patients at
different stages (a plan waiting for approval, a consent to sign before a planned date, a
surgery booked with pre-op items open), made through the services; running it again adds
nothing."""
import pytest

from apps.consents.models import ConsentForm, ConsentKind, ConsentTemplate, OperatingRoom, ProcedurePlan
from apps.consents.workflow import workflow_for_patient
from apps.core.demo import seed_demo
from apps.patients.models import Patient

pytestmark = pytest.mark.django_db


def test_the_demo_ships_every_kind_and_patients_at_different_stages():
    seed_demo()
    seed_demo()

    assert set(ConsentTemplate.objects.filter(published_at__isnull=False).values_list("kind", flat=True)) == set(ConsentKind.values)
    assert OperatingRoom.objects.count() == 2
    james = Patient.objects.get(user__email="patient2@clinic.test")
    consent = ConsentForm.objects.get(patient=james)
    assert (consent.status, consent.plan.status) == ("PENDING", "CONSENT_PENDING")
    assert workflow_for_patient(james).current.current_stage == "CONSENT_CREATED"
    assert consent.plan.planned_date is not None
    robert = Patient.objects.get(first_name="Robert", last_name="Chen")
    assert ProcedurePlan.objects.get(patient=robert).status == "PENDING_APPROVAL"
    tom = Patient.objects.get(first_name="Tom", last_name="Berg")
    tom_plan = ProcedurePlan.objects.get(patient=tom)
    assert tom_plan.status == "SCHEDULED"
    assert ConsentForm.objects.get(patient=tom).status == "SIGNED"
    workflow = workflow_for_patient(tom).current
    assert {s.stage: s.status for s in workflow.stages}["THEATRE_BOOKED"] == "COMPLETED"
    assert workflow.next_stage == "PREOP_COMPLETE" and "pre-op: medical clearance missing" in workflow.blockers
    assert tom_plan.preop_items.filter(code="labs", done_at__isnull=False).exists()
