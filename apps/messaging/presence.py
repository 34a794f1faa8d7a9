"""Live presence: which patients and which staff have a socket open right now (README "Patient
app API", "Live presence"). Staff see it on the board (/ws/staff/board/) and in the messages
socket (/ws/messages/); typing is the messages socket's own event (thread.typing).

Who counts as online: a person with at least one open socket among the board, the messages
socket and the notifications socket (where the phone app connects). Each open socket keeps an
entry {channel name: expiry} under its person in the cache (Redis in production, shared by
every server process) and renews it every TTL/3 seconds while it is open; closing the socket
removes it at once, and a server process that dies stops renewing, so its sockets expire
after PRESENCE_TTL_SECONDS. The person's first socket opening and last one closing are sent
to the sockets that asked to watch presence ({"action": "presence"}: a snapshot, then
changes) as {"type": "presence", "kind": "patient"|"staff", "id": ..., "online": bool}.
Ids only, never a name: the page already knows whom an id names. Only staff sockets may
watch presence.

Two sockets of one person opening at the same instant on two processes may race on the
cache entry; the loser's renewal restores it within TTL/3 seconds."""
import asyncio
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

GROUP = "presence.watchers"
PATIENT, STAFF = "patient", "staff"
INDEX_KEY = "presence:index"


def ttl_seconds():
    return getattr(settings, "PRESENCE_TTL_SECONDS", 90)


def _key(kind, pk):
    return f"presence:{kind}:{pk}"


def _live(entries, now):
    return {name: expiry for name, expiry in (entries or {}).items() if expiry > now}


def connection_open(kind, pk, channel):
    """Count `channel` as one open socket of the person (or renew it); True when the person
    was offline until now."""
    now, ttl = time.time(), ttl_seconds()
    key = _key(kind, pk)
    sockets = _live(cache.get(key), now)
    came_online = not sockets
    sockets[channel] = now + ttl
    cache.set(key, sockets, ttl)
    index = _live(cache.get(INDEX_KEY), now)
    index[f"{kind}:{pk}"] = now + ttl
    cache.set(INDEX_KEY, index, None)
    return came_online


def connection_close(kind, pk, channel):
    """Forget `channel`; True when it was the person's last open socket."""
    now = time.time()
    key = _key(kind, pk)
    sockets = _live(cache.get(key), now)
    sockets.pop(channel, None)
    index = _live(cache.get(INDEX_KEY), now)
    if sockets:
        cache.set(key, sockets, ttl_seconds())
    else:
        cache.delete(key)
        index.pop(f"{kind}:{pk}", None)
    cache.set(INDEX_KEY, index, None)
    return not sockets


def online_now():
    """{"patients": [ids], "staff": [ids]} of everyone with a socket that has not expired."""
    found = {PATIENT: [], STAFF: []}
    for name in sorted(_live(cache.get(INDEX_KEY), time.time())):
        kind, _, pk = name.partition(":")
        if kind in found:
            found[kind].append(pk)
    return {"patients": found[PATIENT], "staff": found[STAFF]}


class PresenceMixin:
    """For a ClinicJsonConsumer: presence_open(kind, id) once admitted, presence_close() on
    disconnect, presence_watch() when a staff client asks ({"action": "presence"})."""

    presence_person = None
    presence_watching = False
    _presence_renewal = None

    async def _presence_changed(self, kind, pk, online):
        await self.channel_layer.group_send(GROUP, {"type": "presence.changed", "kind": kind, "id": str(pk), "online": online})

    async def presence_open(self, kind, pk):
        self.presence_person = (kind, str(pk))
        if await sync_to_async(connection_open)(kind, pk, self.channel_name):
            await self._presence_changed(kind, pk, True)
        self._presence_renewal = asyncio.ensure_future(self._presence_renew())

    async def _presence_renew(self):
        while True:
            await asyncio.sleep(ttl_seconds() / 3)
            await sync_to_async(connection_open)(*self.presence_person, self.channel_name)

    async def presence_close(self):
        if self._presence_renewal is not None:
            self._presence_renewal.cancel()
            self._presence_renewal = None
        if self.presence_watching:
            self.presence_watching = False
            await self.channel_layer.group_discard(GROUP, self.channel_name)
        if self.presence_person is not None:
            kind, pk = self.presence_person
            self.presence_person = None
            if await sync_to_async(connection_close)(kind, pk, self.channel_name):
                await self._presence_changed(kind, pk, False)

    async def presence_watch(self):
        if not self.presence_watching:
            self.presence_watching = True
            await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.send_json({"type": "presence.snapshot", **await sync_to_async(online_now)()})

    async def presence_changed(self, event):
        if not self.presence_watching or not await self.still_allowed():
            return
        await self.send_json({"type": "presence", "kind": event.get("kind"), "id": event.get("id"),
                              "online": bool(event.get("online"))})
