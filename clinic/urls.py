from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core import views as core_views

# The admin demands a verified second factor (django-otp); it signs in through our login page.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "Clinic administration"
admin.site.login = lambda request, extra_context=None: RedirectView.as_view(
    url="/accounts/login/?next=/admin/", permanent=False
)(request)

api_v1 = [
    path("", include("apps.accounts.api_urls")),
    path("", include("apps.patients.api_urls")),
    path("", include("apps.scheduling.api_urls")),
    path("", include("apps.messaging.threads.api_urls")),
    path("", include("apps.consents.api_urls")),
    path("", include("apps.telehealth.api_urls")),
    path("", include("apps.billing.api_urls")),
    path("", include("apps.records.api_urls")),
    path("", include("apps.portal_api.api_urls")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz/", core_views.healthz, name="healthz"),
    path("readyz/", core_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Phone apps sign in here (django-allauth headless, app client): README "Patient app API".
    path("_allauth/", include("allauth.headless.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.core.urls")),
    path("", include("apps.patients.urls")),
    path("", include("apps.messaging.urls")),
    path("", include("apps.scheduling.portal_urls")),
    path("", include("apps.scheduling.staff_urls")),
    path("", include("apps.consents.portal_urls")),
    path("", include("apps.telehealth.urls")),
    path("", include("apps.billing.urls")),
    path("", include("apps.records.urls")),
    path("fhir/", include("apps.fhir.urls")),
    path("", include("apps.messaging.webhook_urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
]

# Errors under /api/ answer in the API's JSON format; pages keep their templates; a 500 is
# logged once with its traceback and request id, without patient data (apps/core/views.py).
handler400 = core_views.bad_request
handler403 = core_views.permission_denied
handler404 = core_views.page_not_found
handler500 = core_views.server_error
