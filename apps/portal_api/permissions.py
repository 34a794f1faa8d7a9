"""Who may use /api/v1/portal/: a patient signed in (a phone app's session token, or the
portal's own session), whose record exists. Staff and API keys are refused (they have the
clinic API); a registrant whose record is not ready yet gets 403 `patient_record_pending`."""
from rest_framework.permissions import BasePermission

from apps.core import access
from apps.core.exceptions import PermissionDenied


class PatientRecordPending(PermissionDenied):
    default_code = "patient_record_pending"
    default_message = "Your patient record is not ready yet: the clinic will let you know."


class IsPatient(BasePermission):
    """Sets request.patient (through core's access layer) for the views."""

    message = "This API is for patients signed in to the app."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated) or access.is_api_key(request.auth) or user.is_staff:
            return False
        patient = access.patient_of(user)
        if patient is None:
            raise PatientRecordPending()
        request.patient = patient
        # The Django request too: services and audit read the actor from it.
        request._request.patient = patient
        return True
