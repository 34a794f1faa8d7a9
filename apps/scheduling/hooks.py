"""The scheduling app's extension points for the floors above it (connected in their
AppConfig.ready(); apps/core/hooks.py). Scheduling never imports them."""
from apps.core.hooks import Hook

# Links that apps above add to the staff visit page (/staff/scheduling/visits/<id>/), e.g. the
# records app's note editor. receiver(*, request, visit) -> {"label": str, "text": str, "url": str}
# or None
# (None: nothing to offer this user). A link carries no patient data, so nothing is audited.
staff_visit_links = Hook("staff_visit_links", "(*, request, visit) -> {label, text, url} or None")

# What the patient will likely pay for a visit, shown on the portal's booking confirmation and
# accept-an-offer pages before the final POST (billing answers from the fee schedule and a fresh
# eligibility result). receiver(*, patient, visit_type, slot, actor) ->
# {"patient_amount": Decimal, "fee": Decimal, "basis": "copay" | "deductible_coinsurance" |
# "self_pay", "explanation": str} or None (nothing to show). No receiver: no estimate box. The
# pages call it through portal_views._booking_estimate, which shows nothing if a receiver raises.
booking_estimate = Hook(
    "booking_estimate",
    "(*, patient, visit_type, slot, actor) -> {patient_amount, fee, basis, explanation} or None",
)
