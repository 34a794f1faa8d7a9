"""The staff dashboard (/staff/, core's page) shows the patients app's figures, contributed
through core.staff_views.staff_home_context (connected in apps/patients/apps.py)."""
import re

import pytest

from apps.core.staff_views import staff_home_context
from apps.patients import selectors
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def tile(response, label):
    """The number on the dashboard tile named `label`, or None when the tile is not shown."""
    match = re.search(rf'<span class="tile-num">([^<]*)</span><span>{re.escape(label)}</span>', response.content.decode())
    return match.group(1) if match else None


def test_the_patients_app_contributes_its_figures():
    assert selectors.staff_home_figures in staff_home_context.receivers


def test_front_desk_sees_the_patient_count_and_the_duplicates_to_review(client_for, front_desk, staff_pair_review):
    target = PatientFactory()
    PatientFactory(merged_into=target)  # merged records are not counted

    response = client_for(front_desk).get("/staff/")

    assert response.status_code == 200
    assert tile(response, "Patients") == "3"  # the pair and the target, not the merged record
    assert tile(response, "Possible duplicates to review") == "1"


def test_roles_that_do_not_review_duplicates_see_only_the_patient_count(client_for, billing_user, staff_pair_review):
    response = client_for(billing_user).get("/staff/")

    assert response.status_code == 200
    assert tile(response, "Patients") == "2"
    assert tile(response, "Possible duplicates to review") is None
    assert b"/staff/duplicates/" not in response.content
