from django.urls import path

from apps.telehealth.consumers import QueueConsumer, SessionRoomConsumer, SignalConsumer

websocket_urlpatterns = [
    path("ws/telehealth/<uuid:session_id>/room/", SessionRoomConsumer.as_asgi()),
    path("ws/telehealth/<uuid:session_id>/signal/", SignalConsumer.as_asgi()),
    path("ws/staff/telehealth/queue/", QueueConsumer.as_asgi()),
]
