import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.accounts.roles import ROLE_PERMISSIONS
from tests.scheduling.factories import SlotFactory, VisitRequestFactory, WindowFactory


def test_every_scheduling_permission_in_the_roles_table_exists(db):
    wanted = {p for perms in ROLE_PERMISSIONS.values() for p in perms if p.startswith("scheduling.")}
    existing = {f"scheduling.{c}" for c in Permission.objects.filter(content_type__app_label="scheduling").values_list("codename", flat=True)}
    assert wanted <= existing, wanted - existing


@pytest.mark.parametrize("role,perm,expected", [
    ("front_desk", "scheduling.offer_slots_visitrequest", True),
    ("front_desk", "scheduling.review_visitrequest", False),
    ("nurse", "scheduling.override_severity_visitrequest", True),
    ("provider", "scheduling.review_visitrequest", True),
    ("billing", "scheduling.change_visit", False),
    ("clinic_admin", "scheduling.change_triagerule", True),
])
def test_role_permissions(role, perm, expected, front_desk, nurse, provider_user, billing_user, clinic_admin):
    from tests.factories import StaffFactory

    user = StaffFactory(role=role)
    assert user.has_perm(perm) is expected


@pytest.mark.parametrize("model", [
    "location", "provider", "visittype", "availabilitywindow", "availabilityexception", "triagerule",
    "visitslot", "visitrequest", "visit",
])
def test_admin_pages_render(client_for, clinic_admin, model):
    WindowFactory()
    SlotFactory()
    VisitRequestFactory()
    client = client_for(clinic_admin)
    assert client.get(reverse(f"admin:scheduling_{model}_changelist")).status_code == 200


def test_slots_are_read_only_in_the_admin(client_for, clinic_admin):
    slot = SlotFactory()
    response = client_for(clinic_admin).post(reverse("admin:scheduling_visitslot_change", args=[slot.pk]), {"status": "BOOKED"})
    assert response.status_code == 403


@pytest.mark.parametrize("model", ["location", "provider", "visittype", "availabilitywindow", "availabilityexception", "triagerule"])
def test_admin_add_pages_render_for_configuration(client_for, clinic_admin, model):
    assert client_for(clinic_admin).get(reverse(f"admin:scheduling_{model}_add")).status_code == 200


def test_overlapping_windows_are_refused_by_validation(db):
    from django.core.exceptions import ValidationError

    from apps.scheduling.models import AvailabilityWindow

    window = WindowFactory()
    clash = AvailabilityWindow(provider=window.provider, location=window.location, weekday=window.weekday,
                               start_time=window.start_time, end_time=window.end_time, effective_from=window.effective_from)
    with pytest.raises(ValidationError):
        clash.full_clean()
