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


def room_create(session):
    """(Room, [failures]) for the session's room from the first provider that creates it: the
    vendor call, made outside any transaction. Store it with room_store()."""
    return _create_with_fallback(session.room_name)


def room_store(session, room, failures):
    """Store a room made by room_create() on `session`, locked by the caller inside its
    transaction, unless it has one already (another request created it meanwhile: theirs is
    kept). Triggers: a "room created" event row naming the provider that served it and the ones
    that failed (staff see both)."""
    if session.video_provider:
        return session
    session.video_provider, session.room_sid = room.provider, room.sid
    session.provider_fallbacks, session.room_created_at = failures, timezone.now()
    session.save(update_fields=["video_provider", "room_sid", "provider_fallbacks", "room_created_at", "updated_at"])
    record_event(session, reason=f"Room created by {session.get_video_provider_display()}", actor_label="system",
                 data={"provider": room.provider, "fallbacks": failures})
    return session


def session_ensure_room(*, session):
    """The session's room, created now if it has none (room_create, then room_store in a
    transaction of its own)."""
    if session.video_provider:
        return session
    if not session.is_open:
        raise SessionClosed()
    room, failures = room_create(session)
    with transaction.atomic():
        return room_store(lock(TelehealthSession, session.pk), room, failures)


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


def browser_scripts(session):
    """{provider code: {"src", "integrity"[, "error"]}} of the vendor SDKs the call page may
    need: the serving provider's once the room exists, else those of the configured providers
    that could serve it (fallback). The page's script loads only the one its join token names;
    the built-in provider needs none."""
    if session.video_provider:
        candidates = [registry.for_code(session.video_provider)]
    else:
        candidates = [p for p in registry.chain() if p.configured()]
    return {p.code: script for p in candidates if (script := p.browser_script()) is not None}
