from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.telehealth.api import QueueView, TelehealthSessionViewSet

router = SimpleRouter()
router.register("telehealth/sessions", TelehealthSessionViewSet, basename="telehealth-session")

urlpatterns = [
    path("telehealth/queue/", QueueView.as_view(), name="telehealth-queue"),
    *router.urls,
]
