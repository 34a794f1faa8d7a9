"""The records demo gives the demo patient a chart with released labs, once."""
import pytest

from apps.core.demo import seed_demo
from apps.records.models import Allergy, LabResult, Medication, Problem

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
