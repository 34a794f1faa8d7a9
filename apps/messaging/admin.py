from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template import TemplateSyntaxError

from apps.audit.admin import AuditedModelAdmin
from apps.core.admin import ReadOnlyAdminMixin, ReadOnlyInline
from apps.messaging.models import (
    DeliveryAttempt,
    InboundSms,
    MessageTemplate,
    Notification,
    OutboundMessage,
    SmsOptOut,
    SmsOutboxEntry,
)
from apps.messaging.rendering import _engine
from apps.messaging.threads.models import Attachment, Message, Thread, ThreadEvent


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "title", "read_at"]
    list_filter = ["kind", "urgent"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__email", "kind"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows only services write: the admin shows them and changes nothing."""


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ["number", "started_at", "finished_at", "outcome", "provider_message_id", "provider_status", "http_status", "error_code", "error"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "channel", "masked_to", "status", "attempts", "next_attempt_at", "provider_status", "last_error"]
    list_filter = ["status", "channel", "kind", "urgent"]
    search_fields = ["dedupe_key", "provider_message_id", "kind"]
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]
    list_select_related = False


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "message", "number", "outcome", "provider_status", "http_status", "error_code"]
    list_filter = ["outcome"]
    search_fields = ["provider_message_id", "message__dedupe_key"]
    list_select_related = ["message"]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["kind", "language", "subject", "updated_at"]
    list_filter = ["language"]
    search_fields = ["kind", "subject"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.clean = _template_syntax_clean(form.clean)
        return form


def _template_syntax_clean(original):
    """Refuse a template that does not compile, so a typo never reaches a patient."""

    def clean(self):
        data = original(self)
        for field in ("subject", "sms_body", "email_body"):
            try:
                _engine.from_string(data.get(field) or "")
            except TemplateSyntaxError as exc:
                raise ValidationError({field: f"Template error: {exc}"})
        return data

    return clean


@admin.register(SmsOutboxEntry)
class SmsOutboxEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "sid", "to", "body"]
    search_fields = ["sid", "to"]


@admin.register(InboundSms)
class InboundSmsAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "from_number", "patient", "keyword", "action", "status"]
    list_filter = ["status", "action"]
    search_fields = ["sid", "from_number"]
    list_select_related = ["patient"]


@admin.register(SmsOptOut)
class SmsOptOutAdmin(ReadOnlyAdmin):
    list_display = ["phone", "opted_out_at", "keyword"]
    search_fields = ["phone"]


# --- secure threads (apps/messaging/threads) --------------------------------------------------
# Read-only: threads, messages and attachments are written by the thread services only (the
# portal, staff pages, the API, inbound SMS). Every thread shown in a list or opened is in the
# access log (AuditedModelAdmin), since its messages are PHI.


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ["created_at", "author_kind", "author_label", "body"]
    ordering = ["created_at", "id"]


class ThreadEventInline(ReadOnlyInline):
    model = ThreadEvent
    fields = ["at", "kind", "actor_label", "from_status", "to_status", "reason"]
    ordering = ["at", "id"]


@admin.register(Thread)
class ThreadAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ["last_message_at", "subject", "patient", "status", "assigned_to"]
    list_filter = ["status"]
    search_fields = ["subject", "patient__mrn", "patient__last_name"]
    list_select_related = ["patient", "assigned_to"]
    readonly_fields = ["patient", "subject", "status", "assigned_to", "created_by", "last_message_at",
                       "last_patient_message_at", "last_staff_message_at", "patient_read_at", "staff_read_at",
                       "closed_at", "created_at"]
    fields = readonly_fields
    inlines = [MessageInline, ThreadEventInline]
    show_full_result_count = False


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """Names and sizes only: the files are served through the thread pages' access check."""

    list_display = ["created_at", "original_name", "content_type", "size", "message"]
    search_fields = ["original_name"]
    list_select_related = ["message__thread"]
    readonly_fields = ["message", "original_name", "content_type", "size", "uploaded_by", "created_at"]
    fields = readonly_fields
