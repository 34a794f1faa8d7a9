"""Two-way SMS actions about visits: a texted C/YES confirms and X/CANCEL cancels the patient's
next planned visit. apps/messaging/two_way.py calls these through its sms_confirm / sms_cancel
hooks (connected in apps/scheduling/apps.py), inside the transaction that
records the inbound SMS; each returns the answer SMS (queued once per inbound MessageSid).

The answer names only the visit time and place (no reason, no provider notes): it goes to a
phone that may be shared or read by others."""
import logging

from django.conf import settings

from apps.core.exceptions import DomainError
from apps.scheduling import selectors, services
from apps.scheduling.exceptions import CancellationWindowClosed
from apps.scheduling.models import Mode
from apps.scheduling.services._common import local_text

log = logging.getLogger(__name__)


def _actor_of(patient):
    return patient.user if patient.user_id else None


def _when_where(visit):
    where = "" if visit.mode == Mode.VIRTUAL else f" at {visit.location.name}"
    return f"{local_text(visit.start, visit.location)}{where}"


def _phone_for(visit=None):
    return (visit.location.phone if visit is not None else "") or settings.CLINIC_PHONE


def _none_found(action):
    return (f"{settings.CLINIC_NAME}: we could not find an upcoming visit to {action}. "
            f"Call {settings.CLINIC_PHONE} for help.")


def sms_confirm_next_visit(*, patient, inbound):
    """C / YES: record that the patient confirmed their next PLANNED visit (visit_confirm)
    and answer with its time."""
    visit = selectors.next_planned_visit(patient)
    if visit is None:
        return _none_found("confirm")
    try:
        services.visit_confirm(visit=visit, actor=_actor_of(patient), as_patient=patient, source="sms")
    except DomainError:  # it changed since we looked (cancelled, started): say so
        log.info("SMS confirm of visit %s refused", visit.pk, exc_info=True)
        return _none_found("confirm")
    return (f"{settings.CLINIC_NAME}: thank you, your visit on {_when_where(visit)} is confirmed. "
            f"Reply X to cancel.")


def sms_cancel_next_visit(*, patient, inbound):
    """X / CANCEL: cancel the patient's next PLANNED visit as the patient (visit_cancel with
    patient rules). Inside the cancellation window it is refused and the answer gives the
    clinic's phone number instead."""
    visit = selectors.next_planned_visit(patient)
    if visit is None:
        return _none_found("cancel")
    try:
        services.visit_cancel(visit=visit, actor=_actor_of(patient), as_patient=patient, by_sms=True,
                              reason="Cancelled by the patient by text message")
    except CancellationWindowClosed:
        return (f"{settings.CLINIC_NAME}: your visit on {_when_where(visit)} is less than "
                f"{settings.SCHEDULING_CANCELLATION_WINDOW_HOURS} hours away and cannot be cancelled by text. "
                f"Please call {_phone_for(visit)}.")
    except DomainError:
        log.info("SMS cancel of visit %s refused", visit.pk, exc_info=True)
        return _none_found("cancel")
    return (f"{settings.CLINIC_NAME}: your visit on {_when_where(visit)} is cancelled. "
            f"To book again, use your patient portal or call {_phone_for(visit)}.")
