"""Who may see and change scheduling's rows (core's access layer, apps/core/access.py).

Patients own their requests and visits; staff act by the model permission of each action
(apps/accounts/roles.py), after their second factor; integrators' API keys by scope
(scheduling:read / scheduling:write), and never for a clinical decision (triage, review,
severity override: no scope). The actions beyond view/change are the API's action kinds
(apps/scheduling/api.py), so the endpoint check (ClinicAccess) and the object check ask the
same question."""
from apps.core import access
from apps.scheduling.models import Visit, VisitRequest, VisitSlot

READ = "scheduling:read"
WRITE = "scheduling:write"

# Actions on a visit request besides view / change.
TRIAGE, REVIEW, OVERRIDE, OFFER = "triage", "review", "override", "offer"


def register():
    access.register(
        VisitRequest,
        own=lambda queryset, patient: queryset.filter(patient=patient),
        perms={
            access.VIEW: "scheduling.view_visitrequest",
            access.CHANGE: "scheduling.change_visitrequest",
            TRIAGE: "scheduling.triage_visitrequest",
            REVIEW: "scheduling.review_visitrequest",
            OVERRIDE: "scheduling.override_severity_visitrequest",
            OFFER: "scheduling.offer_slots_visitrequest",
        },
        scopes={access.VIEW: READ, access.CHANGE: WRITE, OFFER: WRITE},
    )
    access.register(
        Visit,
        own=lambda queryset, patient: queryset.filter(patient=patient),
        perms={access.VIEW: "scheduling.view_visit", access.CHANGE: "scheduling.change_visit"},
        scopes={access.VIEW: READ, access.CHANGE: WRITE},
    )
    # A slot is a time the clinic offers, with no PHI: every patient may look one up (to book
    # it, or to be told it was just taken); changing one is staff and integrator work.
    access.register(
        VisitSlot,
        own=lambda queryset, patient: queryset,
        perms={access.VIEW: "scheduling.view_visitslot", access.CHANGE: "scheduling.change_visitslot"},
        scopes={access.VIEW: READ, access.CHANGE: WRITE},
        patient_actions=(access.VIEW,),
    )
