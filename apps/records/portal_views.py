"""The patient portal's records pages (/portal/records/): summary, visit summaries, lab results
(released only, with ranges and a trend), medications and refill requests, documents (upload and
download) and "Who viewed my record". Thin: parse, call a selector or service, render. A row
that is not the patient's (or not released to them) is the 404 page (core's access layer).
Every page that shows record data writes its audit rows; times are on the patient's clock."""
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apps.audit.services import record, record_many
from apps.core import access, pages
from apps.core.timezones import zone_for
from apps.core.validation import int64_or_none
from apps.patients.decorators import patient_required
from apps.records import charts, rules, selectors, services
from apps.records.forms import DocumentForm, RefillForm
from apps.records.models import Document, LabResult, Medication, RefillRequest, VisitSummary

T = "records/portal/"


def _render(request, template, context, *, status=200):
    with timezone.override(zone_for(request.patient)):
        return render(request, T + template, context, status=status)


@patient_required
def records_home(request):
    summary = selectors.patient_summary(request.patient)
    record_many("read", [*summary["problems"], *summary["allergies"], *summary["medications"]],
                detail={"view": "portal_records"})
    return _render(request, "home.html", summary)


@patient_required
def visit_summary_list(request):
    rows = list(selectors.visible(request.user, VisitSummary).order_by("-released_at")[:100])
    record_many("read", rows, detail={"view": "portal_visit_summaries"})
    return _render(request, "visit_list.html", {"summaries": rows})


@patient_required
def visit_summary_detail(request, summary_id):
    summary = selectors.access_entry(request.user, VisitSummary, summary_id)
    record("read", summary)
    return _render(request, "visit_detail.html", {"summary": summary})


@patient_required
def lab_list(request):
    rows = list(selectors.visible(request.user, LabResult).order_by("-collected_at")[:200])
    record_many("read", rows, detail={"view": "portal_labs"})
    return _render(request, "lab_list.html", {"labs": rows, "repeated": selectors.repeated_tests(request.patient)})


@patient_required
def lab_detail(request, lab_id):
    result = selectors.access_entry(request.user, LabResult, lab_id)
    trend = selectors.lab_trend(result)
    record_many("read", trend if result in trend else [result, *trend], detail={"view": "portal_lab"})
    with timezone.override(zone_for(request.patient)):
        chart = charts.trend_chart(trend)
        return render(request, T + "lab_detail.html", {"lab": result, "chart": chart, "trend": trend})


def _medications_page(request, *, form=None, form_for=None, status=200):
    meds = selectors.medications_with_refills(request.patient)
    for med in meds:
        # One form per medication, with ids of its own; the refused one keeps its input and errors.
        med.refill_form = form if form_for == med.pk else RefillForm(auto_id=f"id_{med.pk.hex[:8]}_%s")
    record_many("read", meds, detail={"view": "portal_medications"})
    return _render(request, "medications.html", {"medications": meds, "form_for": form_for}, status=status)


@patient_required
def medication_list(request):
    return _medications_page(request)


@patient_required
@require_POST
def refill_request(request, medication_id):
    medication = selectors.access_entry(request.user, Medication, medication_id, rules.REFILL)
    form = RefillForm(request.POST)
    if not form.is_valid():
        return _medications_page(request, form=form, form_for=medication.pk, status=400)
    pages.on_error(request, lambda exc: _medications_page(request, form=form, form_for=medication.pk,
                                                          status=exc.status_code), form=form)
    services.refill_request_create(medication=medication, actor=request.user, **form.cleaned_data)
    messages.success(request, f"Your refill request for {medication.name} is on its way to your provider.")
    return redirect("portal_records_medications")


@patient_required
@require_POST
def refill_cancel(request, refill_id):
    refill = selectors.access_entry(request.user, RefillRequest, refill_id, access.CHANGE)
    services.refill_request_cancel(refill=refill, actor=request.user)
    messages.success(request, "Your refill request was withdrawn.")
    return redirect("portal_records_medications")


def _documents_page(request, form, *, status=200):
    rows = list(selectors.visible(request.user, Document).order_by("-created_at")[:200])
    record_many("read", rows, detail={"view": "portal_documents"})
    return _render(request, "documents.html", {"documents": rows, "form": form}, status=status)


@patient_required
@require_http_methods(["GET", "POST"])
def document_list(request):
    if request.method != "POST":
        return _documents_page(request, DocumentForm())
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _documents_page(request, form, status=400)
    pages.on_error(request, lambda exc: _documents_page(request, form, status=exc.status_code), form=form)
    data = form.cleaned_data
    services.document_upload(patient=request.patient, actor=request.user, upload=data["file"],
                             category=data["category"], title=data["title"], by_patient=True)
    messages.success(request, "Your document was uploaded. The clinic can see it now.")
    return redirect("portal_records_documents")


@patient_required
def document_download(request, document_id):
    document = selectors.access_entry(request.user, Document, document_id)
    record("read", document, detail={"download": True})
    return download_response(document)


def download_response(document):
    """The stored file as an attachment: its checked type, never sniffed or run by the browser."""
    response = FileResponse(services.document_open(document=document), as_attachment=True,
                            filename=document.filename, content_type=document.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@patient_required
def record_viewers(request):
    page_number = int64_or_none(request.GET.get("page", "1")) or 1
    page = selectors.record_viewers(request.patient, page=max(page_number, 1))
    # Reading this page is the patient's own read: it is logged and never listed here.
    record("read", request.patient, detail={"view": "portal_record_viewers"})
    return _render(request, "viewers.html", {"page": page, "entries": page.object_list, "zone": zone_for(request.patient)})
