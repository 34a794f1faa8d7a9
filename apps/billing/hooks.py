"""Billing's extension points for the apps that sit beside it (telehealth), so billing never
needs them to exist (apps/core/hooks.py)."""
from apps.core.hooks import Hook

# A visit was completed and billing is about to charge it (inside the completion's
# transaction): a telehealth app answers the place of service and modifiers of its session,
# {"place_of_service": "02" or "10", "modifiers": ["95"]}, or None for a visit it did not run.
# With no answer, a VIRTUAL visit is billed as telehealth in the patient's home (10, 95) and an
# in-person one at the office (11).
visit_billing_context = Hook(
    "visit_billing_context",
    "(*, visit) -> {'place_of_service': str, 'modifiers': [str]} or None, inside the completion's transaction",
)
