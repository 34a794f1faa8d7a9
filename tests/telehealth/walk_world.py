"""The telehealth part of the hostile walk's world (tests/hardening/walk_table.py): a video
visit of the world's patient with the world's provider, starting in a few minutes (its waiting
room is open), the patient in the waiting room. Made on first use and kept on the world."""
from tests.telehealth.factories import session_for, waiting


def telehealth_session(world):
    session = getattr(world, "_telehealth_session", None)
    if session is None:
        session = session_for(world.patient, provider=world.provider)
        waiting(session)
        world._telehealth_session = session
    return session


def session_kwargs(name="session_id"):
    return lambda world: {name: telehealth_session(world).pk}
