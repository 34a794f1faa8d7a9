from django.urls import reverse
from rest_framework import serializers

from apps.core import validation
from apps.messaging.threads.models import Attachment, Message, Thread


class AttachmentOutput(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "created_at", "download_url", "api_url"]

    api_url = serializers.SerializerMethodField(help_text="The file through this API (messaging:read).")

    def get_download_url(self, obj) -> str:
        return reverse("thread_attachment_download", args=[obj.pk])

    def get_api_url(self, obj) -> str:
        return reverse("thread-attachment", args=[obj.message.thread_id, obj.pk])


class MessageOutput(serializers.ModelSerializer):
    thread = serializers.UUIDField(source="thread_id", read_only=True)
    author = serializers.IntegerField(source="author_id", read_only=True, allow_null=True)
    attachments = AttachmentOutput(many=True, read_only=True)

    class Meta:
        model = Message
        fields = ["id", "thread", "author_kind", "author", "author_label", "body", "created_at", "attachments"]


class ThreadOutput(serializers.ModelSerializer):
    patient = serializers.UUIDField(source="patient_id", read_only=True)
    assigned_to = serializers.IntegerField(source="assigned_to_id", read_only=True, allow_null=True)
    unread_for_staff = serializers.BooleanField(read_only=True)
    unread_messages = serializers.SerializerMethodField()

    class Meta:
        model = Thread
        fields = [
            "id", "patient", "subject", "status", "assigned_to", "created_at", "last_message_at",
            "closed_at", "unread_for_staff", "unread_messages",
        ]

    def get_unread_messages(self, obj) -> int:
        """Patient messages the care team has not read yet."""
        return getattr(obj, "unread", 0)


class ThreadCreateInput(serializers.Serializer):
    patient = serializers.UUIDField()
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=10_000)


class MessageInput(serializers.Serializer):
    """JSON, or multipart/form-data to attach files (the portal's type and size checks)."""

    body = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="",
                                 help_text="Required unless files are attached.")
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                        help_text="PDF, PNG, JPEG, HEIC or plain text; multipart/form-data only.")


class NotificationPreferences(serializers.Serializer):
    sms_opt_in = validation.ApiBooleanField(required=False)
    email_opt_in = validation.ApiBooleanField(required=False)
    quiet_hours_start = validation.ApiTimeOfDayField(required=False, allow_null=True,
                                                     help_text="In the patient's timezone, without an offset (HH:MM).")
    quiet_hours_end = validation.ApiTimeOfDayField(required=False, allow_null=True,
                                                   help_text="In the patient's timezone, without an offset (HH:MM).")
    timezone = serializers.CharField(read_only=True)
    sms_stopped = serializers.BooleanField(read_only=True, help_text="The number texted STOP: no SMS until it texts START.")
