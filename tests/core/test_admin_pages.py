import pytest
from django.contrib import admin
from django.urls import reverse

from apps.core.admin import ReadOnlyAdminMixin

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize("model, model_admin", REGISTERED, ids=[m._meta.label for m, _ in REGISTERED])
def test_every_admin_changelist_renders_for_a_verified_clinic_admin(client_for, clinic_admin, model, model_admin):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    response = client_for(clinic_admin).get(url)

    assert response.status_code == 200
    # The list's own title ("Select visit to change" / "... to view"), not the sign-in page.
    assert f"Select {model._meta.verbose_name} to" in response.content.decode()


@pytest.mark.parametrize(
    "model, model_admin",
    [(m, a) for m, a in REGISTERED if isinstance(a, ReadOnlyAdminMixin)],
    ids=[m._meta.label for m, a in REGISTERED if isinstance(a, ReadOnlyAdminMixin)],
)
def test_read_only_admins_offer_no_add_page(client_for, clinic_admin, model, model_admin):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")

    response = client_for(clinic_admin).get(url)

    assert response.status_code == 403
