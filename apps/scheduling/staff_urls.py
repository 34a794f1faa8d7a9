from django.urls import path
from django.views.generic import RedirectView

from apps.scheduling import staff_views as v

urlpatterns = [
    # The section's own address (typed, or trimmed from a longer one) opens the requests board.
    path("staff/scheduling/", RedirectView.as_view(pattern_name="staff_scheduling_board"), name="staff_scheduling"),
    path("staff/scheduling/requests/", v.request_board, name="staff_scheduling_board"),
    path("staff/scheduling/requests/<uuid:request_id>/", v.request_detail, name="staff_scheduling_request"),
    path("staff/scheduling/requests/<uuid:request_id>/triage/", v.request_triage, name="staff_scheduling_request_triage"),
    path("staff/scheduling/requests/<uuid:request_id>/severity/", v.request_override, name="staff_scheduling_request_override"),
    path("staff/scheduling/requests/<uuid:request_id>/review/", v.request_review, name="staff_scheduling_request_review"),
    path("staff/scheduling/requests/<uuid:request_id>/offer/", v.request_offer, name="staff_scheduling_request_offer"),
    path("staff/scheduling/requests/<uuid:request_id>/assign/", v.request_assign, name="staff_scheduling_request_assign"),
    path("staff/scheduling/requests/<uuid:request_id>/cancel/", v.request_cancel, name="staff_scheduling_request_cancel"),
    path("staff/scheduling/review/", v.review_queue, name="staff_scheduling_review"),
    path("staff/scheduling/day/", v.day_schedule, name="staff_scheduling_day"),
    path("staff/scheduling/front-desk/", v.front_desk, name="staff_scheduling_front_desk"),
    path("staff/scheduling/visits/<uuid:visit_id>/", v.visit_detail, name="staff_scheduling_visit"),
    path("staff/scheduling/visits/<uuid:visit_id>/cancel/", v.visit_cancel, name="staff_scheduling_visit_cancel"),
    path("staff/scheduling/visits/<uuid:visit_id>/reschedule/", v.visit_reschedule, name="staff_scheduling_visit_reschedule"),
    path("staff/scheduling/visits/<uuid:visit_id>/<slug:action>/", v.visit_action, name="staff_scheduling_visit_action"),
    path("staff/scheduling/slots/<uuid:slot_id>/block/", v.slot_block, name="staff_scheduling_slot_block"),
    path("staff/scheduling/slots/<uuid:slot_id>/unblock/", v.slot_unblock, name="staff_scheduling_slot_unblock"),
]
