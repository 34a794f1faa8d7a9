from django.urls import path

from apps.scheduling import portal_views as views

urlpatterns = [
    path("portal/schedule/", views.schedule_home, name="portal_schedule"),
    path("portal/schedule/request/", views.request_start, name="portal_schedule_request_start"),
    path("portal/schedule/request/walk-in/", views.request_create, {"kind": "walk-in"}, name="portal_schedule_walk_in"),
    path("portal/schedule/request/future/", views.request_create, {"kind": "future"}, name="portal_schedule_request_new"),
    path("portal/schedule/requests/<uuid:request_id>/", views.request_detail, name="portal_schedule_request"),
    path("portal/schedule/requests/<uuid:request_id>/cancel/", views.request_cancel, name="portal_schedule_request_cancel"),
    path("portal/schedule/requests/<uuid:request_id>/offer/", views.offer, name="portal_schedule_offer"),
    path("portal/schedule/book/", views.book, name="portal_schedule_book"),
    path("portal/schedule/book/<uuid:slot_id>/confirm/", views.book_confirm, name="portal_schedule_book_confirm"),
    path("portal/schedule/book/<uuid:slot_id>/release/", views.book_release, name="portal_schedule_book_release"),
    path("portal/schedule/visits/<uuid:visit_id>/", views.visit_detail, name="portal_schedule_visit"),
    path("portal/schedule/visits/<uuid:visit_id>/reschedule/", views.visit_reschedule, name="portal_schedule_reschedule"),
    path("portal/schedule/visits/<uuid:visit_id>/cancel/", views.visit_cancel, name="portal_schedule_visit_cancel"),
]
