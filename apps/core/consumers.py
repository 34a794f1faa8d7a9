"""The base of every WebSocket consumer of the clinic."""
from channels.generic.websocket import AsyncJsonWebsocketConsumer

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class ClinicJsonConsumer(AsyncJsonWebsocketConsumer):
    """JSON over WebSockets with refusals a browser can read.

    A subclass authenticates in connect() and calls refuse(code) to turn someone away, or
    accept() and sets `self.admitted = True`. Client frames reach receive_json() only on an
    admitted socket, as a dict; binary or malformed frames get an error frame instead of
    dropping the connection (1011)."""

    admitted = False

    async def refuse(self, code):
        # Accept, then close with the code: a close before accept turns into an HTTP 403 on
        # the handshake, which browsers report as 1006, so the page could not tell "signed
        # out" (4401) or "second factor missing" (4403) from a network error and would keep
        # reconnecting.
        await self.accept()
        await self.close(code=code)

    async def send_error(self, code, message):
        await self.send_json({"type": "error", "code": code, "message": message})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not self.admitted:  # refused in connect(), closing
            return
        try:
            if text_data is None:
                raise ValueError("binary frame")
            content = await self.decode_json(text_data)
        except ValueError:
            await self.send_error("invalid_json", "Send JSON text frames.")
            return
        await self.receive_json(content if isinstance(content, dict) else {}, **kwargs)
