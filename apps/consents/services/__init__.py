"""Every consents write. Import services from here: apps.consents.services.<name>."""
from apps.consents.services.cases import (
    billing_payload, case_cancel, case_complete, case_item_record, case_start, surgical_case_create, theatre_book,
)
from apps.consents.services.consents import (
    consent_create, consent_decline, consent_revoke, consent_save_progress, consent_sign, consent_template_new_version,
    consent_template_publish, consents_expire, consents_remind_unsigned, name_matches,
)
from apps.consents.services.plans import (
    ensure_completed_consultation, is_consultation, preop_item_add, preop_item_complete, procedure_plan_approve,
    procedure_plan_cancel, procedure_plan_create, procedure_plan_new_version, procedure_plan_set_planned_date,
    procedure_plan_submit, procedure_plan_update,
)
from apps.consents.services.pdf import (
    UploadCheck, consent_pdf_bytes, consent_pdf_check_upload, consent_pdf_render, consents_render_missing_pdfs,
)
from apps.consents.services.verification import Verification, consent_check, consent_verify

__all__ = [
    "billing_payload", "case_cancel", "case_complete", "case_item_record", "case_start", "surgical_case_create",
    "theatre_book",
    "consent_create", "consent_decline", "consent_revoke", "consent_save_progress", "consent_sign",
    "consent_template_new_version", "consent_template_publish", "consents_expire", "consents_remind_unsigned",
    "name_matches",
    "ensure_completed_consultation", "is_consultation", "preop_item_add", "preop_item_complete", "procedure_plan_approve",
    "procedure_plan_cancel", "procedure_plan_create", "procedure_plan_new_version", "procedure_plan_set_planned_date",
    "procedure_plan_submit", "procedure_plan_update",
    "UploadCheck", "consent_pdf_bytes", "consent_pdf_check_upload", "consent_pdf_render", "consents_render_missing_pdfs",
    "Verification", "consent_check", "consent_verify",
]
