from apps.messaging.routing import websocket_urlpatterns as messaging_ws
from apps.scheduling.routing import websocket_urlpatterns as scheduling_ws

websocket_urlpatterns = [*messaging_ws, *scheduling_ws]

from apps.messaging.threads.routing import websocket_urlpatterns as threads_ws  # noqa: E402

websocket_urlpatterns += threads_ws

from apps.telehealth.routing import websocket_urlpatterns as telehealth_ws  # noqa: E402

websocket_urlpatterns += telehealth_ws
