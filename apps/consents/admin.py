"""Admin: clinic admins write consent templates (editable until published; publish and new
version go through the services), operating rooms, the pre-op catalogue and which visit types
are consultations. Plans, consents and cases are read-only here: they change only through the
services (locks, transitions, events, notifications)."""
import json

from django import forms
from django.contrib import admin, messages

from apps.audit.admin import AuditedModelAdmin
from apps.consents import services
from apps.consents.content import content_problems
from apps.consents.models import (
    CaseEvent, CaseItem, ConsentEvent, ConsentForm, ConsentTemplate, ConsultationVisitType, OperatingRoom, PlanEvent,
    PreOpItem, PreOpRequirement, ProcedureLine, ProcedurePlan, SurgicalCase, TheatreBooking,
)
from apps.core.admin import ReadOnlyAdminMixin, ReadOnlyInline


class ConsentTemplateForm(forms.ModelForm):
    class Meta:
        model = ConsentTemplate
        fields = ["key", "version", "kind", "jurisdiction", "title", "summary", "sections", "checks", "validity_days"]
        help_texts = {
            "sections": 'A list of sections: [{"title": "...", "clauses": [{"key": "risks", "text": "..."}]}]',
            "checks": 'Understanding checks: [{"key": "...", "question": "...", "choices": ["...", "..."], '
                      '"answer": "...", "explanation": "..."}]',
        }

    def clean(self):
        data = super().clean()
        if self.instance.pk and self.instance.is_published:
            # Every field is read-only (ConsentTemplateAdmin.get_readonly_fields): nothing to check,
            # and the model refuses the save anyway.
            return data
        problems = content_problems(data.get("sections"), data.get("checks") or [])
        for name, messages_ in problems.items():
            for message in messages_:
                self.add_error(name, message)
        return data


@admin.register(ConsentTemplate)
class ConsentTemplateAdmin(admin.ModelAdmin):
    form = ConsentTemplateForm
    list_display = ["title", "key", "version", "kind", "jurisdiction", "published_at"]
    list_filter = ["kind", "jurisdiction", "published_at"]
    search_fields = ["title", "key"]
    actions = ["publish", "new_version"]

    def get_readonly_fields(self, request, obj=None):
        # A published version never changes (the database refuses it too): every field read-only.
        if obj is not None and obj.is_published:
            return [*self.form.Meta.fields, "published_at", "published_by", "pretty_sections"]
        return ["published_at", "published_by"]

    def get_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return ["key", "version", "kind", "jurisdiction", "title", "summary", "pretty_sections", "checks",
                    "validity_days", "published_at", "published_by"]
        return [*self.form.Meta.fields, "published_at", "published_by"]

    @admin.display(description="Sections")
    def pretty_sections(self, obj):
        return json.dumps(obj.sections, indent=2, ensure_ascii=False)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_delete_permission(request, obj)

    # Staff who may only read templates (nurses, the front desk) see no actions.
    @admin.action(description="Publish the selected drafts (they never change afterwards)", permissions=["change"])
    def publish(self, request, queryset):
        for template in queryset:
            problems = content_problems(template.sections, template.checks)
            if template.is_published or problems:
                reason = "already published" if template.is_published else "; ".join(sum(problems.values(), []))
                self.message_user(request, f"{template}: not published ({reason}).", messages.ERROR)
                continue
            services.consent_template_publish(template=template, actor=request.user)
            self.message_user(request, f"Published {template}.", messages.SUCCESS)

    @admin.action(description="New version of the selected templates (an editable copy)", permissions=["add"])
    def new_version(self, request, queryset):
        for template in queryset:
            new = services.consent_template_new_version(template=template, actor=request.user)
            self.message_user(request, f"Created {new}.", messages.SUCCESS)


@admin.register(OperatingRoom)
class OperatingRoomAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "is_active"]
    list_filter = ["is_active"]


@admin.register(PreOpRequirement)
class PreOpRequirementAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "is_required", "is_active", "order"]
    list_editable = ["is_required", "is_active", "order"]


@admin.register(ConsultationVisitType)
class ConsultationVisitTypeAdmin(admin.ModelAdmin):
    list_display = ["visit_type", "created_at"]


class LineInline(ReadOnlyInline):
    model = ProcedureLine
    fields = ["code", "description", "site", "side", "estimated_fee"]


class PreOpInline(ReadOnlyInline):
    model = PreOpItem
    fields = ["label", "is_required", "source", "done_at", "done_by"]


class PlanEventInline(ReadOnlyInline):
    model = PlanEvent
    fields = ["at", "actor", "actor_label", "from_status", "to_status", "reason"]


@admin.register(ProcedurePlan)
class ProcedurePlanAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ["id", "patient", "surgeon", "version", "status", "quote_total", "created_at"]
    list_filter = ["status"]
    inlines = [LineInline, PreOpInline, PlanEventInline]


class ConsentEventInline(ReadOnlyInline):
    model = ConsentEvent
    fields = ["at", "actor", "actor_label", "from_status", "to_status", "reason"]


@admin.register(ConsentForm)
class ConsentFormAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ["id", "patient", "template", "status", "signed_at", "expires_at"]
    list_filter = ["status", "kind"]
    exclude = ["signature_image", "document", "progress"]
    inlines = [ConsentEventInline]


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ["at", "actor", "actor_label", "from_status", "to_status", "reason"]


class BookingInline(ReadOnlyInline):
    model = TheatreBooking
    fields = ["room", "start", "end", "status"]


class ItemInline(ReadOnlyInline):
    model = CaseItem
    fields = ["kind", "name", "manufacturer", "lot_number", "serial_number", "quantity", "billable"]


@admin.register(SurgicalCase)
class SurgicalCaseAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ["id", "patient", "surgeon", "status", "anaesthesia_type", "created_at"]
    list_filter = ["status"]
    inlines = [BookingInline, ItemInline, CaseEventInline]
