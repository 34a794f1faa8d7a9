"""Billing's answers to the floors below: a visit moved to COMPLETED (core's transition
listener, inside the completion's transaction) and a surgical case completed (consents'
case_completed hook, same). Both only call a service."""
from apps.billing.services import charges_for_case, charges_for_visit


def visit_transition(change):
    if change.after == "COMPLETED" and change.kind == "transition":
        charges_for_visit(visit=change.obj, actor=change.actor)


def case_completed(*, case, procedure_codes, billable_items):
    charges_for_case(case=case, procedure_codes=procedure_codes, billable_items=billable_items)
