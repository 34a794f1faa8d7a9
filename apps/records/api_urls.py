from rest_framework.routers import SimpleRouter

from apps.records.api import (
    AllergyViewSet, DocumentViewSet, LabResultViewSet, MedicationViewSet, ProblemViewSet, RefillRequestViewSet,
    VisitNoteViewSet,
)

router = SimpleRouter()
router.register("records/problems", ProblemViewSet, basename="record-problem")
router.register("records/allergies", AllergyViewSet, basename="record-allergy")
router.register("records/medications", MedicationViewSet, basename="record-medication")
router.register("records/refill-requests", RefillRequestViewSet, basename="record-refill")
router.register("records/notes", VisitNoteViewSet, basename="record-note")
router.register("records/lab-results", LabResultViewSet, basename="record-lab")
router.register("records/documents", DocumentViewSet, basename="record-document")
urlpatterns = router.urls
