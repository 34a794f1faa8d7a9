"""The consents app's data: procedure plans (plans.py), consent templates and consents
(consents.py), surgical cases, theatre bookings and case items (cases.py). Every status has a
TRANSITIONS table and an event model subclassing core's TransitionEvent; only
apps/consents/services changes these rows."""
from apps.consents.models.cases import (
    AnaesthesiaType, CaseEvent, CaseItem, OperatingRoom, SurgicalCase, TheatreBooking,
)
from apps.consents.models.consents import US_STATES, ConsentEvent, ConsentForm, ConsentKind, ConsentTemplate
from apps.consents.models.plans import (
    ConsultationVisitType, PlanEvent, PreOpItem, PreOpRequirement, ProcedureLine, ProcedurePlan,
    validate_procedure_code,
)

__all__ = [
    "AnaesthesiaType", "CaseEvent", "CaseItem", "OperatingRoom", "SurgicalCase", "TheatreBooking",
    "US_STATES", "ConsentEvent", "ConsentForm", "ConsentKind", "ConsentTemplate",
    "ConsultationVisitType", "PlanEvent", "PreOpItem", "PreOpRequirement", "ProcedureLine", "ProcedurePlan",
    "validate_procedure_code",
]
