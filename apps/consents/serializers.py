"""Input and output shapes of the consents API (apps/consents/api.py). Inputs only parse and
type-check; every rule lives in the services. Outputs are read-only; a consent's output never
carries its signature image or its answers (the document's hash and the signing facts do)."""
from decimal import Decimal

from rest_framework import serializers

from apps.consents.models import (
    AnaesthesiaType, ConsentForm, ConsentTemplate, OperatingRoom, ProcedureLine, ProcedurePlan,
    SurgicalCase,
)
from apps.core import validation
from apps.patients.models import Patient
from apps.scheduling.models import Provider, Visit


def _active_patients():
    return Patient.objects.active()


class ConsentsReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


# --- plans --------------------------------------------------------------------------------------

class LineInput(serializers.Serializer):
    code = serializers.CharField(max_length=5, help_text="CPT (e.g. 15823) or HCPCS (e.g. L8699).")
    description = serializers.CharField(max_length=300)
    site = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    side = serializers.ChoiceField(choices=ProcedureLine.Side.choices, required=False, default=ProcedureLine.Side.NOT_APPLICABLE)
    estimated_fee = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"))


PLANNED_DATE_HELP = ("The surgery date aimed at (today to two years ahead): an unsigned consent is reminded "
                     "in the days before it.")


class PlanInput(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=_active_patients())
    consultation = serializers.PrimaryKeyRelatedField(queryset=Visit.objects.all(),
                                                      help_text="A COMPLETED consultation visit of the patient.")
    surgeon = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.filter(is_active=True))
    lines = LineInput(many=True, allow_empty=False, max_length=30)
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    planned_date = validation.ApiDateField(required=False, allow_null=True, default=None,
                                           help_text=PLANNED_DATE_HELP)


class PlanUpdateInput(serializers.Serializer):
    surgeon = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.filter(is_active=True), required=False)
    lines = LineInput(many=True, allow_empty=False, max_length=30, required=False)
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    planned_date = validation.ApiDateField(required=False, allow_null=True, help_text=PLANNED_DATE_HELP + (
        " Alone, it may change until the theatre is booked (409 planned_date_locked after); null clears it."))


class PlanFilterInput(validation.QueryInput):
    patient = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=ProcedurePlan.Status.choices, required=False)


class LineOutput(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()
    site = serializers.CharField()
    side = serializers.CharField()
    estimated_fee = serializers.DecimalField(max_digits=10, decimal_places=2)


class PreOpItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    label = serializers.CharField()
    instructions = serializers.CharField()
    is_required = serializers.BooleanField()
    source = serializers.CharField()
    done_at = serializers.DateTimeField(allow_null=True)


class PlanOutput(serializers.Serializer):
    id = serializers.UUIDField()
    patient = serializers.UUIDField(source="patient_id")
    consultation = serializers.UUIDField(source="consultation_id")
    surgeon = serializers.UUIDField(source="surgeon_id")
    surgeon_name = serializers.CharField(source="surgeon.user.full_name")
    version = serializers.IntegerField()
    previous_version = serializers.UUIDField(source="previous_version_id", allow_null=True)
    status = serializers.ChoiceField(choices=ProcedurePlan.Status.choices)
    notes = serializers.CharField()
    quote_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    planned_date = serializers.DateField(allow_null=True)
    lines = LineOutput(many=True, source="lines.all")
    preop_items = PreOpItemOutput(many=True, source="preop_items.all")
    submitted_at = serializers.DateTimeField(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class PreOpCompleteInput(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


# --- templates and consents -------------------------------------------------------------------------

class TemplateOutput(serializers.Serializer):
    id = serializers.UUIDField()
    key = serializers.CharField()
    version = serializers.IntegerField()
    kind = serializers.CharField(help_text="PROCEDURE, TELEHEALTH_GENERAL, HIPAA, RECORDING, STATE_SPECIFIC or FINANCIAL.")
    jurisdiction = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    sections = serializers.JSONField()
    checks = serializers.SerializerMethodField()
    validity_days = serializers.IntegerField()
    published_at = serializers.DateTimeField()

    def get_checks(self, obj) -> list[dict]:
        # The questions and their choices; the correct answer stays with the clinic.
        return [{"key": c["key"], "question": c["question"], "choices": c["choices"]} for c in obj.checks]


class ConsentInput(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=_active_patients())
    template = serializers.PrimaryKeyRelatedField(queryset=ConsentTemplate.objects.all())
    plan = serializers.PrimaryKeyRelatedField(queryset=ProcedurePlan.objects.all(), required=False, allow_null=True,
                                              default=None, help_text="Required for a PROCEDURE consent.")


class ConsentFilterInput(validation.QueryInput):
    patient = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=ConsentForm.Status.choices, required=False)
    plan = serializers.UUIDField(required=False)


class ConsentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    patient = serializers.UUIDField(source="patient_id")
    template = serializers.UUIDField(source="template_id")
    template_title = serializers.CharField(source="template.title")
    template_version = serializers.IntegerField(source="template.version")
    kind = serializers.CharField(help_text="PROCEDURE, TELEHEALTH_GENERAL, HIPAA, RECORDING, STATE_SPECIFIC or FINANCIAL.")
    plan = serializers.UUIDField(source="plan_id", allow_null=True)
    consultation = serializers.UUIDField(source="consultation_id", allow_null=True)
    status = serializers.ChoiceField(choices=ConsentForm.Status.choices)
    sent_at = serializers.DateTimeField()
    progress_saved_at = serializers.DateTimeField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    signature_kind = serializers.CharField()
    document_sha256 = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    declined_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoke_reason = serializers.CharField()
    expired_at = serializers.DateTimeField(allow_null=True)


class VerificationOutput(serializers.Serializer):
    consent = serializers.CharField(source="consent_id")
    valid = serializers.BooleanField()
    code = serializers.CharField(help_text="consent_valid, or why not: consent_not_signed, consent_declined, "
                                           "consent_revoked, consent_expired, consent_tampered")
    message = serializers.CharField()
    status = serializers.CharField()
    document_sha256 = serializers.CharField()
    checked_at = serializers.DateTimeField()


# --- cases ---------------------------------------------------------------------------------------

class CaseInput(serializers.Serializer):
    plan = serializers.PrimaryKeyRelatedField(queryset=ProcedurePlan.objects.all())
    consent = serializers.PrimaryKeyRelatedField(queryset=ConsentForm.objects.all(),
                                                 help_text="The plan's signed PROCEDURE consent (verified).")
    anaesthesia_type = serializers.ChoiceField(choices=AnaesthesiaType.choices)


class CaseFilterInput(validation.QueryInput):
    patient = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=SurgicalCase.Status.choices, required=False)


class BookingInput(serializers.Serializer):
    room = serializers.PrimaryKeyRelatedField(queryset=OperatingRoom.objects.filter(is_active=True))
    start = validation.ApiDateTimeField(help_text="Without an offset: the clinic's time.")
    end = validation.ApiDateTimeField()


class ItemInput(serializers.Serializer):
    kind = serializers.CharField(max_length=10, help_text="CONSUMABLE or IMPLANT (an implant needs its serial number).")
    name = serializers.CharField(max_length=200)
    manufacturer = serializers.CharField(max_length=200)
    lot_number = serializers.CharField(max_length=80)
    serial_number = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=10000, required=False, default=1)
    billable = validation.ApiBooleanField(required=False, default=True)
    billing_code = serializers.CharField(max_length=5, required=False, allow_blank=True, default="")


class BookingOutput(serializers.Serializer):
    id = serializers.UUIDField()
    case = serializers.UUIDField(source="case_id")
    room = serializers.UUIDField(source="room_id")
    room_name = serializers.CharField(source="room.name")
    surgeon = serializers.UUIDField(source="surgeon_id")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    status = serializers.CharField()


class ItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    manufacturer = serializers.CharField()
    lot_number = serializers.CharField()
    serial_number = serializers.CharField()
    quantity = serializers.IntegerField()
    billable = serializers.BooleanField()
    billing_code = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class CaseOutput(serializers.Serializer):
    id = serializers.UUIDField()
    plan = serializers.UUIDField(source="plan_id")
    consent = serializers.UUIDField(source="consent_id")
    patient = serializers.UUIDField(source="patient_id")
    surgeon = serializers.UUIDField(source="surgeon_id")
    anaesthesia_type = serializers.CharField()
    status = serializers.ChoiceField(choices=SurgicalCase.Status.choices)
    bookings = BookingOutput(many=True, source="bookings.all")
    items = ItemOutput(many=True, source="items.all")
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class RoomOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    location = serializers.UUIDField(source="location_id", allow_null=True)


class AvailabilityInput(validation.QueryInput):
    date = validation.ApiDateField(help_text="The day (the clinic's), e.g. 2027-03-01.")


class BusyOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    case = serializers.UUIDField(source="case_id")
    surgeon = serializers.UUIDField(source="surgeon_id")


class TraceInput(validation.QueryInput):
    lot = serializers.CharField(max_length=80)


class TraceOutput(serializers.Serializer):
    item = serializers.IntegerField(source="id")
    kind = serializers.CharField()
    name = serializers.CharField()
    manufacturer = serializers.CharField()
    lot_number = serializers.CharField()
    serial_number = serializers.CharField()
    case = serializers.UUIDField(source="case_id")
    patient = serializers.UUIDField(source="case.patient_id")
    recorded_at = serializers.DateTimeField()


# --- the workflow (documentation of apps/consents/workflow.py's as_api, camelCase as the seed) ----------

class WorkflowStageOutput(serializers.Serializer):
    stage = serializers.CharField()
    label = serializers.CharField()
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["COMPLETED", "IN_PROGRESS", "BLOCKED", "PENDING"])
    completedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815 (the seed's name)
    detail = serializers.CharField(required=False)


class PlanWorkflowOutput(serializers.Serializer):
    planId = serializers.UUIDField()  # noqa: N815
    version = serializers.IntegerField()
    status = serializers.CharField()
    currentStage = serializers.CharField()  # noqa: N815
    nextStep = serializers.CharField()  # noqa: N815
    blockers = serializers.ListField(child=serializers.CharField())
    canScheduleSurgery = serializers.BooleanField()  # noqa: N815
    timeline = WorkflowStageOutput(many=True)


class WorkflowOutput(serializers.Serializer):
    patientId = serializers.UUIDField()  # noqa: N815
    hasConsultation = serializers.BooleanField()  # noqa: N815
    hasProcedurePlan = serializers.BooleanField()  # noqa: N815
    hasConsent = serializers.BooleanField()  # noqa: N815
    hasSurgicalCase = serializers.BooleanField()  # noqa: N815
    canScheduleSurgery = serializers.BooleanField()  # noqa: N815
    currentStage = serializers.CharField()  # noqa: N815
    nextStep = serializers.CharField()  # noqa: N815
    nextStage = serializers.CharField(allow_null=True)  # noqa: N815
    blockers = serializers.ListField(child=serializers.CharField())
    planId = serializers.UUIDField(allow_null=True)  # noqa: N815
    timeline = WorkflowStageOutput(many=True)
    plans = PlanWorkflowOutput(many=True)
