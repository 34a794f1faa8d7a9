"""What /api/v1/portal/ answers and accepts. Inputs validate hostile input through core's
shared validation (apps/core/validation.py); outputs show the patient their own data only."""
from django.conf import settings
from rest_framework import serializers

from apps.core import validation
from apps.patients.models import Patient
from apps.patients.phone import normalize_phone
from apps.patients.services import CONTACT_FIELDS
from apps.scheduling.models import Mode, Visit, VisitType


class AppProfileOutput(serializers.ModelSerializer):
    quiet_hours_start = validation.ApiTimeOfDayField(allow_null=True, help_text="Local time in the patient's timezone, no offset.")
    quiet_hours_end = validation.ApiTimeOfDayField(allow_null=True, help_text="Local time in the patient's timezone, no offset.")

    class Meta:
        model = Patient
        fields = ["id", "mrn", "first_name", "last_name", "date_of_birth", "email", *CONTACT_FIELDS]
        read_only_fields = fields


class AppProfileInput(serializers.ModelSerializer):
    """The contact details and preferences a patient may change themselves (the portal's
    profile form has the same fields: CONTACT_FIELDS). Partial: send only what changes."""

    # Phones as people type them (normalized to E.164 below), not the stored form only.
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    emergency_contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    quiet_hours_start = validation.ApiTimeOfDayField(required=False, allow_null=True)
    quiet_hours_end = validation.ApiTimeOfDayField(required=False, allow_null=True)
    sms_opt_in = validation.ApiBooleanField(required=False)
    email_opt_in = validation.ApiBooleanField(required=False)

    class Meta:
        model = Patient
        fields = CONTACT_FIELDS

    def _phone(self, value):
        try:
            return normalize_phone(value)
        except Exception as exc:  # django ValidationError: its message, as a field error
            raise serializers.ValidationError(getattr(exc, "messages", [str(exc)]))

    def validate_phone(self, value):
        return self._phone(value)

    def validate_emergency_contact_phone(self, value):
        return self._phone(value)


class AppVisitTypeOutput(serializers.ModelSerializer):
    class Meta:
        model = VisitType
        fields = ["id", "name", "duration_minutes", "mode"]
        read_only_fields = fields


class AppAppointmentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Visit.Status.choices)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=Mode.choices)
    visit_type = serializers.UUIDField(source="visit_type_id")
    visit_type_name = serializers.CharField(source="visit_type.name")
    provider = serializers.UUIDField(source="provider_id")
    provider_name = serializers.CharField(source="provider.user.full_name")
    location = serializers.UUIDField(source="location_id")
    location_name = serializers.CharField(source="location.name")
    location_timezone = serializers.CharField(source="location.timezone")
    late_cancel = serializers.BooleanField()
    cancel_reason = serializers.CharField()
    change_deadline = serializers.DateTimeField(allow_null=True, help_text="Until when the patient may cancel or move it online.")
    can_change = serializers.BooleanField(help_text="Whether cancel and reschedule are open now.")


class AppAppointmentFilterInput(validation.QueryInput):
    when = serializers.ChoiceField(choices=["upcoming", "past"], required=False, default="upcoming")


class AppBookInput(serializers.Serializer):
    slot = serializers.UUIDField(help_text="A FREE slot from /portal/availability/.")
    visit_type = serializers.PrimaryKeyRelatedField(queryset=VisitType.objects.filter(is_active=True, self_bookable=True),
                                                    help_text="A visit type patients may book (/portal/visit-types/).")


class AppCancelInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class AppRescheduleInput(serializers.Serializer):
    slot = serializers.UUIDField(help_text="The new FREE slot.")


class AppAvailabilityInput(validation.QueryInput):
    visit_type = serializers.PrimaryKeyRelatedField(queryset=VisitType.objects.filter(is_active=True, self_bookable=True))
    provider = serializers.UUIDField(required=False)
    day = validation.ApiDateField(required=False, help_text="The day to list (the clinic's time); default today.")


class AppSlotOutput(serializers.Serializer):
    id = serializers.UUIDField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mode = serializers.ChoiceField(choices=Mode.choices)
    provider = serializers.UUIDField(source="provider_id")
    provider_name = serializers.CharField(source="provider.user.full_name")
    location_name = serializers.CharField(source="location.name")
    location_timezone = serializers.CharField(source="location.timezone")


class AppAvailabilityOutput(serializers.Serializer):
    day = serializers.DateField()
    slots = AppSlotOutput(many=True)
    next_day = serializers.DateField(allow_null=True, help_text="The next day with a free time, if any.")


class AppNotificationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class AppUnreadOutput(serializers.Serializer):
    unread = serializers.IntegerField()


class AppPreferencesOutput(serializers.Serializer):
    sms_opt_in = serializers.BooleanField()
    email_opt_in = serializers.BooleanField()
    quiet_hours_start = validation.ApiTimeOfDayField(allow_null=True, help_text="Local time in the patient's timezone, no offset.")
    quiet_hours_end = validation.ApiTimeOfDayField(allow_null=True, help_text="Local time in the patient's timezone, no offset.")
    timezone = serializers.CharField()
    sms_stopped = serializers.BooleanField(help_text="The number texted STOP: no SMS until it texts START.")


class AppPreferencesInput(serializers.Serializer):
    sms_opt_in = validation.ApiBooleanField(required=False)
    email_opt_in = validation.ApiBooleanField(required=False)
    quiet_hours_start = validation.ApiTimeOfDayField(required=False, allow_null=True)
    quiet_hours_end = validation.ApiTimeOfDayField(required=False, allow_null=True)


MAX_PAGE = getattr(settings, "PORTAL_API_MAX_PAGE", 100)


class AppThreadOutput(serializers.Serializer):
    id = serializers.UUIDField()
    subject = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_message_at = serializers.DateTimeField(allow_null=True)
    unread = serializers.IntegerField(help_text="Care-team messages I have not read yet.")


class AppMessageOutput(serializers.Serializer):
    id = serializers.UUIDField()
    author_kind = serializers.CharField()
    author_label = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    attachments = serializers.SerializerMethodField()

    def get_attachments(self, obj) -> list[dict]:
        return [{"id": str(a.pk), "name": a.original_name, "content_type": a.content_type, "size": a.size}
                for a in obj.attachments.all()]


class AppThreadStartInput(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=10_000)


class AppReplyInput(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)


class AppRefillInput(serializers.Serializer):
    pharmacy = serializers.CharField(max_length=200, help_text="Pharmacy name and town or phone.")
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


# --- offline sync ---------------------------------------------------------------------------------

class AppSyncInput(validation.QueryInput):
    since = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                  help_text="The `cursor` of the last answer; left out: from the start of the log.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)


class AppSyncChangeOutput(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.UUIDField()
    deleted = serializers.BooleanField(help_text="A tombstone: the object is gone or no longer yours to see; drop it.")
    data = serializers.DictField(allow_null=True, help_text="The object as its list endpoint shows it (null when deleted).")


class AppSyncOutput(serializers.Serializer):
    changes = AppSyncChangeOutput(many=True)
    cursor = serializers.CharField(help_text="Send it back as `since` next time.")
    more = serializers.BooleanField(help_text="More changes follow: ask again at once with the new cursor.")


class AppSyncActionInput(serializers.Serializer):
    TYPES = ["appointment", "thread", "message", "refill", "reading"]

    client_id = serializers.CharField(max_length=100, help_text="Made by the app once per action; a retry sends the same.")
    type = serializers.ChoiceField(choices=TYPES)
    data = serializers.DictField(help_text="The live endpoint's body; `message` also names its `thread`, "
                                           "`refill` its `medication`; `reading` is POST readings/'s "
                                           "{\"readings\": [...]}.")


class AppSyncActionsInput(serializers.Serializer):
    actions = AppSyncActionInput(many=True, max_length=50, allow_empty=False)


class AppSyncActionOutput(serializers.Serializer):
    client_id = serializers.CharField()
    type = serializers.CharField()
    result = serializers.ChoiceField(choices=["applied", "refused"])
    status = serializers.IntegerField(help_text="What the live call answers (201, 400, 404, 409...).")
    body = serializers.DictField(help_text="The live call's body: the object made, or {code, message, extra}.")
    replayed = serializers.BooleanField(help_text="This client id was seen before: its first answer, nothing done again.")


class AppSyncActionsOutput(serializers.Serializer):
    results = AppSyncActionOutput(many=True)


class AppSyncMessageOutput(AppMessageOutput):
    thread = serializers.UUIDField(source="thread_id")


class AppVisitSummaryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    visit = serializers.UUIDField(source="visit_id")
    visit_start = serializers.DateTimeField(source="visit.start")
    provider_name = serializers.CharField(source="visit.provider.user.full_name")
    location_name = serializers.CharField(source="visit.location.name")
    reason = serializers.CharField()
    assessment = serializers.CharField()
    plan = serializers.CharField()
    follow_up = serializers.CharField()
    medications_changed = serializers.CharField()
    released_at = serializers.DateTimeField()
