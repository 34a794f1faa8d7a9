from django.urls import path, re_path
from django.views.generic import RedirectView

from apps.consents.staff_views import cases, consents, plans

urlpatterns = [
    path("staff/surgery/", RedirectView.as_view(pattern_name="staff_surgery_plans"), name="staff_surgery"),
    # Procedure plans and the surgeon's approval queue.
    path("staff/surgery/plans/", plans.plan_list, name="staff_surgery_plans"),
    path("staff/surgery/patients/<uuid:patient_id>/plans/new/", plans.plan_create, name="staff_surgery_plan_new"),
    path("staff/surgery/plans/<uuid:plan_id>/", plans.plan_detail, name="staff_surgery_plan"),
    path("staff/surgery/plans/<uuid:plan_id>/edit/", plans.plan_edit, name="staff_surgery_plan_edit"),
    path("staff/surgery/plans/<uuid:plan_id>/submit/", plans.plan_submit, name="staff_surgery_plan_submit"),
    path("staff/surgery/plans/<uuid:plan_id>/approve/", plans.plan_approve, name="staff_surgery_plan_approve"),
    path("staff/surgery/plans/<uuid:plan_id>/cancel/", plans.plan_cancel, name="staff_surgery_plan_cancel"),
    path("staff/surgery/plans/<uuid:plan_id>/new-version/", plans.plan_new_version, name="staff_surgery_plan_new_version"),
    path("staff/surgery/plans/<uuid:plan_id>/planned-date/", plans.plan_planned_date, name="staff_surgery_plan_date"),
    # Item ids are bigints: at most 18 digits, so an overflowing id is a 404, not a database error.
    re_path(r"^staff/surgery/plans/(?P<plan_id>[0-9a-f-]{36})/preop/(?P<item_id>[0-9]{1,18})/done/$", plans.preop_done,
            name="staff_surgery_preop_done"),
    path("staff/surgery/approvals/", plans.approval_queue, name="staff_surgery_approvals"),
    # Consents: send, status and verification, the signed PDF, any uploaded PDF checked.
    path("staff/surgery/consents/", consents.consent_list, name="staff_surgery_consents"),
    path("staff/surgery/patients/<uuid:patient_id>/consents/send/", consents.consent_send, name="staff_surgery_consent_send"),
    path("staff/surgery/consents/<uuid:consent_id>/", consents.consent_detail, name="staff_surgery_consent"),
    path("staff/surgery/consents/<uuid:consent_id>/verify/", consents.consent_verify, name="staff_surgery_consent_verify"),
    path("staff/surgery/consents/<uuid:consent_id>/revoke/", consents.consent_revoke, name="staff_surgery_consent_revoke"),
    path("staff/surgery/consents/<uuid:consent_id>/pdf/", consents.consent_pdf, name="staff_surgery_consent_pdf"),
    path("staff/surgery/verify-pdf/", consents.pdf_check, name="staff_surgery_pdf_check"),
    # Surgical cases, the theatre schedule, the lot trace.
    path("staff/surgery/cases/", cases.case_list, name="staff_surgery_cases"),
    path("staff/surgery/plans/<uuid:plan_id>/case/new/", cases.case_create, name="staff_surgery_case_new"),
    path("staff/surgery/cases/<uuid:case_id>/", cases.case_detail, name="staff_surgery_case"),
    path("staff/surgery/cases/<uuid:case_id>/book/", cases.case_book, name="staff_surgery_case_book"),
    path("staff/surgery/cases/<uuid:case_id>/items/", cases.case_item, name="staff_surgery_case_item"),
    path("staff/surgery/cases/<uuid:case_id>/cancel/", cases.case_cancel, name="staff_surgery_case_cancel"),
    path("staff/surgery/cases/<uuid:case_id>/<slug:action>/", cases.case_move, name="staff_surgery_case_move"),
    path("staff/surgery/theatre/", cases.theatre_schedule, name="staff_surgery_theatre"),
    path("staff/surgery/trace/", cases.lot_trace, name="staff_surgery_trace"),
]
