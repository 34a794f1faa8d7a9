"""Input and output of the telehealth API. Inputs are bounded (no NUL: core's parsers refuse
it before here; numbers within their ranges; states from the list of US states)."""
from rest_framework import serializers

from apps.consents.models import US_STATES
from apps.core.validation import ApiBooleanField, QueryInput
from apps.telehealth.models import Recording, TelehealthSession
from apps.telehealth.selectors import entry_of


class SessionFilterInput(QueryInput):
    status = serializers.ChoiceField(choices=TelehealthSession.Status.choices, required=False)


class EntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    entered_at = serializers.DateTimeField()
    admitted_at = serializers.DateTimeField(allow_null=True)
    device_ok = serializers.BooleanField(allow_null=True)
    device_check = serializers.JSONField()
    current_state = serializers.CharField()
    at_home = serializers.BooleanField(allow_null=True)
    late_message = serializers.CharField()


class SessionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    visit_id = serializers.UUIDField()
    patient_id = serializers.UUIDField()
    provider_id = serializers.UUIDField()
    provider_name = serializers.CharField(source="provider.user.get_full_name")
    status = serializers.CharField()
    video_provider = serializers.CharField()
    provider_fallbacks = serializers.JSONField()
    scheduled_start = serializers.DateTimeField()
    scheduled_end = serializers.DateTimeField()
    actual_start = serializers.DateTimeField(allow_null=True)
    actual_end = serializers.DateTimeField(allow_null=True)
    patient_state = serializers.CharField()
    provider_state = serializers.CharField()
    place_of_service = serializers.CharField()
    modifier = serializers.CharField()
    recording_planned = serializers.BooleanField()
    quality = serializers.JSONField()
    end_reason = serializers.CharField()
    rebooked_to = serializers.UUIDField(source="rebooked_to_id", allow_null=True,
                                        help_text="After technical issues: the session it was rebooked as.")
    waiting_room = serializers.SerializerMethodField()

    def get_waiting_room(self, session) -> dict | None:
        entry = entry_of(session)
        return EntryOutput(entry).data if entry is not None else None


class JoinTokenOutput(serializers.Serializer):
    provider = serializers.CharField()
    room = serializers.CharField()
    token = serializers.CharField()
    expires_at = serializers.IntegerField(help_text="Epoch seconds.")
    identity = serializers.CharField()
    role = serializers.CharField(help_text="host (the provider) or guest (the patient).")
    extra = serializers.JSONField(help_text="ice_servers (built-in), sdk_key (Zoom).")


class DeviceCheckInput(serializers.Serializer):
    camera = ApiBooleanField()
    microphone = ApiBooleanField()
    mic_level = serializers.FloatField(min_value=0, max_value=1, required=False)
    rtt_ms = serializers.IntegerField(min_value=0, max_value=600_000, required=False, allow_null=True)
    download_kbps = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False, allow_null=True)


class AnswersInput(serializers.Serializer):
    current_state = serializers.ChoiceField(choices=US_STATES, help_text="The US state the patient is in now.")
    at_home = ApiBooleanField(help_text="The patient is at home (place of service 10, else 02).")


class RunningLateInput(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=1, max_value=240)
    message = serializers.CharField(max_length=240, required=False, allow_blank=True, default="")


class EndInput(serializers.Serializer):
    technical_issues = ApiBooleanField(required=False, default=False)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class StartInput(serializers.Serializer):
    provider_state = serializers.ChoiceField(choices=US_STATES, required=False, allow_blank=True, default="")


class QualityInput(serializers.Serializer):
    rtt_ms = serializers.FloatField(min_value=0, max_value=600_000, required=False)
    packet_loss_pct = serializers.FloatField(min_value=0, max_value=100, required=False)
    bitrate_kbps = serializers.FloatField(min_value=0, max_value=1_000_000, required=False)
    bytes_received = serializers.IntegerField(min_value=0, max_value=2**62, required=False)
    bytes_sent = serializers.IntegerField(min_value=0, max_value=2**62, required=False)
    frames_decoded = serializers.IntegerField(min_value=0, max_value=2**62, required=False)
    jitter_ms = serializers.FloatField(min_value=0, max_value=600_000, required=False)
    reconnects = serializers.IntegerField(min_value=0, max_value=10_000, required=False)
    duration_s = serializers.FloatField(min_value=0, max_value=172_800, required=False)


class ConsentStatusOutput(serializers.Serializer):
    kind = serializers.CharField()
    jurisdiction = serializers.CharField()
    label = serializers.CharField()
    code = serializers.CharField()
    valid = serializers.BooleanField()
    consent_id = serializers.UUIDField(allow_null=True)
    pending = serializers.BooleanField()


class QueueRowOutput(serializers.Serializer):
    session = SessionOutput()
    patient_name = serializers.CharField()
    waited_minutes = serializers.IntegerField()
    alert = serializers.BooleanField()
    licensed = serializers.BooleanField(allow_null=True)
    consents = ConsentStatusOutput(many=True)


class RecordingFilterInput(QueryInput):
    session = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=Recording.Status.choices, required=False)


class RecordingOutput(serializers.Serializer):
    id = serializers.UUIDField()
    session_id = serializers.UUIDField()
    status = serializers.CharField()
    video_provider = serializers.CharField()
    started_at = serializers.DateTimeField()
    started_by = serializers.CharField(source="started_by.get_full_name", default="")
    stored_at = serializers.DateTimeField(allow_null=True)
    content_type = serializers.CharField()
    size_bytes = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField()
    delete_after = serializers.DateTimeField(help_text="The retention job deletes it after this.")
    deleted_at = serializers.DateTimeField(allow_null=True)
    downloadable = serializers.SerializerMethodField()

    def get_downloadable(self, recording) -> bool:
        return recording.status == Recording.Status.AVAILABLE and bool(recording.file)


class RecordingUploadInput(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False, help_text="The WebM or MP4 the provider's browser recorded.")


class RebookInput(serializers.Serializer):
    slot = serializers.UUIDField(help_text="A FREE, future VIRTUAL slot (another provider's, to reassign).")
