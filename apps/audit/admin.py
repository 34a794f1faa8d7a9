import csv

from django.contrib import admin
from django.http import StreamingHttpResponse

from apps.audit.models import AccessLog
from apps.audit.services import PATIENT_LABEL, record, record_list, record_many

EXPORT_FIELDS = ["at", "actor_label", "role", "action", "object_type", "object_id", "patient_id", "patient_ids", "ip",
                 "user_agent", "request_id", "path"]


class _Echo:
    def write(self, value):
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """Text a spreadsheet would run as a formula gets a leading quote: user agents and attempted
    logins are typed by whoever calls us (CSV injection). A list entry's patients are one cell,
    space-separated."""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class AuditedModelAdmin(admin.ModelAdmin):
    """Admin pages over patient data: every object shown in a list or opened is logged. A list
    of patients is one entry naming them all (record_list); a list of other objects keeps one
    row per object (record_many), so each object's id stays searchable."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            record("read", obj)
        return obj

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if self.model._meta.label_lower == PATIENT_LABEL:
            record_list("read", changelist.result_list, detail={"view": "admin_changelist"})
        else:
            record_many("read", changelist.result_list)
        return changelist


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "role", "action", "object_type", "object_id", "ip", "request_id"]
    list_filter = ["action", "role", "object_type"]
    # patient_ids: a patient's id also finds the list pages that showed them (one entry each).
    search_fields = ["actor_label", "object_id", "patient_id", "patient_ids", "request_id", "ip"]
    date_hierarchy = "at"
    list_select_related = False
    show_full_result_count = False
    actions = ["export_csv"]
    readonly_fields = [f.name for f in AccessLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Export selected entries as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        record("export", object_type="audit.accesslog", detail={"count": queryset.count()})
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(EXPORT_FIELDS)
            for entry in queryset.order_by("at", "id").iterator(chunk_size=2000):
                yield writer.writerow([_cell(getattr(entry, f)) for f in EXPORT_FIELDS])

        response = StreamingHttpResponse(rows(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="access-log.csv"'
        return response
