from rest_framework import serializers

from apps.core.api.serializers import PlannedRepresentationMixin
from apps.patients.models import Patient
from apps.patients.services import PATIENT_FIELDS


# Rendered from a plan built once per process (apps/core/api/serializers.py): the same output
# as DRF's generic path (tests/patients/test_api_patient_list_performance.py) at about a third
# of its CPU for a patient, and from rows (values() of row_columns(), no model instances) for
# the list. (A comment, not a docstring: the schema would show it.)
class PatientOutput(PlannedRepresentationMixin, serializers.ModelSerializer):

    has_portal_login = serializers.BooleanField(read_only=True)

    class Meta:
        model = Patient
        fields = ["id", "mrn", *PATIENT_FIELDS, "has_portal_login", "created_at", "updated_at"]
        read_only_fields = fields


class PatientInput(serializers.ModelSerializer):
    # Phones are normalized to E.164 by the service, so accept what people type here.
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    emergency_contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)

    class Meta:
        model = Patient
        fields = PATIENT_FIELDS
