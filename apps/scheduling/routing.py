from django.urls import path

from apps.scheduling.consumers import StaffBoardConsumer, WalkInQueueConsumer

websocket_urlpatterns = [
    path("ws/staff/board/", StaffBoardConsumer.as_asgi()),
    path("ws/staff/queue/<uuid:location_id>/", WalkInQueueConsumer.as_asgi()),
]
