"""Input and output shapes of the records API (apps/records/api.py). Inputs only parse and
type-check (with the hostile-input rules shared with the forms, apps/core/validation.py); every
rule lives in the services. Outputs are read-only."""
from rest_framework import serializers

from apps.core import validation
from apps.patients.models import Patient
from apps.records.models import (
    Allergy, Document, LabResult, Medication, NoteAddendum, Problem, RefillRequest, VisitNote,
)
from apps.scheduling.models import Provider, Visit


def _patients():
    return Patient.objects.active()


class PatientFilterInput(validation.QueryInput):
    patient = serializers.UUIDField(required=False)


class StatusInput(serializers.Serializer):
    status = serializers.CharField(max_length=16)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# --- chart ------------------------------------------------------------------------------------------

class ProblemInput(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=_patients())
    code = serializers.CharField(max_length=8, help_text="ICD-10-CM, e.g. E11.9")
    description = serializers.CharField(max_length=200)
    onset_date = validation.ApiDateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AllergyInput(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=_patients())
    substance = serializers.CharField(max_length=200)
    substance_system = serializers.ChoiceField(choices=Allergy.CodeSystem.choices, required=False, allow_blank=True,
                                               default="", help_text="rxnorm (a drug) or snomed")
    substance_code = serializers.CharField(max_length=18, required=False, allow_blank=True, default="",
                                           help_text="RxNorm RxCUI (e.g. 723) or SNOMED CT id (e.g. 256349002)")
    reaction = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=Allergy.Severity.choices, default=Allergy.Severity.MODERATE)


class MedicationInput(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=_patients())
    name = serializers.CharField(max_length=200)
    rxnorm_code = serializers.CharField(max_length=8, required=False, allow_blank=True, default="",
                                        help_text="RxNorm RxCUI, e.g. 860975")
    dose = serializers.CharField(max_length=100)
    route = serializers.ChoiceField(choices=Medication.Route.choices, default=Medication.Route.ORAL)
    frequency = serializers.CharField(max_length=100)
    prescriber = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all(), required=False, allow_null=True,
                                                    default=None)
    start_date = validation.ApiDateField()
    end_date = validation.ApiDateField(required=False, allow_null=True, default=None)


class ProblemOutput(serializers.ModelSerializer):
    class Meta:
        model = Problem
        fields = ["id", "patient", "code", "description", "onset_date", "resolved_date", "status", "note",
                  "created_at", "updated_at"]


class AllergyOutput(serializers.ModelSerializer):
    class Meta:
        model = Allergy
        fields = ["id", "patient", "substance", "substance_system", "substance_code", "reaction", "severity", "status",
                  "created_at", "updated_at"]


class MedicationOutput(serializers.ModelSerializer):
    class Meta:
        model = Medication
        fields = ["id", "patient", "name", "rxnorm_code", "dose", "route", "frequency", "prescriber", "start_date",
                  "end_date", "status", "created_at", "updated_at"]


class RefillOutput(serializers.ModelSerializer):
    class Meta:
        model = RefillRequest
        fields = ["id", "patient", "medication", "prescriber", "pharmacy", "note", "status", "decision_note",
                  "decided_at", "created_at"]


class RefillFilterInput(PatientFilterInput):
    status = serializers.ChoiceField(choices=RefillRequest.Status.choices, required=False)


class DecisionInput(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


# --- notes ------------------------------------------------------------------------------------------------

class NoteCreateInput(serializers.Serializer):
    visit = serializers.PrimaryKeyRelatedField(queryset=Visit.objects.all())


class NoteUpdateInput(serializers.Serializer):
    subjective = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    objective = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    assessment = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    plan = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    diagnosis_codes = serializers.ListField(child=serializers.CharField(max_length=8), max_length=12, required=False)
    summary_assessment = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    follow_up = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    medications_changed = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class AddendumInput(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class AddendumOutput(serializers.ModelSerializer):
    class Meta:
        model = NoteAddendum
        fields = ["id", "author", "text", "created_at"]


class NoteOutput(serializers.ModelSerializer):
    addenda = AddendumOutput(many=True, read_only=True)

    class Meta:
        model = VisitNote
        fields = ["id", "visit", "patient", "provider", "status", "subjective", "objective", "assessment", "plan",
                  "diagnosis_codes", "summary_assessment", "follow_up", "medications_changed", "signed_at",
                  "signed_by", "created_at", "updated_at", "addenda"]


class NoteFilterInput(PatientFilterInput):
    status = serializers.ChoiceField(choices=VisitNote.Status.choices, required=False)


# --- labs ---------------------------------------------------------------------------------------------------

class LabInput(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=_patients())
    visit = serializers.PrimaryKeyRelatedField(queryset=Visit.objects.all(), required=False, allow_null=True, default=None)
    ordering_provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all(), required=False,
                                                           allow_null=True, default=None)
    test_name = serializers.CharField(max_length=200)
    loinc_code = serializers.CharField(max_length=10, help_text="LOINC, e.g. 4548-4 (check digit verified)")
    value = serializers.CharField(max_length=100)
    unit = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    reference_low = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True, default=None)
    reference_high = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True, default=None)
    reference_text = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    abnormal_flag = serializers.ChoiceField(choices=LabResult.Flag.choices, required=False, allow_null=True, default=None,
                                            help_text="Leave out to compute it from the range.")
    collected_at = validation.ApiDateTimeField()
    resulted_at = validation.ApiDateTimeField()


class LabOutput(serializers.ModelSerializer):
    reference_range = serializers.CharField(read_only=True)

    class Meta:
        model = LabResult
        fields = ["id", "patient", "visit", "ordering_provider", "test_name", "loinc_code", "value", "value_numeric",
                  "unit", "reference_low", "reference_high", "reference_text", "reference_range", "abnormal_flag",
                  "collected_at", "resulted_at", "status", "released_at", "source", "created_at"]


class LabFilterInput(PatientFilterInput):
    status = serializers.ChoiceField(choices=LabResult.Status.choices, required=False)
    loinc_code = serializers.CharField(max_length=10, required=False)


# --- documents -----------------------------------------------------------------------------------------------

class DocumentInput(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=_patients())
    category = serializers.ChoiceField(choices=Document.Category.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    file = serializers.FileField()
    share = validation.ApiBooleanField(required=False, default=False)


class DocumentOutput(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "patient", "category", "title", "filename", "content_type", "size", "sha256",
                  "uploaded_by_patient", "shared_with_patient", "shared_at", "created_at"]
