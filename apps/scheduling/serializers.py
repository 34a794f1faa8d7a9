"""Input and output shapes of the scheduling API (apps/scheduling/api.py). Inputs only parse
and type-check, with the rules the portal's forms use for the same input (apps/core/
validation.py: dates within the supported years, times that exist in the clinic's zone,
preferred dates from today to the booking horizon); every other rule lives in the services.
List filters refuse a parameter given empty (validation.QueryInput). Outputs are read-only.

The list outputs (slots, requests, visits) render through a plan built once per process (see
_Planned): DRF's generic path walks each field through get_attribute and rebuilds a
ModelSerializer's fields for every request, which dominated the slot search's CPU time."""
import datetime

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from apps.core import validation
from apps.core.api.serializers import build_row_plan, render_row
from apps.patients.models import Patient
from apps.scheduling.models import Location, Mode, Provider, Severity, Visit, VisitRequest, VisitSlot, VisitType
from apps.scheduling.selectors import MAX_SLOT_SEARCH_DAYS


class _Planned(serializers.Serializer):
    """Renders `fields` with their own to_representation, from a plan built once per class.
    A field whose `source` is dotted follows the attributes (None stops the walk).

    It also renders rows: a dict (from `values()`) is read by key, the key being the field's
    source with "__" for "." (`provider.user.full_name` -> `provider__user__full_name`), so a
    list can skip model instances; see selectors.slot_search. Field types whose output is a
    plain function of the value are applied directly there (tests/scheduling/
    test_perf_slot_search.py compares the output with DRF's fields)."""

    _plan = None
    _row_plan = None

    @classmethod
    def representation_plan(cls):
        if cls.__dict__.get("_plan") is None:
            plan = []
            for name, field in cls().fields.items():
                if field.write_only:
                    continue
                if isinstance(field, serializers.SerializerMethodField):
                    plan.append((name, None, field.method_name, None))
                else:
                    plan.append((name, field.source_attrs, None, field.to_representation))
            cls._plan = plan
        return cls._plan

    @classmethod
    def row_plan(cls):
        """[(name, row key, kind, to_representation)] with kind "str", "datetime" or "field"."""
        if cls.__dict__.get("_row_plan") is None:
            cls._row_plan = build_row_plan(cls)
        return cls._row_plan

    def to_representation(self, instance):
        if isinstance(instance, dict):
            return self._row_representation(instance)
        ret = {}
        for name, attrs, method, to_representation in self.representation_plan():
            if method is not None:
                ret[name] = getattr(self, method)(instance)
                continue
            value = instance
            for attr in attrs:
                value = getattr(value, attr)
                if value is None:
                    break
            ret[name] = None if value is None else to_representation(value)
        return ret

    def _row_representation(self, row):
        return render_row(self, row)


# Triage answers (VisitRequestInput.answers): what the portal's form can send, bounded (the
# keys are TriageQuestion keys, at most 64 characters).
MAX_ANSWERS = 50
MAX_ANSWER_KEY_LENGTH = 64
MAX_ANSWER_LENGTH = 200


# --- reference data -------------------------------------------------------------------------

class VisitTypeOutput(_Planned):
    id = serializers.UUIDField()
    name = serializers.CharField()
    duration_minutes = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=Mode.choices)
    self_bookable = serializers.BooleanField()
    default_billing_codes = serializers.ListField(child=serializers.CharField())


class ProviderOutput(_Planned):
    id = serializers.UUIDField()
    name = serializers.CharField(source="user.full_name")
    specialty = serializers.CharField()
    credentials = serializers.CharField()
    licensed_states = serializers.ListField(child=serializers.CharField())
    visit_type_ids = serializers.SerializerMethodField()

    def get_visit_type_ids(self, obj) -> list[str]:
        return [str(vt.pk) for vt in obj.visit_types.all()]


# --- slots ----------------------------------------------------------------------------------

class SlotOutput(_Planned):
    id = serializers.UUIDField()
    provider = serializers.UUIDField(source="provider_id")
    provider_name = serializers.CharField(source="provider.user.full_name")
    location = serializers.UUIDField(source="location_id")
    location_name = serializers.CharField(source="location.name")
    location_timezone = serializers.CharField(source="location.timezone")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=Mode.choices)
    status = serializers.ChoiceField(choices=VisitSlot.Status.choices)


class SlotSearchInput(validation.QueryInput):
    provider = serializers.UUIDField(required=False, help_text="Only this provider's slots.")
    visit_type = serializers.PrimaryKeyRelatedField(
        queryset=VisitType.objects.filter(is_active=True), required=False,
        help_text="Only slots this visit type fits (mode, length, the provider offers it).",
    )
    start = validation.ApiDateTimeField(required=False, help_text="From (inclusive); default now. Without an offset: the clinic's time.")
    end = validation.ApiDateTimeField(required=False, help_text=f"Until (exclusive); default start + 7 days, at most {MAX_SLOT_SEARCH_DAYS} days after start.")
    mode = serializers.ChoiceField(choices=Mode.choices, required=False)
    location = serializers.UUIDField(required=False)

    def validate(self, attrs):
        start = attrs.get("start") or timezone.now()
        end = attrs.get("end") or start + datetime.timedelta(days=7)
        if end <= start:
            raise serializers.ValidationError({"end": ["Must be after start."]})
        if end - start > datetime.timedelta(days=MAX_SLOT_SEARCH_DAYS):
            raise serializers.ValidationError({"end": [f"Search at most {MAX_SLOT_SEARCH_DAYS} days at a time."]})
        attrs["start"], attrs["end"] = start, end
        return attrs


class SlotGenerateInput(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=366, required=False, help_text="Horizon in days (default: the clinic's, 60).")
    providers = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all(), many=True, required=False,
                                                   help_text="Only these providers (default: every active provider, and inactive ones with FREE slots to retire).")


class SlotGenerateOutput(serializers.Serializer):
    created = serializers.IntegerField(help_text="Slots made bookable: new ones, and retired ones back in availability.")
    blocked = serializers.IntegerField(help_text="FREE slots blocked for the provider's time off.")
    retired = serializers.IntegerField(help_text="FREE slots no longer in availability: deleted, or blocked when they have history.")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


# --- visit requests -------------------------------------------------------------------------

class VisitRequestOutput(_Planned):
    id = serializers.UUIDField()
    patient = serializers.UUIDField(source="patient_id")
    patient_mrn = serializers.CharField(source="patient.mrn")
    request_type = serializers.ChoiceField(choices=VisitRequest.Type.choices)
    status = serializers.ChoiceField(choices=VisitRequest.Status.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    computed_severity = serializers.ChoiceField(choices=Severity.choices)
    needs_review = serializers.BooleanField()
    reason = serializers.CharField()
    symptoms = serializers.ListField(child=serializers.CharField())
    answers = serializers.DictField()
    preferred_dates = serializers.ListField(child=serializers.DateField())
    preferred_mode = serializers.CharField(help_text="IN_PERSON, VIRTUAL or empty.")
    visit_type = serializers.UUIDField(source="visit_type_id", allow_null=True)
    preferred_provider = serializers.UUIDField(source="preferred_provider_id", allow_null=True)
    location = serializers.UUIDField(source="location_id", allow_null=True)
    severity_override_reason = serializers.CharField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    review_note = serializers.CharField()
    triaged_at = serializers.DateTimeField(allow_null=True)
    offer_made_at = serializers.DateTimeField(allow_null=True)
    offer_expires_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RequestOutcomeOutput(serializers.Serializer):
    emergency = serializers.BooleanField(help_text="RED: nothing can be scheduled; show `instructions` at once.")
    instructions = serializers.CharField()
    can_self_book = serializers.BooleanField()


class VisitRequestCreatedOutput(VisitRequestOutput):
    outcome = RequestOutcomeOutput()


class VisitRequestInput(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    request_type = serializers.ChoiceField(choices=VisitRequest.Type.choices, default=VisitRequest.Type.SCHEDULED)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    symptoms = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list, max_length=50)
    answers = serializers.DictField(required=False, default=dict, help_text=f"Triage answers by question key: at most {MAX_ANSWERS}, "
                                    f"each a text of at most {MAX_ANSWER_LENGTH} characters, a number or a boolean.")
    preferred_dates = serializers.ListField(child=validation.ApiDateField(), required=False, default=list, max_length=30,
                                            help_text="Days from today to the booking horizon (SCHEDULING_HORIZON_DAYS).")
    preferred_mode = serializers.ChoiceField(choices=Mode.choices, required=False, allow_blank=True, default="")
    visit_type = serializers.PrimaryKeyRelatedField(queryset=VisitType.objects.all(), required=False, allow_null=True, default=None)
    preferred_provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all(), required=False, allow_null=True, default=None)
    location = serializers.PrimaryKeyRelatedField(queryset=Location.objects.all(), required=False, allow_null=True, default=None,
                                                  help_text="Required for a walk-in: where the patient is.")

    def validate_answers(self, answers):
        if len(answers) > MAX_ANSWERS:
            raise serializers.ValidationError(f"Give at most {MAX_ANSWERS} answers.")
        for key, value in answers.items():
            if len(key) > MAX_ANSWER_KEY_LENGTH:
                raise serializers.ValidationError(f"Answer keys have at most {MAX_ANSWER_KEY_LENGTH} characters.")
            if isinstance(value, (dict, list)) or (isinstance(value, str) and len(value) > MAX_ANSWER_LENGTH):
                raise serializers.ValidationError(
                    f"Each answer is a text of at most {MAX_ANSWER_LENGTH} characters, a number or a boolean.")
        return answers

    def validate_preferred_dates(self, days):
        # The portal form's rule (portal_forms.VisitRequestForm), from the one shared place.
        for day in days:
            validation.for_api(validation.check_upcoming_date, day, days=settings.SCHEDULING_HORIZON_DAYS)
        return days


class VisitRequestFilterInput(validation.QueryInput):
    status = serializers.ChoiceField(choices=VisitRequest.Status.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    type = serializers.ChoiceField(choices=VisitRequest.Type.choices, required=False)
    patient = serializers.UUIDField(required=False)
    location = serializers.UUIDField(required=False, help_text="Only requests at this location (the walk-in queue of one site).")


class TriageInput(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, help_text="Override (needs `reason`).")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    visit_type = serializers.PrimaryKeyRelatedField(queryset=VisitType.objects.all(), required=False, allow_null=True, default=None)


class ReviewInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)


class OverrideSeverityInput(serializers.Serializer):
    severity = serializers.ChoiceField(choices=Severity.choices)
    reason = serializers.CharField(max_length=2000)


class OfferInput(serializers.Serializer):
    slots = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=5)
    hold_hours = serializers.IntegerField(min_value=1, max_value=168, required=False,
                                          help_text="How long the slots are held (default: the clinic's, 24).")
    hold_until = validation.ApiDateTimeField(required=False, help_text="Alternatively, the deadline itself.")
    visit_type = serializers.PrimaryKeyRelatedField(queryset=VisitType.objects.all(), required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if "hold_hours" in attrs and "hold_until" in attrs:
            raise serializers.ValidationError({"hold_until": ["Give hold_hours or hold_until, not both."]})
        until = attrs.pop("hold_until", None)
        if until is not None:
            hours = (until - timezone.now()).total_seconds() / 3600
            if not 0 < hours <= 168:
                raise serializers.ValidationError({"hold_until": ["Give a deadline in the next 7 days."]})
            attrs["hold_hours"] = hours
        return attrs


class AcceptInput(serializers.Serializer):
    slot = serializers.UUIDField()


class AssignImmediateInput(serializers.Serializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all())
    visit_type = serializers.PrimaryKeyRelatedField(queryset=VisitType.objects.all(), required=False, allow_null=True, default=None)


# --- visits ---------------------------------------------------------------------------------

class VisitOutput(_Planned):
    id = serializers.UUIDField()
    patient = serializers.UUIDField(source="patient_id")
    patient_mrn = serializers.CharField(source="patient.mrn")
    provider = serializers.UUIDField(source="provider_id")
    provider_name = serializers.CharField(source="provider.user.full_name")
    slot = serializers.UUIDField(source="slot_id", allow_null=True)
    visit_type = serializers.UUIDField(source="visit_type_id")
    visit_type_name = serializers.CharField(source="visit_type.name")
    location = serializers.UUIDField(source="location_id")
    location_timezone = serializers.CharField(source="location.timezone")
    request = serializers.UUIDField(source="request_id", allow_null=True)
    mode = serializers.ChoiceField(choices=Mode.choices)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=Visit.Status.choices)
    is_walk_in = serializers.BooleanField()
    checked_in_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    late_cancel = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class VisitInput(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    slot = serializers.UUIDField(help_text="A FREE slot (GET /slots/).")
    visit_type = serializers.PrimaryKeyRelatedField(queryset=VisitType.objects.all())
    request = serializers.PrimaryKeyRelatedField(queryset=VisitRequest.objects.all(), required=False, allow_null=True, default=None,
                                                 help_text="The patient's GREEN visit request this booking answers, if any.")


class VisitFilterInput(validation.QueryInput):
    patient = serializers.UUIDField(required=False)
    provider = serializers.UUIDField(required=False)
    date = validation.ApiDateField(required=False, help_text="Visits starting on this day (the clinic's timezone).")


class RescheduleInput(serializers.Serializer):
    slot = serializers.UUIDField(help_text="The new FREE slot.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
