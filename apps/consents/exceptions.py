"""The consents app's domain errors (subclasses of core's DomainError). A step taken out of the
chronology is a Conflict (409) whose stable code names what is missing."""
from apps.core.exceptions import Conflict, DomainError, PermissionDenied


class OutOfOrder(Conflict):
    """A step of the chronology was tried before the step it needs: `code` names what is missing
    (consultation_not_completed, plan_not_approved, consent_not_signed, preop_incomplete...)."""

    default_code = "out_of_order"
    default_message = "An earlier step of the workflow is missing."


class PlanFrozen(Conflict):
    default_code = "plan_frozen"
    default_message = ("This plan is no longer a draft: its clinical content cannot change. "
                       "Create a new version to change it.")


class TemplatePublished(Conflict):
    default_code = "template_published"
    default_message = "A published consent template never changes. Create a new version instead."


class NotPlanSurgeon(PermissionDenied):
    default_code = "not_plan_surgeon"
    default_message = "Only the plan's surgeon can approve it."


class SecondFactorRequired(PermissionDenied):
    default_code = "second_factor_required"
    default_message = "Approving a plan needs a verified second factor."


class StepUpRequired(DomainError):
    """Not a PermissionDenied on purpose: the signing page shows it on its form (core.pages
    answers PermissionDenied with the 403 page whatever the view asked)."""

    status_code = 403
    default_code = "step_up_required"
    default_message = "Please confirm it is you (your password, or your authenticator code) just before signing."


class SigningIncomplete(DomainError):
    """400: the signing form breaks a rule (a clause not acknowledged, a wrong answer, a name
    that does not match, a signature that is not a real image)."""

    default_code = "signing_incomplete"
    default_message = "The consent cannot be signed yet."


class ConsentNotValid(Conflict):
    """The consent a dependent action relies on fails verification: not signed, expired,
    revoked, or its stored document does not match its hash (consent_tampered)."""

    default_code = "consent_not_valid"
    default_message = "The consent does not verify."


class TheatreUnavailable(Conflict):
    default_code = "theatre_unavailable"
    default_message = "The room or the surgeon is already booked at that time."
