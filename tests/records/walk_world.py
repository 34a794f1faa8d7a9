"""The records part of the hostile walk (tests/hardening/walk_table.py): a chart for the world's
patient kept by the world's provider (a problem, an allergy, a medication with an open refill
request, an entered and a released lab, a shared document, a signed note on a second visit with
its summary), made on first use and kept on the world, and the table's rows for every records
route (records_routes(Route, P, ANY), called by walk_table with its own classes)."""
import datetime

from django.utils import timezone

from apps.records import services
from apps.records.models import VisitSummary
from apps.scheduling import services as scheduling
from tests.records.factories import PDF, allergy, lab, make_visit, medication, problem, upload, write_note


class _Chart:
    pass


def chart(world):
    found = getattr(world, "_records_chart", None)
    if found is not None:
        return found
    c = _Chart()
    patient, user, provider = world.patient, world.staff, world.provider
    c.problem = problem(patient, user)
    c.allergy = allergy(patient, user)
    c.medication = medication(patient, user, prescriber=provider)
    c.spare_medication = medication(patient, user, prescriber=provider, name="Lisinopril", dose="10 mg")
    c.refill = services.refill_request_create(medication=c.medication, actor=patient.user, pharmacy="Main St")
    c.entered_lab = lab(patient, user)
    c.released_lab = lab(patient, user, release=True, days_ago=30)
    c.document = services.document_upload(patient=patient, actor=user, upload=upload("r.pdf", PDF), category="REFERRAL")
    services.document_share(document=c.document, actor=user)
    c.draft_visit = make_visit(patient, provider)
    c.draft_note = write_note(c.draft_visit, user)
    signed_visit = make_visit(patient, provider, hours_ago=30)
    c.signed_note = write_note(signed_visit, user, sign=True)
    scheduling.visit_complete(visit=signed_visit, actor=user)
    c.summary = VisitSummary.objects.get(visit=signed_visit)
    world._records_chart = c
    return c


def _r(**names):
    return lambda w: {kwarg: getattr(chart(w), attr).pk for kwarg, attr in names.items()}


def _patient(w):
    chart(w)
    return {"patient_id": w.patient.pk}


def _when(hours_ago):
    return (timezone.localtime() - datetime.timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")


def records_routes(Route, P, ANY):
    lab_fields = (P("test_name", "text"), P("loinc_code", "text"), P("value", "text"), P("unit", "text"),
                  P("reference_low", "int"), P("reference_high", "int"), P("reference_text", "text"),
                  P("abnormal_flag", "choice"), P("collected_at", "datetime"), P("resulted_at", "datetime"))
    lab_base = {"test_name": "Glucose", "loinc_code": "2345-7", "value": "105", "unit": "mg/dL", "reference_low": "70",
                "reference_high": "99", "collected_at": _when(5), "resulted_at": _when(2)}
    note_fields = (P("subjective", "longtext"), P("objective", "longtext"), P("assessment", "longtext"),
                   P("plan", "longtext"), P("diagnosis_codes", "text"), P("summary_assessment", "longtext"),
                   P("follow_up", "longtext"), P("medications_changed", "longtext"), P("action", "free", expect=ANY))
    note_base = {"assessment": "Better", "plan": "Rest", "diagnosis_codes": "J02.9", "action": "save"}
    return [
        # --- the portal ---
        Route("portal_records", "patient"),
        Route("portal_records_visits", "patient"),
        Route("portal_records_visit", "patient", path=_r(summary_id="summary")),
        Route("portal_records_labs", "patient"),
        Route("portal_records_lab", "patient", path=_r(lab_id="released_lab")),
        Route("portal_records_medications", "patient"),
        Route("portal_records_refill", "patient", path=_r(medication_id="spare_medication"), get=False,
              body={"POST": (P("pharmacy", "text"), P("note", "text"))}, base=lambda w: {"POST": {"pharmacy": "Elm St"}}),
        Route("portal_records_refill_cancel", "patient", path=_r(refill_id="refill"), get=False, body={"POST": ()},
              base=lambda w: {"POST": {}}),
        Route("portal_records_documents", "patient", body={"POST": (P("category", "choice"), P("title", "text"))},
              base=lambda w: {"POST": {"category": "ID"}}, note="the file itself: tests/records/test_services_documents.py"),
        Route("portal_records_document_download", "patient", path=_r(document_id="document")),
        Route("portal_records_viewers", "patient", query=(P("page", "free", expect=ANY),)),
        # --- staff ---
        Route("staff_records_patient", "staff", path=_patient, query=(P("tab", "free", expect=ANY),)),
        Route("staff_records_chart_add", "staff", path=lambda w: {**_patient(w), "kind": "problem"}, get=False,
              body={"POST": (P("problem-code", "text"), P("problem-description", "text"), P("problem-onset_date", "date"),
                             P("problem-note", "longtext"))},
              base=lambda w: {"POST": {"problem-code": "I10", "problem-description": "Hypertension"}}),
        Route("staff_records_chart_status", "staff", path=lambda w: {"kind": "problem", "entry_id": chart(w).problem.pk},
              get=False, body={"POST": (P("status", "text"), P("reason", "text"))},
              base=lambda w: {"POST": {"status": "RESOLVED"}}),
        Route("staff_records_lab_add", "staff", path=_patient, get=False, body={"POST": lab_fields},
              base=lambda w: {"POST": dict(lab_base)}),
        Route("staff_records_document_add", "staff", path=_patient, get=False,
              body={"POST": (P("category", "choice"), P("title", "text"))}, base=lambda w: {"POST": {"category": "OTHER"}},
              note="the file itself: tests/records/test_views_staff.py"),
        Route("staff_records_labs", "staff"),
        Route("staff_records_lab_release", "staff", path=_r(lab_id="entered_lab"), get=False,
              body={"POST": (P("next", "free", expect=ANY),)}, base=lambda w: {"POST": {}}),
        Route("staff_records_document_share", "staff", path=_r(document_id="document"), get=False, body={"POST": ()},
              base=lambda w: {"POST": {}}),
        Route("staff_records_document_download", "staff", path=_r(document_id="document")),
        Route("staff_records_visit_note", "staff", path=_r(visit_id="draft_visit"), body={"POST": note_fields},
              base=lambda w: {"POST": dict(note_base)}),
        Route("staff_records_addendum", "staff", path=_r(note_id="signed_note"), get=False,
              body={"POST": (P("text", "text"),)}, base=lambda w: {"POST": {"text": "Culture negative."}}),
        Route("staff_records_notes", "staff"),
        Route("staff_records_refills", "staff"),
        Route("staff_records_refill_decide", "staff", path=_r(refill_id="refill"), get=False,
              body={"POST": (P("decision", "choice"), P("note", "text"))},
              base=lambda w: {"POST": {"decision": "approve"}}),
        # --- the API ---
        *[r for kind, plural, fields, base in (
            ("problem", "problems", (P("code", "text"), P("description", "text"), P("onset_date", "date"), P("note", "text")),
             {"code": "I10", "description": "Hypertension"}),
            ("allergy", "allergies", (P("substance", "text"), P("reaction", "text"), P("severity", "choice")),
             {"substance": "Latex"}),
            ("medication", "medications", (P("name", "text"), P("dose", "text"), P("route", "choice"), P("frequency", "text"),
                                           P("prescriber", "uuid"), P("start_date", "date"), P("end_date", "date")),
             {"name": "Aspirin", "dose": "81 mg", "frequency": "daily", "start_date": "2025-01-01"}),
        ) for r in (
            Route(f"record-{kind}-list", "api", query=(P("patient", "uuid"),),
                  body={"POST": (P("patient", "uuid"), *fields)},
                  base=lambda w, base=base: {"POST": {"patient": str(w.patient.pk), **base}}),
            Route(f"record-{kind}-detail", "api", path=_r(pk=kind), body={"PATCH": fields}, base=lambda w: {"PATCH": {}}),
            Route(f"record-{kind}-set-status", "api", path=_r(pk=kind), get=False,
                  body={"POST": (P("status", "text"), P("reason", "text"))},
                  base=lambda w: {"POST": {"status": "ACTIVE"}}),
        )],
        Route("record-refill-list", "api", query=(P("patient", "uuid"), P("status", "choice"))),
        Route("record-refill-detail", "api", path=_r(pk="refill")),
        Route("record-refill-decide", "api_staff", path=_r(pk="refill"), get=False,
              body={"POST": (P("approve", "bool"), P("note", "text"))}, base=lambda w: {"POST": {"approve": True}}),
        Route("record-note-list", "api_staff", query=(P("patient", "uuid"), P("status", "choice")),
              body={"POST": (P("visit", "uuid"),)}, base=lambda w: {"POST": {"visit": str(chart(w).draft_visit.pk)}}),
        Route("record-note-detail", "api_staff", path=_r(pk="draft_note"),
              body={"PATCH": (P("subjective", "longtext"), P("plan", "longtext"), P("diagnosis_codes", "text", many=True))},
              base=lambda w: {"PATCH": {}}),
        Route("record-note-sign", "api_staff", path=_r(pk="draft_note"), get=False, body={"POST": ()},
              base=lambda w: {"POST": {}}),
        Route("record-note-addenda", "api_staff", path=_r(pk="signed_note"), get=False, body={"POST": (P("text", "text"),)},
              base=lambda w: {"POST": {"text": "Culture negative."}}),
        Route("record-lab-list", "api", query=(P("patient", "uuid"), P("status", "choice"), P("loinc_code", "text")),
              body={"POST": (P("patient", "uuid"), P("visit", "uuid"), P("ordering_provider", "uuid"), *lab_fields)},
              base=lambda w: {"POST": {"patient": str(w.patient.pk), **lab_base}}),
        Route("record-lab-detail", "api", path=_r(pk="released_lab")),
        Route("record-lab-release", "api", path=_r(pk="entered_lab"), get=False, body={"POST": ()},
              base=lambda w: {"POST": {}}),
        Route("record-document-list", "api", query=(P("patient", "uuid"),),
              note="uploads are multipart: tests/records/test_api_access.py"),
        Route("record-document-detail", "api", path=_r(pk="document")),
        Route("record-document-download", "api", path=_r(pk="document")),
        Route("record-document-share", "api", path=_r(pk="document"), get=False, body={"POST": ()},
              base=lambda w: {"POST": {}}),
    ]
