import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.accounts.roles import ROLE_PERMISSIONS
from apps.scheduling import services
from apps.scheduling.models import AvailabilityWindow
from tests.factories import StaffFactory
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

    response = client.get(reverse(f"admin:scheduling_{model}_changelist"))

    assert response.status_code == 200
    meta = django_apps.get_model("scheduling", model)._meta
    content = response.content.decode()
    # Configuration is edited here; slots, requests and visits are read-only.
    verb = "view" if model in ("visitslot", "visitrequest", "visit") else "change"
    assert f"<h1>Select {meta.verbose_name} to {verb}</h1>" in content


def test_slots_are_read_only_in_the_admin(client_for, clinic_admin):
    slot = SlotFactory()
    response = client_for(clinic_admin).post(reverse("admin:scheduling_visitslot_change", args=[slot.pk]), {"status": "BOOKED"})
    assert response.status_code == 403


@pytest.mark.parametrize("model", ["location", "provider", "visittype", "availabilitywindow", "availabilityexception", "triagerule"])
def test_admin_add_pages_render_for_configuration(client_for, clinic_admin, model):
    response = client_for(clinic_admin).get(reverse(f"admin:scheduling_{model}_add"))

    assert response.status_code == 200
    assert f"Add {django_apps.get_model('scheduling', model)._meta.verbose_name}" in response.content.decode()


def test_overlapping_windows_are_refused_by_validation(db):
    window = WindowFactory()
    clash = AvailabilityWindow(provider=window.provider, location=window.location, weekday=window.weekday,
                               start_time=window.start_time, end_time=window.end_time, effective_from=window.effective_from)
    with pytest.raises(ValidationError):
        clash.full_clean()


def test_the_admin_shows_the_event_rows_of_slots_requests_and_visits(client_for, clinic_admin, patient, visit_type,
                                                                       provider):
    slot = SlotFactory(provider=provider)
    visit_request = VisitRequestFactory(patient=patient, visit_type=visit_type)
    visit = services.booking_create(patient=patient, slot=slot, visit_type=visit_type, request=visit_request)
    client = client_for(clinic_admin)

    pages = {name: client.get(reverse(f"admin:scheduling_{name}_change", args=[obj.pk]))
             for name, obj in (("visitslot", slot), ("visitrequest", visit_request), ("visit", visit))}

    assert {name: page.status_code for name, page in pages.items()} == {"visitslot": 200, "visitrequest": 200, "visit": 200}
    assert pages["visitslot"].content.decode().count("Booked by the patient") == 1  # FREE -> BOOKED in one move
    assert "CONVERTED_TO_VISIT" in pages["visitrequest"].content.decode()
    assert "Booked by the patient" in pages["visit"].content.decode()
