"""Helpers shared by the records services: moves through core's transition helper, model
validation turned into field errors, and the patient's notifications (in-app, and SMS/email
through messaging's outbox with PHI-free words)."""
from django.core.exceptions import ValidationError
from django.db import models

from apps.core.exceptions import ValidationFailed
from apps.core.transitions import transition
from apps.core.validation import text_problem
from apps.messaging.models import Channel
from apps.messaging.services import message_enqueue, notify


def move(obj, to, *, actor=None, reason="", data=None, **fields):
    """Move a row the caller has locked (core.transitions.lock) to `to`: the model's table
    decides (InvalidTransition, 409), then the save, the event row and the audit entry."""
    actor_label = getattr(actor, "name", "") if hasattr(actor, "has_scope") else ""
    return transition(obj, to, actor=actor, reason=reason, data=data, fields=fields, locked=True,
                      actor_label=actor_label)


def user_actor(actor):
    """The user for *_by fields: None for an API key or a system job."""
    if hasattr(actor, "has_scope") or not getattr(actor, "is_authenticated", False):
        return None
    return actor if getattr(actor, "pk", None) else None


def validated(obj, *, exclude=None):
    """`obj` after the model's own validation (lengths, choices, ICD-10/LOINC shapes) and the
    shared hostile-text rule (no NUL, no unpaired surrogate: PostgreSQL refuses both), as
    ValidationFailed (400 naming each field) rather than a database error. The forms and the
    API call the same services, so both refuse the same input with the same words."""
    errors = {}
    for field in obj._meta.concrete_fields:
        if isinstance(field, (models.CharField, models.TextField)):
            value = getattr(obj, field.attname)
            problem = text_problem(value) if isinstance(value, str) else None
            if problem:
                errors[field.name] = [problem]
    try:
        obj.full_clean(exclude=[*(exclude or ()), *errors], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)
    return obj


def notify_patient(patient, *, kind, title, link, outbox_key):
    """The patient's in-app notification (when they have a portal login) and the same event by
    SMS and email through the outbox, once per `outbox_key`. The words of SMS and email come
    from the MessageTemplate of `kind` (migration 0003), with no PHI: only that something new
    waits in the portal. Call inside the causing transaction."""
    if patient.user_id:
        notify(user=patient.user, kind=kind, title=title, link=link)
    message_enqueue(kind=kind, patient=patient, user=patient.user if patient.user_id else None,
                    channels=(Channel.SMS, Channel.EMAIL), link=link, dedupe_key=outbox_key)
