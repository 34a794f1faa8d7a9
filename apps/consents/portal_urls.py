from django.urls import path

from apps.consents import portal_views as views
from apps.consents import staff_urls

urlpatterns = [
    path("portal/consents/", views.consent_list, name="portal_consents"),
    path("portal/consents/<uuid:consent_id>/", views.consent_detail, name="portal_consent"),
    path("portal/consents/<uuid:consent_id>/progress/", views.consent_progress, name="portal_consent_progress"),
    path("portal/consents/<uuid:consent_id>/decline/", views.consent_decline, name="portal_consent_decline"),
    path("portal/consents/<uuid:consent_id>/revoke/", views.consent_revoke, name="portal_consent_revoke"),
    path("portal/consents/<uuid:consent_id>/pdf/", views.consent_pdf, name="portal_consent_pdf"),
    path("portal/plans/", views.plan_list, name="portal_plans"),
    path("portal/plans/<uuid:plan_id>/", views.plan_detail, name="portal_plan"),
    path("portal/timeline/", views.timeline, name="portal_timeline"),
]

# The staff pages (/staff/surgery/, apps/consents/staff_urls.py) come in through this module,
# which clinic/urls.py already includes.
urlpatterns += staff_urls.urlpatterns
