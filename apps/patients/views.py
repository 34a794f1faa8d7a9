"""Portal and staff pages over patient records. A service's refusal reaches the page through
core's one page-error path (apps/core/pages.py): each view says with pages.on_error how it
answers one, and a NotFound from an access selector is the 404 page."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.audit.services import record, record_many
from apps.core import pages
from apps.core.decorators import staff_required
from apps.patients import selectors, services
from apps.patients.decorators import patient_required
from apps.patients.forms import DuplicateResolveForm, PatientContactForm, PatientSearchForm, StaffPatientForm
from apps.patients.hooks import staff_patient_sections
from apps.patients.selectors import access_duplicate_review, access_patient_for_staff

PAGE_SIZE = 25


# --- Portal -------------------------------------------------------------------------------

def _portal_page(request, patient, form, *, status=200):
    # Logged whenever the page shows the record, including after a rejected save.
    record("read", patient)
    return render(request, "patients/portal_home.html", {"patient": patient, "form": form}, status=status)


@patient_required
@require_http_methods(["GET", "POST"])
def portal_home(request):
    patient = request.patient
    form = PatientContactForm(request.POST or None, instance=patient)
    if request.method != "POST":
        return _portal_page(request, patient, form)
    if not form.is_valid():
        return _portal_page(request, patient, form, status=400)
    pages.on_error(request, lambda exc: _portal_page(request, patient, form, status=exc.status_code), form=form)
    services.patient_update_contact(patient=patient, data={f: form.cleaned_data[f] for f in form.changed_data})
    messages.success(request, "Your details were saved.")
    return redirect("portal_home")


# --- Staff --------------------------------------------------------------------------------

@staff_required("patients.view_patient")
def staff_patient_list(request):
    form = PatientSearchForm(request.GET or None)
    searched = form.is_bound and any(request.GET.get(name) for name in form.fields)
    status = 200
    if form.is_valid() and (form.cleaned_data["q"] or form.cleaned_data["date_of_birth"]):
        qs = selectors.access_patients(request.user, q=form.cleaned_data["q"], date_of_birth=form.cleaned_data["date_of_birth"])
    else:
        if searched and not form.is_valid():
            # A search the form cannot read (a NUL, a year out of range, 500 characters) is
            # not run: the page says so, names the field, and lists everyone as unsearched.
            status = 400
            problems = "; ".join(f"{form.fields[name].label or name}: {' '.join(errors)}" for name, errors in form.errors.items())
            messages.error(request, f"The search was not run. {problems}")
        qs = selectors.access_patients(request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    patients = list(page.object_list)
    record_many("read", patients, detail={"view": "staff_patient_list"})
    return render(request, "patients/staff_patient_list.html", {"form": form, "page": page, "patients": patients}, status=status)


def _patient_form_page(request, form, duplicates, *, status=200):
    return render(request, "patients/staff_patient_form.html", {"form": form, "duplicates": duplicates}, status=status)


@staff_required("patients.add_patient")
@require_http_methods(["GET", "POST"])
def staff_patient_create(request):
    form = StaffPatientForm(request.POST or None)
    if request.method != "POST":
        return _patient_form_page(request, form, [])
    if not form.is_valid():
        return _patient_form_page(request, form, [], status=400)
    data = {f: form.cleaned_data[f] for f in form.cleaned_data}
    duplicates = selectors.find_duplicates(
        first_name=data["first_name"], last_name=data["last_name"], date_of_birth=data["date_of_birth"],
        email=data.get("email", ""), phone=data.get("phone", ""),
    )
    if duplicates and not request.POST.get("confirm_new"):
        form.add_error(None, "This person may already be registered. Open the record below, or confirm that this is a new patient.")
        record_many("read", [p for p, _ in duplicates], detail={"view": "duplicate_check"})
        return _patient_form_page(request, form, duplicates, status=400)
    pages.on_error(request, lambda exc: _patient_form_page(request, form, duplicates, status=exc.status_code), form=form)
    patient = services.patient_create(data=data)
    messages.success(request, f"Registered {patient.display_name}, MRN {patient.mrn}.")
    return redirect("staff_patient_detail", patient_id=patient.pk)


def _patient_detail_page(request, patient, form, *, status=200):
    # Logged whenever the page shows the record, including after a rejected save.
    record("read", patient)
    # Sections from the apps above (hooks.staff_patient_sections), each audited by its app.
    sections = [section for section in staff_patient_sections.all(request=request, patient=patient) if section]
    return render(request, "patients/staff_patient_detail.html", {"patient": patient, "form": form,
                                                                  "sections": sections}, status=status)


@staff_required("patients.view_patient")
@require_http_methods(["GET", "POST"])
def staff_patient_detail(request, patient_id):
    patient = access_patient_for_staff(request.user, patient_id)
    can_edit = request.user.has_perm("patients.change_patient")
    form = StaffPatientForm(request.POST or None, instance=patient) if can_edit else None
    if request.method != "POST":
        return _patient_detail_page(request, patient, form)
    if not can_edit:
        return render(request, "403.html", status=403)
    if not form.is_valid():
        return _patient_detail_page(request, patient, form, status=400)
    pages.on_error(request, lambda exc: _patient_detail_page(request, patient, form, status=exc.status_code), form=form)
    patient = services.patient_update(patient=patient, data={f: form.cleaned_data[f] for f in form.changed_data})
    messages.success(request, "Patient details saved.")
    return redirect("staff_patient_detail", patient_id=patient.pk)


@staff_required("patients.change_duplicatereview")
def staff_duplicate_list(request):
    """One row per group of records that may be one person (not per pair), longest waiting first."""
    page = Paginator(selectors.access_duplicate_groups_open(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    groups = list(page.object_list)
    record_many("read", [m.patient for g in groups for m in g.shown_members], detail={"view": "duplicate_list"})
    return render(request, "patients/staff_duplicate_list.html", {"groups": groups, "page": page})


@staff_required("patients.change_duplicatereview")
def staff_duplicate_group(request, group_id):
    """A group's records and its reviews: each open one is decided on its own page."""
    group = selectors.access_duplicate_group(request.user, group_id)
    members = selectors.duplicate_group_members(group)
    reviews = selectors.duplicate_group_reviews(group)
    shown = {m.patient_id: m.patient for m in members}
    for review in reviews:
        shown.setdefault(review.existing_id, review.existing)
        if review.other_id:
            shown.setdefault(review.other_id, review.other)
    record_many("read", list(shown.values()), detail={"view": "duplicate_group"})
    return render(request, "patients/staff_duplicate_group.html", {
        "group": group, "members": members, "reviews": reviews,
        "open_reviews": [r for r in reviews if r.status == r.Status.OPEN],
        "more_members": max(0, group.members.count() - len(members)),
    })


def _duplicate_page(request, review, form, *, status=200):
    return render(request, "patients/staff_duplicate_detail.html", {"review": review, "form": form}, status=status)


@staff_required("patients.change_duplicatereview")
@require_http_methods(["GET", "POST"])
def staff_duplicate_detail(request, review_id):
    review = access_duplicate_review(request.user, review_id)
    form = DuplicateResolveForm(request.POST or None, review=review)
    if request.method != "POST":
        record("read", review.existing, detail={"view": "duplicate_detail"})
        if review.other_id:
            record("read", review.other, detail={"view": "duplicate_detail"})
        if form.targets[1:]:  # the group's other records, offered as the one to compare with
            record_many("read", form.targets[1:], detail={"view": "duplicate_detail"})
        return _duplicate_page(request, review, form)
    if not form.is_valid():
        return _duplicate_page(request, review, form, status=400)
    # A refusal (already decided: 409; the record to link has a login: 409) shows on the form.
    pages.on_error(request, lambda exc: _duplicate_page(request, review, form, status=exc.status_code), form=form)
    services.duplicate_review_resolve(
        review=review, resolution=form.cleaned_data["resolution"], actor=request.user, note=form.cleaned_data["note"],
        target=form.cleaned_data.get("target") or None,
    )
    messages.success(request, "Possible duplicate resolved.")
    return redirect("staff_duplicate_list")
