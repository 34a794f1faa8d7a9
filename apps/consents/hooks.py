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
# deposit, for billing): a list of {"code", "label", "instructions", "required", "source"} or
# None; "done_at" (and "note") when the requirement is already met at approval (a deposit paid
# before it). After approval the app adds one through services.preop_item_add, and marks its
# item done through services.preop_item_complete(source=<its source>): an item an app added is
# done only by that app (staff cannot tick a deposit as paid).
preop_requirements = Hook("preop_requirements", "(*, plan) -> [{code, label, instructions, required, source}] or None")

# The billing stages of a patient's workflow (13 invoice generated, 14 payment received) for a
# plan: {"INVOICE_GENERATED": value, "PAYMENT_RECEIVED": value} or None, where a value is a
# datetime (the stage's completion), None, or {"completed_at": datetime or None, "detail": str}
# (what the timeline shows beside the stage: the invoice's number and state, what is paid).
# Called once per plan: an answer costs at most a fixed number of queries, whatever the rows.
# Until billing connects, both stages show as pending.
workflow_billing = Hook("workflow_billing", "(*, plan) -> {stage: datetime, None or {completed_at, detail}} or None")
