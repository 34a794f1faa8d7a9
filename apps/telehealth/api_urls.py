from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.telehealth.api import QueueView, RecordingViewSet, TelehealthSessionViewSet

router = SimpleRouter()
router.register("telehealth/sessions", TelehealthSessionViewSet, basename="telehealth-session")
router.register("telehealth/recordings", RecordingViewSet, basename="telehealth-recording")

urlpatterns = [
    path("telehealth/queue/", QueueView.as_view(), name="telehealth-queue"),
    *router.urls,
]
