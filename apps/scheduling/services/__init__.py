"""Every scheduling write. Import services from here: apps.scheduling.services.<name>."""
from apps.scheduling.services._common import SlotDoesNotFit
from apps.scheduling.services.requests import (
    RequestOutcome,
    offers_expire,
    offers_remind_expiring,
    visit_request_accept_offer,
    visit_request_assign_immediate,
    visit_request_cancel,
    visit_request_create,
    visit_request_create_walk_in,
    visit_request_decline_offer,
    visit_request_offer_slots,
    visit_request_override_severity,
    visit_request_review,
    visit_request_triage,
    waitlist_offer_slot,
)
from apps.scheduling.services.slots import (
    GenerationResult,
    availability_exception_create,
    slot_block,
    slot_unblock,
    slots_generate,
)
from apps.scheduling.services.visits import (
    booking_confirm,
    booking_create,
    booking_hold,
    booking_release,
    create_visit,
    visit_book_for_patient,
    visit_book_once,
    visit_cancel,
    visit_check_in,
    visit_complete,
    visit_confirm,
    visit_for_idempotency_key,
    visit_mark_no_show,
    visit_reschedule,
    visit_start,
)

__all__ = [
    "SlotDoesNotFit", "RequestOutcome", "GenerationResult",
    "slots_generate", "availability_exception_create", "slot_block", "slot_unblock",
    "visit_request_create", "visit_request_create_walk_in", "visit_request_triage", "visit_request_override_severity",
    "visit_request_review", "visit_request_cancel", "visit_request_offer_slots", "visit_request_accept_offer",
    "visit_request_decline_offer", "visit_request_assign_immediate", "offers_expire", "offers_remind_expiring",
    "waitlist_offer_slot",
    "booking_hold", "booking_confirm", "booking_create", "booking_release", "visit_for_idempotency_key", "create_visit",
    "visit_check_in", "visit_start", "visit_complete", "visit_mark_no_show", "visit_cancel", "visit_reschedule",
    "visit_book_for_patient", "visit_book_once", "visit_confirm",
]
