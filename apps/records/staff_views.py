"""The staff records pages (/staff/records/): a patient's chart (problems, allergies, medications,
labs with release, notes, documents), the note editor on a visit, and the provider's queues
("notes to sign", "refills to review") plus the labs waiting for release. Thin: parse, call a
selector or a service, render; refusals through core.pages.on_error. Every page that shows
record data writes its audit rows. The patient page (/staff/patients/<id>/) shows a short chart
through patients' extension point (patient_section)."""
import datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apps.audit.services import record, record_many
from apps.core import access, pages
from apps.core.decorators import staff_required
from apps.patients.selectors import access_patient_for_staff
from apps.records import charts, rules, selectors, services
from apps.records.forms import (
    AddendumForm, AllergyForm, DecisionForm, LabForm, MedicationForm, NoteForm, ProblemForm, StaffDocumentForm,
    StatusForm,
)
from apps.records.models import (
    Allergy, Document, LabResult, Medication, PatientReading, Problem, ReadingKind, RefillRequest, VisitNote,
)
from apps.records.portal_views import download_response
from apps.scheduling.models import Visit
from apps.scheduling.selectors import access_visit_for_staff

T = "records/staff/"
TABS = ("chart", "labs", "notes", "documents")
CHART = {"problem": (Problem, ProblemForm), "allergy": (Allergy, AllergyForm), "medication": (Medication, MedicationForm)}


def _may(user, model, action=access.VIEW):
    return access.may(user, model, action)


# --- the patient page's section (patients' extension point) ------------------------------------------

def patient_section(*, request, patient):
    """A short chart on the staff patient page: active problems, allergies, current
    medications, the latest labs, the patient's own readings from their phone (last 90 days,
    with a trend chart per type) and links to the full records page. None for staff who may
    read none of it (the front desk)."""
    user = request.user
    if not _may(user, Problem):
        return None
    summary = selectors.patient_summary(patient)
    latest = list(selectors.labs().filter(patient=patient).order_by("-collected_at")[:5]) if _may(user, LabResult) else []
    trends = selectors.reading_trends(patient) if _may(user, PatientReading) else {}
    readings = [_reading_trend(kind, rows) for kind, rows in trends.items()]
    record_many("read", [*summary["problems"], *summary["allergies"], *summary["medications"], *latest,
                         *(row for rows in trends.values() for row in rows)],
                detail={"view": "staff_patient_section"})
    return {"template": T + "_patient_section.html",
            "context": {**summary, "labs": latest, "patient": patient, "readings": readings}}


def _reading_trend(kind, rows):
    """One type of the patient's readings for the patient page: its label, the newest reading
    and the small chart of the last ones (None for a single reading)."""
    return {"kind": kind, "label": ReadingKind(kind).label, "latest": rows[-1], "count": len(rows),
            "chart": charts.readings_chart(rows)}


def visit_note_link(*, request, visit):
    """The staff visit page's link to the visit's note editor (scheduling's extension point
    staff_visit_links), for staff who may read notes; none for a cancelled or missed visit,
    which takes no note."""
    if not request.user.has_perm("records.view_visitnote") or visit.status in (Visit.Status.CANCELLED,
                                                                                Visit.Status.NO_SHOW):
        return None
    writes = visit.provider.user_id == request.user.pk and request.user.has_perm("records.sign_visitnote")
    return {"label": "Note", "text": "Write or sign the visit note" if writes else "Open the visit note",
            "url": reverse("staff_records_visit_note", args=[visit.pk])}


# --- the chart page --------------------------------------------------------------------------------------

def _chart_context(request, patient, tab):
    user = request.user
    context = {"patient": patient, "tab": tab, "tabs": TABS}
    shown = []
    if tab == "chart":
        for kind, (model, form_class) in CHART.items():
            rows = list(selectors.visible(user, model).filter(patient=patient))
            shown += rows
            context[f"{kind}_rows"] = rows
            context[f"{kind}_form"] = form_class(prefix=kind) if _may(user, model, rules.CREATE) else None
            context[f"{kind}_can_change"] = _may(user, model, access.CHANGE)
    elif tab == "labs":
        rows = list(selectors.visible(user, LabResult).filter(patient=patient).order_by("-collected_at")[:100])
        shown += rows
        context.update(lab_rows=rows, lab_form=LabForm() if _may(user, LabResult, rules.CREATE) else None,
                       can_release=_may(user, LabResult, rules.RELEASE))
    elif tab == "notes":
        rows = list(selectors.visible(user, VisitNote).filter(patient=patient).order_by("-visit__start")[:100])
        shown += rows
        context.update(note_rows=rows)
    elif tab == "documents":
        rows = list(selectors.visible(user, Document).filter(patient=patient)[:100])
        shown += rows
        context.update(document_rows=rows, document_form=StaffDocumentForm() if _may(user, Document, rules.UPLOAD) else None,
                       can_share=_may(user, Document, rules.SHARE))
    return context, shown


def _chart_page(request, patient, tab, *, status=200, **forms):
    if tab not in TABS:
        raise Http404()
    if tab == "documents" and not _may(request.user, Document):
        return render(request, "403.html", status=403)
    if tab != "documents" and not _may(request.user, {"chart": Problem, "labs": LabResult, "notes": VisitNote}[tab]):
        return render(request, "403.html", status=403)
    context, shown = _chart_context(request, patient, tab)
    context.update(forms)
    record("read", patient, detail={"view": f"staff_records_{tab}"})
    record_many("read", shown, detail={"view": f"staff_records_{tab}"})
    return render(request, T + "patient_records.html", context, status=status)


@staff_required()
def patient_records(request, patient_id):
    patient = access_patient_for_staff(request.user, patient_id)
    default = "chart" if _may(request.user, Problem) else "documents"
    return _chart_page(request, patient, request.GET.get("tab", default))


@staff_required()
@require_POST
def chart_entry_add(request, patient_id, kind):
    if kind not in CHART:
        raise Http404()
    model, form_class = CHART[kind]
    access.scope(request.user, model.objects.none(), rules.CREATE)
    patient = access_patient_for_staff(request.user, patient_id)
    form = form_class(request.POST, prefix=kind)
    if not form.is_valid():
        return _chart_page(request, patient, "chart", status=400, **{f"{kind}_form": form})
    pages.on_error(request, lambda exc: _chart_page(request, patient, "chart", status=exc.status_code,
                                                    **{f"{kind}_form": form}), form=form)
    services.chart_entry_create(model=model, patient=patient, actor=request.user, **form.cleaned_data)
    messages.success(request, f"{model._meta.verbose_name.capitalize()} added.")
    return redirect(reverse("staff_records_patient", args=[patient.pk]) + "?tab=chart")


@staff_required()
@require_POST
def chart_entry_status(request, kind, entry_id):
    if kind not in CHART:
        raise Http404()
    model, _ = CHART[kind]
    entry = selectors.access_entry(request.user, model, entry_id, access.CHANGE)
    form = StatusForm(request.POST)
    if form.is_valid() and form.cleaned_data["status"] not in model.Status.values:
        form.add_error("status", f"Choose one of {', '.join(model.Status.labels)}.")
    if not form.is_valid():
        for name, errors in form.errors.items():
            messages.error(request, f"“{name}”: {' '.join(errors)}")
        return _chart_page(request, entry.patient, "chart", status=400)
    services.chart_entry_set_status(entry=entry, actor=request.user, **form.cleaned_data)
    messages.success(request, f"{model._meta.verbose_name.capitalize()} marked {entry.get_status_display().lower()}.")
    return redirect(reverse("staff_records_patient", args=[entry.patient_id]) + "?tab=chart")


# --- labs ----------------------------------------------------------------------------------------------------

@staff_required("records.add_labresult")
@require_POST
def lab_add(request, patient_id):
    patient = access_patient_for_staff(request.user, patient_id)
    form = LabForm(request.POST)
    if not form.is_valid():
        return _chart_page(request, patient, "labs", status=400, lab_form=form)
    pages.on_error(request, lambda exc: _chart_page(request, patient, "labs", status=exc.status_code, lab_form=form),
                   form=form)
    data = dict(form.cleaned_data)
    data["abnormal_flag"] = data["abnormal_flag"] or None
    services.lab_result_create(patient=patient, actor=request.user, **data)
    messages.success(request, "Result entered. The patient sees it once it is released.")
    return redirect(reverse("staff_records_patient", args=[patient.pk]) + "?tab=labs")


@staff_required("records.release_labresult")
@require_POST
def lab_release(request, lab_id):
    result = selectors.access_entry(request.user, LabResult, lab_id, rules.RELEASE)
    services.lab_result_release(result=result, actor=request.user)
    messages.success(request, f"{result.test_name} released to the patient.")
    next_url = request.POST.get("next", "")
    if next_url == "queue":
        return redirect("staff_records_labs")
    return redirect(reverse("staff_records_patient", args=[result.patient_id]) + "?tab=labs")


@staff_required("records.release_labresult")
def labs_to_release(request):
    rows = list(selectors.labs_to_release()[:200])
    record_many("read", rows, detail={"view": "staff_labs_to_release"})
    return render(request, T + "labs_queue.html", {"labs": rows})


# --- documents ---------------------------------------------------------------------------------------------

@staff_required("records.add_document")
@require_POST
def document_add(request, patient_id):
    patient = access_patient_for_staff(request.user, patient_id)
    form = StaffDocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _chart_page(request, patient, "documents", status=400, document_form=form)
    pages.on_error(request, lambda exc: _chart_page(request, patient, "documents", status=exc.status_code,
                                                    document_form=form), form=form)
    data = form.cleaned_data
    document = services.document_upload(patient=patient, actor=request.user, upload=data["file"],
                                        category=data["category"], title=data["title"])
    if data["share"]:
        services.document_share(document=document, actor=request.user)
    messages.success(request, "Document added" + (" and shared with the patient." if data["share"] else "."))
    return redirect(reverse("staff_records_patient", args=[patient.pk]) + "?tab=documents")


@staff_required("records.share_document")
@require_POST
def document_share(request, document_id):
    document = selectors.access_entry(request.user, Document, document_id, rules.SHARE)
    services.document_share(document=document, actor=request.user)
    messages.success(request, "Shared with the patient.")
    return redirect(reverse("staff_records_patient", args=[document.patient_id]) + "?tab=documents")


@staff_required("records.view_document")
def document_download(request, document_id):
    document = selectors.access_entry(request.user, Document, document_id)
    record("read", document, detail={"download": True})
    return download_response(document)


# --- notes -----------------------------------------------------------------------------------------------------

def _note_page(request, visit, note, *, form=None, addendum_form=None, status=200):
    record("read", note)
    return render(request, T + "note.html", {
        "visit": visit, "note": note, "addenda": selectors.addenda_of(note),
        "form": form or (NoteForm(instance=note) if not note.is_signed else None),
        "addendum_form": addendum_form or AddendumForm(),
        "is_author": note.provider.user_id == request.user.pk,
    }, status=status)


@staff_required("records.view_visitnote")
@require_http_methods(["GET", "POST"])
def visit_note(request, visit_id):
    """GET: the visit's note (started as a draft when its provider first opens it). POST:
    save the draft, or save and sign it (action=sign)."""
    visit = access_visit_for_staff(request.user, visit_id)
    note = VisitNote.objects.select_related("provider").filter(visit=visit).first()
    if note is None:
        if visit.provider.user_id != request.user.pk or not request.user.has_perm("records.add_visitnote"):
            return render(request, T + "note_none.html", {"visit": visit}, status=404 if request.method == "POST" else 200)
        note = services.visit_note_start(visit=visit, actor=request.user)
    if request.method != "POST":
        return _note_page(request, visit, note)
    note = selectors.access_entry(request.user, VisitNote, note.pk, access.CHANGE)
    form = NoteForm(request.POST, instance=note)
    if not form.is_valid():
        return _note_page(request, visit, note, form=form, status=400)
    pages.on_error(request, lambda exc: _note_page(request, visit, note, form=form, status=exc.status_code), form=form)
    signing = request.POST.get("action") == "sign"
    if signing:
        access.check(request.user, note, rules.SIGN)
    services.visit_note_update(note=note, actor=request.user, **form.cleaned_data)
    if signing:
        services.visit_note_sign(note=note, actor=request.user)
        messages.success(request, "Note signed." + (" The visit summary is in the patient's portal."
                                                    if visit.status == Visit.Status.COMPLETED else
                                                    " The summary reaches the portal when the visit is completed."))
    else:
        messages.success(request, "Draft saved.")
    return redirect("staff_records_visit_note", visit_id=visit.pk)


@staff_required("records.add_noteaddendum")
@require_POST
def note_addendum(request, note_id):
    note = selectors.access_entry(request.user, VisitNote, note_id)
    visit = note.visit
    form = AddendumForm(request.POST)
    if not form.is_valid():
        return _note_page(request, visit, note, addendum_form=form, status=400)
    pages.on_error(request, lambda exc: _note_page(request, visit, note, addendum_form=form, status=exc.status_code),
                   form=form)
    services.note_addendum_add(note=note, actor=request.user, text=form.cleaned_data["text"])
    messages.success(request, "Addendum added.")
    return redirect("staff_records_visit_note", visit_id=visit.pk)


@staff_required("records.sign_visitnote")
def notes_to_sign(request):
    """The provider's draft notes, and their recent visits with no note yet."""
    drafts = list(selectors.notes_to_sign(request.user)[:200])
    since = timezone.now() - datetime.timedelta(days=14)
    unwritten = list(
        Visit.objects.select_related("patient", "visit_type").filter(
            provider__user=request.user, start__gte=since, start__lte=timezone.now() + datetime.timedelta(hours=12),
            note__isnull=True,
        ).exclude(status__in=[Visit.Status.CANCELLED, Visit.Status.NO_SHOW]).order_by("start")[:100]
    )
    record_many("read", drafts, detail={"view": "staff_notes_to_sign"})
    record_many("read", unwritten, detail={"view": "staff_notes_to_sign"})
    return render(request, T + "notes_queue.html", {"drafts": drafts, "unwritten": unwritten})


# --- refills ---------------------------------------------------------------------------------------------------

def _refills_page(request, *, form=None, form_for=None, status=200):
    rows = list(selectors.refills_to_review(request.user)[:200])
    record_many("read", rows, detail={"view": "staff_refills_to_review"})
    return render(request, T + "refills_queue.html", {"refills": rows, "form": form or DecisionForm(),
                                                      "form_for": form_for}, status=status)


@staff_required("records.decide_refillrequest")
def refills_to_review(request):
    return _refills_page(request)


@staff_required("records.decide_refillrequest")
@require_POST
def refill_decide(request, refill_id):
    refill = selectors.access_entry(request.user, RefillRequest, refill_id, rules.DECIDE)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _refills_page(request, form=form, form_for=refill.pk, status=400)
    pages.on_error(request, lambda exc: _refills_page(request, form=form, form_for=refill.pk, status=exc.status_code),
                   form=form)
    approve = form.cleaned_data["decision"] == "approve"
    services.refill_request_decide(refill=refill, actor=request.user, approve=approve, note=form.cleaned_data["note"])
    messages.success(request, "Refill approved." if approve else "Refill denied.")
    return redirect("staff_records_refills")
