from django.urls import path

from apps.records import portal_views as portal
from apps.records import staff_views as staff

urlpatterns = [
    path("portal/records/", portal.records_home, name="portal_records"),
    path("portal/records/visits/", portal.visit_summary_list, name="portal_records_visits"),
    path("portal/records/visits/<uuid:summary_id>/", portal.visit_summary_detail, name="portal_records_visit"),
    path("portal/records/labs/", portal.lab_list, name="portal_records_labs"),
    path("portal/records/labs/<uuid:lab_id>/", portal.lab_detail, name="portal_records_lab"),
    path("portal/records/medications/", portal.medication_list, name="portal_records_medications"),
    path("portal/records/medications/<uuid:medication_id>/refill/", portal.refill_request, name="portal_records_refill"),
    path("portal/records/refills/<uuid:refill_id>/cancel/", portal.refill_cancel, name="portal_records_refill_cancel"),
    path("portal/records/documents/", portal.document_list, name="portal_records_documents"),
    path("portal/records/documents/<uuid:document_id>/download/", portal.document_download,
         name="portal_records_document_download"),
    path("portal/records/viewers/", portal.record_viewers, name="portal_records_viewers"),

    path("staff/records/patients/<uuid:patient_id>/", staff.patient_records, name="staff_records_patient"),
    path("staff/records/patients/<uuid:patient_id>/<str:kind>/add/", staff.chart_entry_add, name="staff_records_chart_add"),
    path("staff/records/patients/<uuid:patient_id>/labs/", staff.lab_add, name="staff_records_lab_add"),
    path("staff/records/patients/<uuid:patient_id>/documents/", staff.document_add, name="staff_records_document_add"),
    path("staff/records/chart/<str:kind>/<uuid:entry_id>/status/", staff.chart_entry_status, name="staff_records_chart_status"),
    path("staff/records/labs/", staff.labs_to_release, name="staff_records_labs"),
    path("staff/records/labs/<uuid:lab_id>/release/", staff.lab_release, name="staff_records_lab_release"),
    path("staff/records/documents/<uuid:document_id>/share/", staff.document_share, name="staff_records_document_share"),
    path("staff/records/documents/<uuid:document_id>/download/", staff.document_download,
         name="staff_records_document_download"),
    path("staff/records/visits/<uuid:visit_id>/note/", staff.visit_note, name="staff_records_visit_note"),
    path("staff/records/notes/<uuid:note_id>/addendum/", staff.note_addendum, name="staff_records_addendum"),
    path("staff/records/notes/", staff.notes_to_sign, name="staff_records_notes"),
    path("staff/records/refills/", staff.refills_to_review, name="staff_records_refills"),
    path("staff/records/refills/<uuid:refill_id>/decide/", staff.refill_decide, name="staff_records_refill_decide"),
]
