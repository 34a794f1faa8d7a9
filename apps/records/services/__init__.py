"""Every write of the records app (HackSoft style: <entity>_<verb>, keyword-only arguments)."""
from apps.records.services.chart import (
    CHART_FIELDS, chart_entry_create, chart_entry_set_status, chart_entry_update, refill_request_cancel,
    refill_request_create, refill_request_decide,
)
from apps.records.services.documents import document_open, document_share, document_upload
from apps.records.services.labs import flag_for, lab_result_create, lab_result_release, numeric_value
from apps.records.services.notes import (
    note_addendum_add, on_visit_transition, visit_note_sign, visit_note_start, visit_note_update,
    visit_summary_release,
)
from apps.records.services.readings import (
    KINDS as READING_KINDS, ReadingsRecorded, reading_permissions_set, record_readings,
)

__all__ = [
    "CHART_FIELDS", "chart_entry_create", "chart_entry_set_status", "chart_entry_update", "refill_request_cancel",
    "refill_request_create", "refill_request_decide", "document_open", "document_share", "document_upload",
    "flag_for", "lab_result_create", "lab_result_release", "numeric_value", "note_addendum_add",
    "on_visit_transition", "visit_note_sign", "visit_note_start", "visit_note_update", "visit_summary_release",
    "READING_KINDS", "ReadingsRecorded", "reading_permissions_set", "record_readings",
]
