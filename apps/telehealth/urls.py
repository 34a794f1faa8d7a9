from django.urls import path

from apps.telehealth import views

urlpatterns = [
    path("portal/telehealth/", views.session_list, name="portal_telehealth"),
    path("portal/telehealth/<uuid:session_id>/", views.waiting_room, name="portal_telehealth_room"),
    path("portal/telehealth/<uuid:session_id>/consents/", views.sign_consents, name="portal_telehealth_consents"),
    path("telehealth/download-check/", views.download_check, name="telehealth_download_check"),
    path("staff/telehealth/queue/", views.queue, name="staff_telehealth_queue"),
    path("staff/telehealth/<uuid:session_id>/admit/", views.admit, name="staff_telehealth_admit"),
    path("staff/telehealth/<uuid:session_id>/running-late/", views.running_late, name="staff_telehealth_running_late"),
    path("staff/telehealth/<uuid:session_id>/call/", views.call, name="staff_telehealth_call"),
    path("staff/telehealth/<uuid:session_id>/rebook/", views.rebook, name="staff_telehealth_rebook"),
    path("telehealth/webhooks/<slug:provider>/", views.webhook, name="telehealth_webhook"),
]
