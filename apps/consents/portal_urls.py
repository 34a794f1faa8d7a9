from django.urls import path

from apps.consents import portal_views as views

urlpatterns = [
    path("portal/consents/", views.consent_list, name="portal_consents"),
    path("portal/consents/<uuid:consent_id>/", views.consent_detail, name="portal_consent"),
    path("portal/consents/<uuid:consent_id>/progress/", views.consent_progress, name="portal_consent_progress"),
    path("portal/consents/<uuid:consent_id>/decline/", views.consent_decline, name="portal_consent_decline"),
    path("portal/consents/<uuid:consent_id>/revoke/", views.consent_revoke, name="portal_consent_revoke"),
    path("portal/plans/", views.plan_list, name="portal_plans"),
    path("portal/plans/<uuid:plan_id>/", views.plan_detail, name="portal_plan"),
    path("portal/timeline/", views.timeline, name="portal_timeline"),
]
