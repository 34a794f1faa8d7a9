"""Admin: clinic admins edit configuration (locations, providers, visit types, availability,
time off, triage rules). Slots, requests and visits are read-only here: they change only
through the services (locks, transitions, events, notifications)."""
from django.contrib import admin

from apps.audit.admin import AuditedModelAdmin
from apps.core.admin import ReadOnlyAdminMixin, ReadOnlyInline
from apps.scheduling.models import (
    AvailabilityException, AvailabilityWindow, Location, Provider, RequestEvent, SlotEvent, TriageRule, Visit,
    VisitEvent, VisitRequest, VisitSlot, VisitType,
)


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "phone", "is_active"]
    list_filter = ["is_active"]


@admin.register(VisitType)
class VisitTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "mode", "duration_minutes", "self_bookable", "is_active"]
    list_filter = ["mode", "self_bookable", "is_active"]
    search_fields = ["name"]


class AvailabilityWindowInline(admin.TabularInline):
    model = AvailabilityWindow
    extra = 0


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "specialty", "credentials", "licensed_states", "is_active"]
    list_filter = ["is_active", "specialty"]
    search_fields = ["user__email", "user__full_name", "specialty"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["visit_types"]
    list_select_related = ["user"]
    inlines = [AvailabilityWindowInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            from django.contrib.auth import get_user_model

            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(AvailabilityWindow)
class AvailabilityWindowAdmin(admin.ModelAdmin):
    list_display = ["provider", "weekday", "start_time", "end_time", "location", "mode", "slot_minutes", "effective_from", "effective_to"]
    list_filter = ["weekday", "mode", "location"]
    list_select_related = ["provider__user", "location"]


@admin.register(AvailabilityException)
class AvailabilityExceptionAdmin(admin.ModelAdmin):
    """Time off entered here stops new slots at once; FREE slots already generated inside it
    are BLOCKED by the next slot generation run (the staff service blocks them at once)."""

    list_display = ["provider", "start", "end", "reason"]
    list_select_related = ["provider__user"]
    date_hierarchy = "start"


@admin.register(TriageRule)
class TriageRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "severity", "priority", "symptom_keyword", "answer_key", "answer_operator", "answer_value",
                    "min_age_months", "max_age_months", "is_active"]
    list_filter = ["severity", "is_active"]
    list_editable = ["priority", "is_active"]
    search_fields = ["name", "symptom_keyword", "answer_key"]


class ReadOnlyAdmin(ReadOnlyAdminMixin, AuditedModelAdmin):
    """Slots, requests and visits change through the services only; every view is audited."""


class SlotEventInline(ReadOnlyInline):
    model = SlotEvent
    readonly_fields = ["at", "actor", "from_status", "to_status", "reason", "request"]


@admin.register(VisitSlot)
class VisitSlotAdmin(ReadOnlyAdmin):
    list_display = ["start", "end", "provider", "location", "mode", "status", "hold_kind", "held_until"]
    list_filter = ["status", "mode", "location"]
    list_select_related = ["provider__user", "location"]
    date_hierarchy = "start"
    show_full_result_count = False
    inlines = [SlotEventInline]


class RequestEventInline(SlotEventInline):
    model = RequestEvent
    readonly_fields = ["at", "kind", "actor", "from_status", "to_status", "reason", "data"]


@admin.register(VisitRequest)
class VisitRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "patient", "request_type", "severity", "status", "created_at"]
    list_filter = ["request_type", "severity", "status"]
    list_select_related = ["patient"]
    show_full_result_count = False
    inlines = [RequestEventInline]


class VisitEventInline(SlotEventInline):
    model = VisitEvent
    readonly_fields = ["at", "actor", "from_status", "to_status", "reason", "data"]


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ["start", "patient", "provider", "visit_type", "mode", "status", "late_cancel"]
    list_filter = ["status", "mode", "is_walk_in", "late_cancel"]
    list_select_related = ["patient", "provider__user", "visit_type"]
    date_hierarchy = "start"
    show_full_result_count = False
    inlines = [VisitEventInline]
