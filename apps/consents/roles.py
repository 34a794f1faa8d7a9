"""The consents permissions of each staff role. accounts.roles.ROLE_PERMISSIONS is the one table
ensure_roles() writes; this app adds its rows to it from AppConfig.ready() (before post_migrate
and seed_demo call ensure_roles), so accounts names no model of the floors above it.

Providers plan, approve (their own plans only, checked by the service), send consents and run
cases; nurses prepare the case (pre-op checklist, theatre, consumables) and send consents; the
front desk sends consents and reads the workflow; billing reads plans, cases and what was used
(the quote and the billable items), never the consent texts' answers; admins everything,
including the templates, rooms and pre-op catalogue."""
from apps.accounts.roles import BILLING, CLINIC_ADMIN, FRONT_DESK, NURSE, PROVIDER, ROLE_PERMISSIONS

_READ = [
    "consents.view_procedureplan", "consents.view_consentform", "consents.view_surgicalcase",
    "consents.view_consenttemplate", "consents.view_operatingroom", "consents.view_preopitem",
    "consents.view_theatrebooking", "consents.view_caseitem",
]
_SEND = ["consents.send_consentform", "consents.revoke_consentform", "consents.verify_consentform"]
_CASE_WORK = [
    "consents.change_surgicalcase", "consents.change_preopitem", "consents.add_theatrebooking",
    "consents.add_caseitem",
]
_PLANNING = [
    "consents.add_procedureplan", "consents.change_procedureplan", "consents.approve_procedureplan",
    "consents.add_surgicalcase",
]
_CONFIG = [
    f"consents.{action}_{model}"
    for model in ["consenttemplate", "operatingroom", "preoprequirement", "consultationvisittype"]
    for action in ["add", "change", "view"]
]

CONSENTS_ROLE_PERMISSIONS = {
    FRONT_DESK: ["consents.view_procedureplan", "consents.view_consentform", "consents.view_consenttemplate",
                 "consents.view_surgicalcase", "consents.view_operatingroom", "consents.view_theatrebooking",
                 "consents.view_preopitem", *_SEND],
    NURSE: _READ + _SEND + _CASE_WORK,
    PROVIDER: _READ + _SEND + _CASE_WORK + _PLANNING,
    BILLING: ["consents.view_procedureplan", "consents.view_surgicalcase", "consents.view_caseitem",
              "consents.view_operatingroom"],
    CLINIC_ADMIN: _READ + _SEND + _CASE_WORK + _PLANNING + _CONFIG,
}


def extend_role_permissions():
    """Add this app's permissions to accounts' role table (idempotent: ready() may run twice)."""
    for role, perms in CONSENTS_ROLE_PERMISSIONS.items():
        current = ROLE_PERMISSIONS[role]
        ROLE_PERMISSIONS[role] = current + [p for p in perms if p not in current]
