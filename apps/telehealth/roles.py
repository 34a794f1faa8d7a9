"""The telehealth permissions of each staff role, added to accounts' role table from
AppConfig.ready() (before ensure_roles() writes it). Providers and nurses run the virtual
queue and admit; the front desk watches it and tells patients the provider is running late;
billing reads sessions (place of service and modifier); admins everything. Recordings: nurses
see the list, providers and admins also play or download them."""
from apps.accounts.roles import BILLING, CLINIC_ADMIN, FRONT_DESK, NURSE, PROVIDER, ROLE_PERMISSIONS
from apps.telehealth.rules import ADMIT_PERM, CHANGE_PERM, RECORDING_MEDIA_PERM, RECORDING_VIEW_PERM, VIEW_PERM

TELEHEALTH_ROLE_PERMISSIONS = {
    FRONT_DESK: [VIEW_PERM, CHANGE_PERM],
    NURSE: [VIEW_PERM, CHANGE_PERM, ADMIT_PERM, RECORDING_VIEW_PERM],
    PROVIDER: [VIEW_PERM, CHANGE_PERM, ADMIT_PERM, RECORDING_VIEW_PERM, RECORDING_MEDIA_PERM],
    BILLING: [VIEW_PERM],
    CLINIC_ADMIN: [VIEW_PERM, CHANGE_PERM, ADMIT_PERM, RECORDING_VIEW_PERM, RECORDING_MEDIA_PERM],
}


def extend_role_permissions():
    for role, perms in TELEHEALTH_ROLE_PERMISSIONS.items():
        current = ROLE_PERMISSIONS[role]
        ROLE_PERMISSIONS[role] = current + [p for p in perms if p not in current]
