"""The demo: published templates of every kind, rooms, the pre-op catalogue, and a patient
mid-workflow (a procedure consent to sign), made through the services; running it again adds
nothing."""
import pytest

from apps.consents.models import ConsentForm, ConsentKind, ConsentTemplate, OperatingRoom, ProcedurePlan
from apps.consents.workflow import workflow_for_patient
from apps.core.demo import seed_demo
from apps.patients.models import Patient

pytestmark = pytest.mark.django_db


def test_the_demo_ships_every_kind_and_a_patient_with_a_consent_to_sign():
    seed_demo()
    seed_demo()

    assert set(ConsentTemplate.objects.filter(published_at__isnull=False).values_list("kind", flat=True)) == set(ConsentKind.values)
    assert OperatingRoom.objects.count() == 2
    james = Patient.objects.get(user__email="patient2@clinic.test")
    consent = ConsentForm.objects.get(patient=james)
    assert (consent.status, consent.plan.status) == ("PENDING", "CONSENT_PENDING")
    assert workflow_for_patient(james).current.current_stage == "CONSENT_CREATED"
    robert = Patient.objects.get(first_name="Robert", last_name="Chen")
    assert ProcedurePlan.objects.get(patient=robert).status == "PENDING_APPROVAL"
