"""Scheduling's domain errors; all subclasses of the shared DomainError."""
from apps.core.exceptions import Conflict, DomainError


class NotAllowed(DomainError):
    """403 for a scheduling rule about who may do this (only a provider reviews, a patient books
    online only self-bookable GREEN visits, only the clinic books for a patient), explained on
    the page that asked. Deliberately not core's PermissionDenied: core's page path answers that
    with the bare 403 page whatever the view asked for (apps/core/pages.py), and these pages
    have always said why. The API answers both alike: 403 with the error's code."""

    status_code = 403
    default_code = "not_allowed"
    default_message = "This is not something you can do here."


class SlotUnavailable(Conflict):
    default_code = "slot_unavailable"
    default_message = "That time is no longer available. Please choose another slot."


class OfferExpired(Conflict):
    default_code = "offer_expired"
    default_message = "This offer has expired. The time is no longer held for you; please ask for new times."


class OfferNotOpen(Conflict):
    default_code = "offer_not_open"
    default_message = "This offer is no longer open (it expired, was declined or was already accepted)."


class HoldExpired(Conflict):
    default_code = "hold_expired"
    default_message = "Your hold on this time has expired. Please choose the time again."


class EmergencyCareRequired(DomainError):
    """RED severity: nothing may be scheduled. The patient must seek emergency care now."""

    default_code = "emergency_care_required"
    default_message = (
        "This request was triaged as an emergency (RED): it cannot be scheduled. "
        "The patient must call 911 or go to the nearest emergency department now."
    )


class ReviewRequired(Conflict):
    default_code = "provider_review_required"
    default_message = "A provider must review this ORANGE request before slots are offered."


class CancellationWindowClosed(DomainError):
    default_code = "inside_cancellation_window"
    default_message = "This visit starts too soon to be cancelled or moved online. Please call the clinic."


class IdempotencyKeyReused(Conflict):
    default_code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used for a different booking."
