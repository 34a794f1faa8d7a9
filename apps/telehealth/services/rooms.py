"""Rooms and join tokens, through the provider interface (apps/telehealth/providers).

The room is created when the waiting room first opens, by the first configured provider that
succeeds (TELEHEALTH_VIDEO_PROVIDERS in order); the ones that failed are recorded on the
session with why, for staff. Vendor calls happen outside any transaction: the row is locked
only to store the answer."""
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.transitions import lock, record_event
from apps.telehealth.exceptions import NoVideoProvider, SessionClosed
from apps.telehealth.models import TelehealthSession
from apps.telehealth.providers import registry
from apps.telehealth.providers.base import Room

logger = logging.getLogger(__name__)


def room_of(session):
    return Room(provider=session.video_provider, name=session.room_name, sid=session.room_sid)


def _create_with_fallback(name):
    """(Room, [failures]) from the first provider that creates the room; NoVideoProvider when
    none can."""
    failures = []
    for provider in registry.chain():
        if not provider.configured():
            failures.append({"provider": provider.code, "error": "not configured"})
            continue
        try:
            return provider.create_room(name=name), failures
        except Exception as exc:  # any vendor failure: the next provider is tried
            logger.warning("video provider %s failed to create a room: %s", provider.code, type(exc).__name__)
            failures.append({"provider": provider.code, "error": str(exc)[:300] or type(exc).__name__})
    raise NoVideoProvider(extra={"tried": failures})


def session_ensure_room(*, session):
    """The session's room, created now if it has none. Triggers: a "room created" event row
    naming the provider that served it and the ones that failed (staff see both)."""
    if session.video_provider:
        return session
    if not session.is_open:
        raise SessionClosed()
    room, failures = _create_with_fallback(session.room_name)
    with transaction.atomic():
        session = lock(TelehealthSession, session.pk)
        if session.video_provider:  # another request created it meanwhile: keep theirs
            return session
        session.video_provider, session.room_sid = room.provider, room.sid
        session.provider_fallbacks, session.room_created_at = failures, timezone.now()
        session.save(update_fields=["video_provider", "room_sid", "provider_fallbacks", "room_created_at", "updated_at"])
        record_event(session, reason=f"Room created by {session.get_video_provider_display()}", actor_label="system",
                     data={"provider": room.provider, "fallbacks": failures})
    return session


def room_end_quietly(session):
    """Tell the provider the room is over, after commit; a failure is logged, never raised
    (the visit has ended either way and the vendor closes idle rooms itself)."""
    if not session.video_provider:
        return
    room = room_of(session)

    def end():
        try:
            registry.for_code(room.provider).end_room(room=room)
        except Exception as exc:
            logger.warning("video provider %s failed to end room: %s", room.provider, type(exc).__name__)

    transaction.on_commit(end)


def identity_for(user):
    return f"user-{user.pk}"


def join_token(*, session, user, role):
    """A participant token for `user` in the session's room, from the provider that serves
    it, valid TELEHEALTH_TOKEN_TTL_SECONDS."""
    provider = registry.for_code(session.video_provider)
    return provider.participant_token(room=room_of(session), identity=identity_for(user), role=role,
                                      ttl=settings.TELEHEALTH_TOKEN_TTL_SECONDS)
