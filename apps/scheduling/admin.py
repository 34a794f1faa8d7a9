"""Admin: clinic admins edit configuration (locations, providers, visit types, availability,
time off, triage questions and rules). Slots, requests and visits are read-only here: they change only
through the services (locks, transitions, events, notifications). An availability edit
regenerates the slots it concerns at once (RegeneratesSlotsMixin)."""
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from apps.audit.admin import AuditedModelAdmin
from apps.core.admin import ReadOnlyAdminMixin, ReadOnlyInline
from apps.scheduling.models import (
    BUILTIN_ANSWER_KEYS, AvailabilityException, AvailabilityWindow, Location, Provider, RequestEvent, SlotEvent,
    TriageQuestion, TriageRule, Visit, VisitEvent, VisitRequest, VisitSlot, VisitType,
)
from apps.scheduling.services import slots_generate


class RegeneratesSlotsMixin:
    """Availability edited here takes effect at once: after a save (the object and its inlines)
    or a delete, the slots of the providers it concerns are generated again, so FREE slots the
    availability no longer produces are retired and those it produces again come back
    (slots_generate). Runs in the admin's transaction: the edit and its slots commit together.
    By default an edit concerns the object's provider, and its former one when the form moved
    it to another; admins of other models say which providers an edit concerns (none when
    nothing relevant changed)."""

    def providers_concerned(self, obj, form=None, formsets=()):
        concerned = {obj.provider_id}
        if form is not None and "provider" in form.changed_data:
            concerned.add(form.initial.get("provider"))
        return concerned

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self._regenerate(request, self.providers_concerned(form.instance, form, formsets))

    def delete_model(self, request, obj):
        concerned = self.providers_concerned(obj)
        super().delete_model(request, obj)
        self._regenerate(request, concerned)

    def delete_queryset(self, request, queryset):
        concerned = set().union(*(self.providers_concerned(obj) for obj in queryset))
        super().delete_queryset(request, queryset)
        self._regenerate(request, concerned)

    def _regenerate(self, request, provider_ids):
        provider_ids = set(provider_ids) - {None}
        if not provider_ids:
            return
        result = slots_generate(providers=sorted(provider_ids, key=str))
        if result.created or result.retired or result.blocked:
            self.message_user(request, f"Slots updated: {result.created} created, {result.retired} retired as no longer "
                                       f"in availability, {result.blocked} blocked for time off.", messages.INFO)


@admin.register(Location)
class LocationAdmin(RegeneratesSlotsMixin, admin.ModelAdmin):
    list_display = ["name", "timezone", "phone", "is_active"]
    list_filter = ["is_active"]

    def providers_concerned(self, obj, form=None, formsets=()):
        if form is not None and not {"is_active", "timezone"} & set(form.changed_data):
            return set()
        # Providers with windows here, and those with FREE slots here still to retire.
        return set(Provider.objects.filter(
            Q(windows__location=obj)
            | Q(slots__location=obj, slots__status=VisitSlot.Status.FREE, slots__start__gt=timezone.now())
        ).values_list("pk", flat=True))


@admin.register(VisitType)
class VisitTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "mode", "duration_minutes", "self_bookable", "is_active"]
    list_filter = ["mode", "self_bookable", "is_active"]
    search_fields = ["name"]


class AvailabilityWindowInline(admin.TabularInline):
    model = AvailabilityWindow
    extra = 0


@admin.register(Provider)
class ProviderAdmin(RegeneratesSlotsMixin, admin.ModelAdmin):
    list_display = ["__str__", "specialty", "credentials", "licensed_states", "is_active"]
    list_filter = ["is_active", "specialty"]
    search_fields = ["user__email", "user__full_name", "specialty"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["visit_types"]
    list_select_related = ["user"]
    inlines = [AvailabilityWindowInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def providers_concerned(self, obj, form=None, formsets=()):
        # Activation or its windows (the inline); not its name or specialty.
        if form is not None and "is_active" not in form.changed_data and not any(f.has_changed() for f in formsets):
            return set()
        return {obj.pk}


@admin.register(AvailabilityWindow)
class AvailabilityWindowAdmin(RegeneratesSlotsMixin, admin.ModelAdmin):
    list_display = ["provider", "weekday", "start_time", "end_time", "location", "mode", "slot_minutes", "effective_from", "effective_to"]
    list_filter = ["weekday", "mode", "location"]
    list_select_related = ["provider__user", "location"]


@admin.register(AvailabilityException)
class AvailabilityExceptionAdmin(RegeneratesSlotsMixin, admin.ModelAdmin):
    """Time off entered here stops new slots and BLOCKS the FREE slots inside it at once (slot
    generation runs on save). Deleting time off does not unblock slots: staff do that."""

    list_display = ["provider", "start", "end", "reason"]
    list_select_related = ["provider__user"]
    date_hierarchy = "start"


@admin.register(TriageQuestion)
class TriageQuestionAdmin(admin.ModelAdmin):
    """The portal's yes/no questions. Deactivating, renaming or deleting a question that an
    active rule reads is refused (TriageQuestion.clean; protected on delete below)."""

    list_display = ["key", "text", "is_emergency", "order", "is_active"]
    list_display_links = ["key", "text"]
    list_filter = ["is_emergency", "is_active"]
    list_editable = ["order", "is_active"]
    search_fields = ["key", "text"]

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        for question in objs:
            protected += [f"Triage rule: {name} (reads '{question.key}')" for name in TriageQuestion.rules_reading(question.key)]
        return deleted, model_count, perms_needed, protected


@admin.register(TriageRule)
class TriageRuleAdmin(admin.ModelAdmin):
    """A rule's answer key must be asked: an active question's key or a built-in key
    (TriageRule.clean), else the rule could never match."""

    list_display = ["name", "severity", "priority", "symptom_keyword", "answer_key", "answer_operator", "answer_value",
                    "min_age_months", "max_age_months", "is_active"]
    list_filter = ["severity", "is_active"]
    list_editable = ["priority", "is_active"]
    search_fields = ["name", "symptom_keyword", "answer_key"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "answer_key":
            field.help_text = ("The key of an active question (Triage questions), or a built-in key: "
                               + "; ".join(f"{k} ({what})" for k, what in BUILTIN_ANSWER_KEYS.items()) + ".")
        return field


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
