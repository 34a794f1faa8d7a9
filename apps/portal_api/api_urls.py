from django.urls import path

from apps.portal_api import api

urlpatterns = [
    path("portal/profile/", api.ProfileView.as_view(), name="app_profile"),
    path("portal/notification-preferences/", api.PreferencesView.as_view(), name="app_preferences"),
    path("portal/visit-types/", api.VisitTypesView.as_view(), name="app_visit_types"),
    path("portal/availability/", api.AvailabilityView.as_view(), name="app_availability"),
    path("portal/appointments/", api.AppointmentsView.as_view(), name="app_appointments"),
    path("portal/appointments/<uuid:visit_id>/", api.AppointmentView.as_view(), name="app_appointment"),
    path("portal/appointments/<uuid:visit_id>/cancel/", api.AppointmentCancelView.as_view(), name="app_appointment_cancel"),
    path("portal/appointments/<uuid:visit_id>/reschedule/", api.AppointmentRescheduleView.as_view(), name="app_appointment_reschedule"),
    path("portal/notifications/", api.NotificationsView.as_view(), name="app_notifications"),
    path("portal/notifications/unread-count/", api.UnreadCountView.as_view(), name="app_notifications_unread"),
    path("portal/notifications/read-all/", api.NotificationsReadAllView.as_view(), name="app_notifications_read_all"),
    path("portal/notifications/<uuid:notification_id>/read/", api.NotificationReadView.as_view(), name="app_notification_read"),
    path("portal/threads/", api.ThreadsView.as_view(), name="app_threads"),
    path("portal/threads/<uuid:thread_id>/messages/", api.ThreadMessagesView.as_view(), name="app_thread_messages"),
]
