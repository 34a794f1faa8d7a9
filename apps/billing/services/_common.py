"""Helpers shared by the billing services."""
from apps.core.transitions import transition


def move(obj, to, *, actor=None, reason="", data=None, **fields):
    """Move a row the caller has locked (core.transitions.lock) to `to` through core's one
    helper: the model's table decides (InvalidTransition, 409), then the save, the event row,
    the audit entry."""
    return transition(obj, to, actor=actor, reason=reason, data=data, fields=fields, locked=True)


def user_actor(actor):
    """The user for *_by fields: None for an API key or a system job."""
    if getattr(actor, "pk", None) and getattr(actor, "is_authenticated", False) and not hasattr(actor, "has_scope"):
        return actor
    return None
