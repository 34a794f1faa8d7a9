from rest_framework.routers import SimpleRouter

from apps.scheduling.api import ProviderViewSet, SlotViewSet, VisitRequestViewSet, VisitTypeViewSet, VisitViewSet

router = SimpleRouter()
router.register("providers", ProviderViewSet, basename="provider")
router.register("visit-types", VisitTypeViewSet, basename="visit-type")
router.register("slots", SlotViewSet, basename="slot")
router.register("visit-requests", VisitRequestViewSet, basename="visit-request")
router.register("visits", VisitViewSet, basename="visit")
urlpatterns = router.urls
