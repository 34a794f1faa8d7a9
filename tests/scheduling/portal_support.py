"""Helpers for the portal schedule page tests (test_views_portal_*.py)."""
from apps.scheduling import services


def book(patient, slot, visit_type):
    """A PLANNED visit of `patient` in `slot` (through the booking service)."""
    return services.booking_create(patient=patient, slot=slot, visit_type=visit_type)


def offer(request, slots, actor, **kwargs):
    """Staff offer `slots` for the TRIAGED `request`."""
    return services.visit_request_offer_slots(request=request, slots=slots, actor=actor, **kwargs)


STAFF_ROLES = ["front_desk", "nurse", "provider_user", "billing_user", "clinic_admin"]
