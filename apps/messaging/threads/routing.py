from django.urls import path

from apps.messaging.threads.consumers import ThreadConsumer

websocket_urlpatterns = [
    path("ws/messages/", ThreadConsumer.as_asgi()),
]
