from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.consents.api import (
    ConsentTemplateViewSet, ConsentViewSet, LotTraceView, OperatingRoomViewSet, PatientWorkflowView, ProcedurePlanViewSet,
    SurgicalCaseViewSet,
)

router = SimpleRouter()
router.register("procedure-plans", ProcedurePlanViewSet, basename="procedure-plan")
router.register("consent-templates", ConsentTemplateViewSet, basename="consent-template")
router.register("consents", ConsentViewSet, basename="consent")
router.register("surgical-cases", SurgicalCaseViewSet, basename="surgical-case")
router.register("operating-rooms", OperatingRoomViewSet, basename="operating-room")
urlpatterns = [
    path("patients/<uuid:patient_id>/workflow/", PatientWorkflowView.as_view(), name="patient-workflow"),
    path("case-items/trace/", LotTraceView.as_view(), name="case-item-trace"),
    *router.urls,
]
