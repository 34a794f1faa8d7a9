from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.audit.services import record, record_many
from apps.core.decorators import staff_required
from apps.patients.decorators import patient_required
from apps.core.exceptions import DomainError, NotFound, ValidationFailed
from apps.patients import selectors, services
from apps.patients.forms import DuplicateResolveForm, PatientContactForm, PatientSearchForm, StaffPatientForm, apply_domain_errors
from apps.patients.selectors import access_duplicate_review, access_patient_for_staff

PAGE_SIZE = 25


# --- Portal -------------------------------------------------------------------------------

@patient_required
@require_http_methods(["GET", "POST"])
def portal_home(request):
    patient = request.patient
    form = PatientContactForm(request.POST or None, instance=patient)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {f: form.cleaned_data[f] for f in form.changed_data}
            try:
                services.patient_update_contact(patient=patient, data=data)
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            else:
                messages.success(request, "Your details were saved.")
                return redirect("portal_home")
        status = 400
    # Logged whenever the page shows the record, including after a rejected save.
    record("read", patient)
    return render(request, "patients/portal_home.html", {"patient": patient, "form": form}, status=status)


# --- Staff --------------------------------------------------------------------------------

def _not_found(exc):
    raise Http404(exc.message)


@staff_required("patients.view_patient")
def staff_patient_list(request):
    form = PatientSearchForm(request.GET or None)
    patients = page = None
    if form.is_valid() and (form.cleaned_data["q"] or form.cleaned_data["date_of_birth"]):
        qs = selectors.patient_list(q=form.cleaned_data["q"], date_of_birth=form.cleaned_data["date_of_birth"])
    else:
        qs = selectors.patient_list()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    patients = list(page.object_list)
    record_many("read", patients, detail={"view": "staff_patient_list"})
    return render(request, "patients/staff_patient_list.html", {"form": form, "page": page, "patients": patients})


@staff_required("patients.add_patient")
@require_http_methods(["GET", "POST"])
def staff_patient_create(request):
    form = StaffPatientForm(request.POST or None)
    status = 200
    duplicates = []
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = {f: form.cleaned_data[f] for f in form.cleaned_data}
            duplicates = selectors.find_duplicates(
                first_name=data["first_name"], last_name=data["last_name"], date_of_birth=data["date_of_birth"],
                email=data.get("email", ""), phone=data.get("phone", ""),
            )
            if duplicates and not request.POST.get("confirm_new"):
                form.add_error(None, "This person may already be registered. Open the record below, or confirm that this is a new patient.")
                record_many("read", [p for p, _ in duplicates], detail={"view": "duplicate_check"})
            else:
                try:
                    patient = services.patient_create(data=data)
                except ValidationFailed as exc:
                    apply_domain_errors(form, exc)
                else:
                    messages.success(request, f"Registered {patient.display_name}, MRN {patient.mrn}.")
                    return redirect("staff_patient_detail", patient_id=patient.pk)
    return render(request, "patients/staff_patient_form.html", {"form": form, "duplicates": duplicates}, status=status)


@staff_required("patients.view_patient")
@require_http_methods(["GET", "POST"])
def staff_patient_detail(request, patient_id):
    try:
        patient = access_patient_for_staff(request.user, patient_id)
    except NotFound as exc:
        _not_found(exc)
    can_edit = request.user.has_perm("patients.change_patient")
    form = StaffPatientForm(request.POST or None, instance=patient) if can_edit else None
    status = 200
    if request.method == "POST":
        if not can_edit:
            return render(request, "403.html", status=403)
        status = 400
        if form.is_valid():
            data = {f: form.cleaned_data[f] for f in form.changed_data}
            try:
                patient = services.patient_update(patient=patient, data=data)
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            else:
                messages.success(request, "Patient details saved.")
                return redirect("staff_patient_detail", patient_id=patient.pk)
    # Logged whenever the page shows the record, including after a rejected save.
    record("read", patient)
    return render(request, "patients/staff_patient_detail.html", {"patient": patient, "form": form}, status=status)


@staff_required("patients.change_duplicatereview")
def staff_duplicate_list(request):
    reviews = list(selectors.duplicate_reviews_open()[:100])
    record_many("read", [r.existing for r in reviews], detail={"view": "duplicate_list"})
    return render(request, "patients/staff_duplicate_list.html", {"reviews": reviews})


@staff_required("patients.change_duplicatereview")
@require_http_methods(["GET", "POST"])
def staff_duplicate_detail(request, review_id):
    try:
        review = access_duplicate_review(request.user, review_id)
    except NotFound as exc:
        _not_found(exc)
    form = DuplicateResolveForm(request.POST or None, review=review)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.duplicate_review_resolve(
                    review=review, resolution=form.cleaned_data["resolution"], actor=request.user, note=form.cleaned_data["note"]
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                messages.success(request, "Possible duplicate resolved.")
                return redirect("staff_duplicate_list")
    else:
        record("read", review.existing, detail={"view": "duplicate_detail"})
        if review.other_id:
            record("read", review.other, detail={"view": "duplicate_detail"})
    return render(request, "patients/staff_duplicate_detail.html", {"review": review, "form": form}, status=status)
