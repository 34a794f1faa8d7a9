from django.urls import path

from apps.scheduling.consumers import StaffBoardConsumer

websocket_urlpatterns = [
    path("ws/staff/board/", StaffBoardConsumer.as_asgi()),
]
