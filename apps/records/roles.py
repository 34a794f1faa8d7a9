"""The records permissions of each staff role, added to accounts' role table from
AppConfig.ready() (before ensure_roles() writes it at post_migrate and seed_demo).

Providers write and sign notes, keep the chart, enter and release labs and decide refills;
nurses keep the chart, enter labs and handle documents but neither sign notes nor release
results; the front desk handles documents only (ID, insurance card) and sees no clinical data;
billing reads notes (diagnosis codes for coding) and documents (insurance cards); admins read
everything and handle documents, but make no clinical decision."""
from apps.accounts.roles import BILLING, CLINIC_ADMIN, FRONT_DESK, NURSE, PROVIDER, ROLE_PERMISSIONS

_CHART = ["problem", "allergy", "medication"]
_VIEW_ALL = [f"records.view_{m}" for m in
             [*_CHART, "refillrequest", "visitnote", "noteaddendum", "visitsummary", "labresult", "document",
              "patientreading"]]
_KEEP_CHART = [f"records.{a}_{m}" for m in _CHART for a in ("add", "change")]
_DOCUMENTS = ["records.view_document", "records.add_document", "records.share_document"]
_LAB_ENTRY = ["records.add_labresult"]
_PROVIDER_ONLY = ["records.add_visitnote", "records.change_visitnote", "records.sign_visitnote",
                  "records.add_noteaddendum", "records.release_labresult", "records.decide_refillrequest"]

RECORDS_ROLE_PERMISSIONS = {
    FRONT_DESK: _DOCUMENTS,
    NURSE: _VIEW_ALL + _KEEP_CHART + _LAB_ENTRY + _DOCUMENTS,
    PROVIDER: _VIEW_ALL + _KEEP_CHART + _LAB_ENTRY + _DOCUMENTS + _PROVIDER_ONLY,
    BILLING: ["records.view_visitnote", "records.view_document"],
    CLINIC_ADMIN: _VIEW_ALL + _DOCUMENTS,
}


def extend_role_permissions():
    """Add this app's permissions to accounts' role table (idempotent: ready() may run twice)."""
    for role, perms in RECORDS_ROLE_PERMISSIONS.items():
        current = ROLE_PERMISSIONS[role]
        ROLE_PERMISSIONS[role] = current + [p for p in perms if p not in current]
