from django.urls import include, path

from apps.messaging import staff_views, views

urlpatterns = [
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/read-all/", views.notification_mark_all_read, name="notification_mark_all_read"),
    path("notifications/<uuid:notification_id>/open/", views.notification_open, name="notification_open"),
    path("staff/messages/outbox/", staff_views.staff_outbox, name="staff_message_outbox"),
    path("", include("apps.messaging.threads.urls")),
]
