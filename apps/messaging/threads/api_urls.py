from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.messaging.threads.api import NotificationPreferencesView, ThreadViewSet

router = SimpleRouter()
router.register("threads", ThreadViewSet, basename="thread")
urlpatterns = [
    *router.urls,
    path(
        "patients/<uuid:patient_id>/notification-preferences/",
        NotificationPreferencesView.as_view(),
        name="patient_notification_preferences",
    ),
]
