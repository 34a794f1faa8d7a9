from rest_framework import serializers

from apps.core import validation
from apps.core.api.serializers import PlannedRepresentationMixin
from apps.patients.models import Patient
from apps.patients.services import PATIENT_FIELDS


# Rendered from a plan built once per process (apps/core/api/serializers.py): the same output
# as DRF's generic path (tests/patients/test_api_patient_list_performance.py) at about a third
# of its CPU for a patient, and from rows (values() of row_columns(), no model instances) for
# the list. (A comment, not a docstring: the schema would show it.)
class PatientOutput(PlannedRepresentationMixin, serializers.ModelSerializer):

    has_portal_login = serializers.BooleanField(read_only=True)
    # The schema tells what is stored: an address, or "" when none is on file (not `format:
    # email`, which "" is not); quiet hours as wall-clock times without an offset.
    email = serializers.CharField(read_only=True, help_text="An email address, or empty when none is on file.")
    quiet_hours_start = validation.ApiTimeOfDayField(read_only=True, allow_null=True)
    quiet_hours_end = validation.ApiTimeOfDayField(read_only=True, allow_null=True)

    class Meta:
        model = Patient
        fields = ["id", "mrn", *PATIENT_FIELDS, "has_portal_login", "created_at", "updated_at"]
        read_only_fields = fields


class PatientInput(serializers.ModelSerializer):
    # Phones are normalized to E.164 by the service, so accept what people type here. The date
    # of birth, the opt-ins and quiet hours follow the rules the portal and staff forms share
    # (apps/core/validation.py): quiet hours are wall-clock times, an offset is refused.
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    emergency_contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    date_of_birth = validation.ApiBirthDateField()
    sms_opt_in = validation.ApiBooleanField(required=False)
    email_opt_in = validation.ApiBooleanField(required=False)
    quiet_hours_start = validation.ApiTimeOfDayField(required=False, allow_null=True,
                                                     help_text="In the patient's timezone, without an offset (HH:MM).")
    quiet_hours_end = validation.ApiTimeOfDayField(required=False, allow_null=True,
                                                   help_text="In the patient's timezone, without an offset (HH:MM).")

    class Meta:
        model = Patient
        fields = PATIENT_FIELDS
