"""Who may see and change the patients app's rows (core's access layer, apps/core/access.py)."""
from apps.core import access
from apps.patients.models import DuplicateGroup, DuplicateReview, Patient


def register():
    access.register(
        Patient,
        own=lambda queryset, patient: queryset.filter(pk=patient.pk),
        perms={access.VIEW: "patients.view_patient", access.CHANGE: "patients.change_patient"},
        scopes={access.VIEW: "patients:read", access.CHANGE: "patients:write"},
    )
    # Staff work only: a patient never sees the review of their own possible duplicate.
    for model in (DuplicateReview, DuplicateGroup):
        access.register(
            model,
            perms={access.VIEW: "patients.change_duplicatereview", access.CHANGE: "patients.change_duplicatereview"},
        )
