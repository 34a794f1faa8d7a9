"""The consents app's extension points for the floors above it (billing, telehealth), connected
in their AppConfig.ready() (apps/core/hooks.py). Consents never imports them."""
from apps.core.hooks import Hook

# A surgical case was completed (inside the completion's transaction): billing builds the
# invoice from it. procedure_codes: the plan's lines [{"code", "description", "site", "side",
# "estimated_fee"}]; billable_items: the case items marked billable [{"kind", "name",
# "manufacturer", "lot_number", "serial_number", "quantity", "billing_code"}] (fees as strings).
case_completed = Hook(
    "case_completed",
    "(*, case, procedure_codes, billable_items) -> None, inside the completion's transaction",
)

# Pre-op requirements an app above adds to a plan's checklist when the surgeon approves it (a
# deposit, for billing): a list of {"code", "label", "instructions", "required"} or None. The
# app marks its item done through services.preop_item_complete.
preop_requirements = Hook("preop_requirements", "(*, plan) -> [{code, label, instructions, required}] or None")

# The billing stages of a patient's workflow (13 invoice generated, 14 payment received) for a
# plan: {"INVOICE_GENERATED": datetime or None, "PAYMENT_RECEIVED": datetime or None} or None.
# Until billing connects, both stages show as pending.
workflow_billing = Hook("workflow_billing", "(*, plan) -> {stage: datetime or None} or None")
