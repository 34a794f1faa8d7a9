"""accounts.roles is the one place role names live: a user's role, the users holding roles, and
what an API key is called in the access log and whoami."""
import pytest

from apps.accounts import roles
from apps.accounts.selectors import staff_in_roles
from apps.audit.models import AccessLog
from tests.conftest import api_keyed_client
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_each_user_has_one_role(patient, front_desk, nurse, provider_user, billing_user, clinic_admin):
    assert [u.role for u in (patient.user, front_desk, nurse, provider_user, billing_user, clinic_admin)] == [
        roles.PATIENT, roles.FRONT_DESK, roles.NURSE, roles.PROVIDER, roles.BILLING, roles.CLINIC_ADMIN,
    ]
    assert front_desk.role_label == "Front desk"


def test_staff_in_no_role_are_called_staff():
    user = UserFactory(is_staff=True)

    assert roles.role_of(user) == roles.STAFF_WITHOUT_ROLE == "staff"


def test_staff_in_roles_lists_active_staff_of_those_roles_only(front_desk, nurse, provider_user, patient):
    gone = StaffFactory(role=roles.NURSE)
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    assert list(staff_in_roles([roles.FRONT_DESK, roles.NURSE])) == [front_desk, nurse]


def test_staff_in_roles_refuses_a_name_that_is_not_a_role(db):
    with pytest.raises(ValueError, match="frontdesk"):
        staff_in_roles(["frontdesk"])


def test_an_api_key_is_an_integrator_in_the_access_log(integrator_key, patient):
    key, raw = integrator_key

    response = api_keyed_client(raw).get(f"/api/v1/patients/{patient.pk}/")

    assert response.status_code == 200
    assert response.json()["mrn"] == patient.mrn
    assert key.role == roles.INTEGRATOR
    assert AccessLog.objects.get(action="read").role == roles.INTEGRATOR
