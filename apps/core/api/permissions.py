"""Deny by default. A view opens itself with ClinicAccess and says, per action, which API-key
scope and which Django permission it needs."""
from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.core import access


class DenyAll(BasePermission):
    def has_permission(self, request, view):
        return False


class ClinicAccess(BasePermission):
    """Integrators need the view's scope on their API key; signed-in staff need a verified
    second factor (enforced by MFASessionAuthentication) and the view's model permission.
    Patients use the portal, not this API.

    A view declares:
        scopes = {"read": "patients:read", "write": "patients:write"}
        perms = {"read": "patients.view_patient", "write": "patients.change_patient"}
    and may override per action with `action_scopes` / `action_perms` ({"create": "write"}).
    """

    def _kind(self, request, view):
        action = getattr(view, "action", None)
        mapping = getattr(view, "action_kinds", {})
        if action in mapping:
            return mapping[action]
        return "read" if request.method in SAFE_METHODS else "write"

    def has_permission(self, request, view):
        kind = self._kind(request, view)
        if access.is_api_key(request.auth):
            scope = view.scopes.get(kind)
            return bool(scope) and request.auth.has_scope(scope)
        user = request.user
        if not (user and user.is_authenticated and user.is_clinic_staff):
            return False
        perm = view.perms.get(kind)
        return bool(perm) and user.has_perm(perm)
