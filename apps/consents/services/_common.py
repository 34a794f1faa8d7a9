"""Helpers shared by the consents services: moves through core's transition helper, the
notifications (in-app, and SMS/email through messaging's outbox with PHI-free words), links."""
from apps.accounts.selectors import staff_in_roles
from apps.core.transitions import transition
from apps.messaging.models import Channel
from apps.messaging.services import message_enqueue, notify, notify_many

# Who hears of a declined or revoked consent besides the plan's surgeon.
CONSENT_ALERT_ROLES = ("nurse",)


def move(obj, to, *, actor=None, reason="", data=None, actor_label="", **fields):
    """Move a row the caller has locked (core.transitions.lock) to `to`: the model's table
    decides (InvalidTransition, 409), then the save, the event row and the audit entry."""
    return transition(obj, to, actor=actor, reason=reason, data=data, fields=fields, locked=True,
                      actor_label=actor_label)


def user_actor(actor):
    """The user for *_by fields: None for an API key or a system job."""
    return actor if getattr(actor, "pk", None) and getattr(actor, "is_authenticated", False) and not hasattr(actor, "has_scope") else None


def consent_link(consent):
    return f"/portal/consents/{consent.pk}/"


def staff_consent_link(consent):
    return f"/staff/surgery/consents/{consent.pk}/"


def plan_link(plan):
    return f"/portal/plans/{plan.pk}/"


def notify_patient(patient, *, kind, title, body="", link="", outbox_key=None, context=None, urgent=False):
    """The patient's in-app notification (when they have a portal login) and, with `outbox_key`,
    the same event by SMS and email through the outbox (once per key; the words come from the
    MessageTemplate of `kind`, rendered with PHI-free context only)."""
    notification = None
    if patient.user_id:
        notification = notify(user=patient.user, kind=kind, title=title, body=body, link=link)
    if outbox_key:
        message_enqueue(kind=kind, patient=patient, user=patient.user if patient.user_id else None,
                        channels=(Channel.SMS, Channel.EMAIL), context=context, link=link, urgent=urgent,
                        dedupe_key=outbox_key)
    return notification


def notify_care_team(*, surgeon, kind, title, body="", link="", roles=CONSENT_ALERT_ROLES):
    """An in-app alert to the plan's surgeon and the staff in `roles` (no patient name in the
    title: it shows in toasts)."""
    users = {surgeon.user_id: surgeon.user} if surgeon is not None else {}
    for user in staff_in_roles(roles):
        users.setdefault(user.pk, user)
    return notify_many(users=list(users.values()), kind=kind, title=title, body=body, link=link, urgent=False)
