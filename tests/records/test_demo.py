"""The records demo gives the demo patient a chart with released labs, once, and a visit of today
with Dr. Shah to complete and write the note of, whatever the hour the demo is seeded (README
"Records")."""
import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.core.demo import seed_demo
from apps.records.models import Allergy, LabResult, Medication, Problem, VisitSummary
from apps.scheduling.models import Visit

pytestmark = pytest.mark.django_db


def test_the_demo_chart_is_seeded_once_with_a_released_lab_and_its_range(settings):
    seed_demo()
    patient_problems = Problem.objects.filter(patient__user__email="patient@clinic.test")
    assert patient_problems.count() == 2
    labs = LabResult.objects.filter(patient__user__email="patient@clinic.test")
    assert labs.count() == 3 and all(lab.status == "RELEASED" and lab.reference_range == "up to 5.6" for lab in labs)
    assert all(lab.abnormal_flag == "H" for lab in labs)
    assert Allergy.objects.filter(patient__user__email="patient@clinic.test").count() == 1
    assert Medication.objects.filter(patient__user__email="patient@clinic.test", status="ACTIVE").count() == 2
    seed_demo()
    assert Problem.objects.filter(patient__user__email="patient@clinic.test").count() == 2
    assert LabResult.objects.filter(patient__user__email="patient@clinic.test").count() == 3


@pytest.mark.parametrize("hour", [7, 23])
def test_seeding_at_any_hour_leaves_a_visit_of_today_to_complete_and_note(client_for, hour, monkeypatch):
    late = timezone.localtime().replace(hour=hour, minute=30)
    monkeypatch.setattr(timezone, "now", lambda: late)
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # idempotent: one chart, one walk-in

    visits = Visit.objects.filter(patient__user__email="patient@clinic.test", provider__user__email="provider@clinic.test",
                                  status=Visit.Status.IN_PROGRESS, is_walk_in=True)
    assert visits.count() == 1
    visit = visits.get()
    assert timezone.localtime(visit.start).date() == late.date()
    assert Problem.objects.filter(patient=visit.patient).count() == 2
    assert LabResult.objects.filter(patient=visit.patient, status="RELEASED").count() == 3

    # The README's walk: the provider completes it, writes and signs the note; the summary is released.
    provider = client_for(visit.provider.user)
    response = provider.post(f"/staff/scheduling/visits/{visit.pk}/complete/", follow=True)
    assert response.status_code == 200 and "Visit completed." in response.content.decode()
    note = {"subjective": "Feels well.", "objective": "BP 128/82.", "assessment": "Hypertension, controlled.",
            "plan": "Continue lisinopril.", "diagnosis_codes": "I10", "summary_assessment": "Your blood pressure is fine.",
            "follow_up": "In 3 months.", "medications_changed": "None.", "action": "sign"}
    response = provider.post(f"/staff/records/visits/{visit.pk}/note/", note, follow=True)
    assert "Note signed." in response.content.decode()
    summary = VisitSummary.objects.get(visit=visit)
    assert summary.assessment == "Your blood pressure is fine."
    assert summary.released_at is not None
