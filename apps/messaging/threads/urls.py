from django.urls import path

from apps.messaging.threads import views

urlpatterns = [
    path("portal/messages/", views.portal_thread_list, name="portal_thread_list"),
    path("portal/messages/new/", views.portal_thread_new, name="portal_thread_new"),
    path("portal/messages/<uuid:thread_id>/", views.portal_thread_detail, name="portal_thread_detail"),
    path("staff/messages/", views.staff_thread_list, name="staff_thread_list"),
    path("staff/messages/new/", views.staff_thread_new, name="staff_thread_new"),
    path("staff/messages/<uuid:thread_id>/", views.staff_thread_detail, name="staff_thread_detail"),
    path("staff/messages/<uuid:thread_id>/assign/", views.staff_thread_assign, name="staff_thread_assign"),
    path("staff/messages/<uuid:thread_id>/status/", views.staff_thread_status, name="staff_thread_status"),
    path("messages/attachments/<uuid:attachment_id>/", views.attachment_download, name="thread_attachment_download"),
]
