"""Who may see and change the consents app's rows (core's access layer, apps/core/access.py).

Patients see their own plans, consents and cases (404 for anyone else's), and change only their
own consents (save progress, sign, decline, revoke); plans and cases are read-only to them.
Staff act by the model permission of each action (apps/consents/roles.py), after their second
factor; integrators' API keys by scope (consents:read / consents:write), and never for a
clinical decision (approving a plan: no scope) or a signature (the portal only). The actions
beyond view/change are named alike by the API's action kinds (apps/consents/api.py)."""
from apps.core import access
from apps.consents.models import (
    CaseItem, ConsentForm, ConsentTemplate, OperatingRoom, PreOpItem, ProcedurePlan, SurgicalCase, TheatreBooking,
)

READ = "consents:read"
WRITE = "consents:write"

# Actions besides view / change.
CREATE, APPROVE, SEND, REVOKE, VERIFY = "create", "approve", "send", "revoke", "verify"


def _own(queryset, patient):
    return queryset.filter(patient=patient)


def register():
    access.register(
        ProcedurePlan,
        own=_own,
        perms={access.VIEW: "consents.view_procedureplan", access.CHANGE: "consents.change_procedureplan",
               CREATE: "consents.add_procedureplan", APPROVE: "consents.approve_procedureplan"},
        scopes={access.VIEW: READ, access.CHANGE: WRITE, CREATE: WRITE},
        patient_actions=(access.VIEW,),
    )
    access.register(
        ConsentForm,
        own=_own,
        perms={access.VIEW: "consents.view_consentform", access.CHANGE: "consents.change_consentform",
               SEND: "consents.send_consentform", REVOKE: "consents.revoke_consentform",
               VERIFY: "consents.verify_consentform"},
        scopes={access.VIEW: READ, SEND: WRITE, REVOKE: WRITE, VERIFY: READ},
        patient_actions=(access.VIEW, access.CHANGE),
    )
    access.register(
        SurgicalCase,
        own=_own,
        perms={access.VIEW: "consents.view_surgicalcase", access.CHANGE: "consents.change_surgicalcase",
               CREATE: "consents.add_surgicalcase"},
        scopes={access.VIEW: READ, access.CHANGE: WRITE, CREATE: WRITE},
        patient_actions=(access.VIEW,),
    )
    access.register(
        PreOpItem,
        own=lambda queryset, patient: queryset.filter(plan__patient=patient),
        perms={access.VIEW: "consents.view_preopitem", access.CHANGE: "consents.change_preopitem"},
        scopes={access.VIEW: READ, access.CHANGE: WRITE},
        patient_actions=(access.VIEW,),
    )
    access.register(
        CaseItem,
        own=lambda queryset, patient: queryset.filter(case__patient=patient),
        perms={access.VIEW: "consents.view_caseitem", access.CHANGE: "consents.add_caseitem"},
        scopes={access.VIEW: READ, access.CHANGE: WRITE},
        patient_actions=(access.VIEW,),
    )
    access.register(
        TheatreBooking,
        own=lambda queryset, patient: queryset.filter(case__patient=patient),
        perms={access.VIEW: "consents.view_theatrebooking", access.CHANGE: "consents.add_theatrebooking"},
        scopes={access.VIEW: READ, access.CHANGE: WRITE},
        patient_actions=(access.VIEW,),
    )
    # No PHI: a patient may read the published texts (the one they are asked to sign).
    access.register(
        ConsentTemplate,
        own=lambda queryset, patient: queryset.filter(published_at__isnull=False),
        perms={access.VIEW: "consents.view_consenttemplate", access.CHANGE: "consents.change_consenttemplate"},
        scopes={access.VIEW: READ},
        patient_actions=(access.VIEW,),
    )
    access.register(
        OperatingRoom,
        perms={access.VIEW: "consents.view_operatingroom", access.CHANGE: "consents.change_operatingroom"},
        scopes={access.VIEW: READ},
    )
