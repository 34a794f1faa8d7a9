"""Reads of patient data. Every fetch on behalf of someone goes through core's access layer
(apps/core/access.py, rules in apps/patients/rules.py), in the access_* selectors here:
access_patient_for_user (portal), access_patient_for_staff and access_patients (staff pages),
access_patient and access_patients (the API), access_duplicate_review(s_open) (staff)."""
from django.db.models import Q

from apps.core import access
from apps.core.exceptions import NotFound
from apps.patients.models import DuplicateReview, Patient, Registration
from apps.patients.querysets import patient_search_filter, phone_filter

__all__ = ["patient_search_filter", "phone_filter"]  # re-exported: other apps search patients through here


def patient_list(*, q="", date_of_birth=None, mrn="", phone=""):
    qs = Patient.objects.active()
    if q:
        qs = qs.search(q)
    if date_of_birth:
        qs = qs.filter(date_of_birth=date_of_birth)
    if mrn:
        qs = qs.filter(mrn=mrn.strip())
    if phone:
        qs = qs.filter(phone_filter(phone))
    return qs.order_by("last_name", "first_name", "date_of_birth", "id")


def access_patients(actor, *, action=access.VIEW, **filters):
    """patient_list(**filters) as far as the actor may `action` them: every active patient for
    an API key with the scope or staff with the permission (else PermissionDenied), a patient
    only their own record, anyone else NotFound."""
    return access.scope(actor, patient_list(**filters), action)


def access_patient(actor, patient_id, *, action=access.VIEW):
    """One active patient for an API key or staff user allowed to `action` patients; missing,
    malformed and merged ids are NotFound."""
    return access.get(actor, patient_list(), patient_id, action)


def active_patient_for_user(user):
    """The user's own active patient record or None: core's access layer asks this to know
    whose rows a portal user owns (registered in apps/patients/apps.py)."""
    return Patient.objects.active().filter(user=user).first()


def access_patient_for_user(user):
    """The portal user's own patient record. NotFound when there is none yet (registration
    pending or in review)."""
    patient = access.patient_of(user)
    if patient is None:
        raise NotFound()
    return patient


def access_patient_for_staff(user, patient_id, *, action=access.VIEW):
    """A patient for a staff user allowed to `action` patients (view or change). Missing and
    malformed ids are NotFound; staff without the permission get PermissionDenied; anyone
    else (a patient asking for another's id) NotFound."""
    if not access.is_staff(user):
        raise NotFound()
    return access.get(user, Patient, patient_id, action)


def staff_home_figures(*, request):
    """The staff dashboard's patient figures (core.staff_views.staff_home_context)."""
    user = request.user
    return {
        "patient_count": Patient.objects.active().count() if user.has_perm("patients.view_patient") else None,
        "open_duplicates": DuplicateReview.objects.filter(status=DuplicateReview.Status.OPEN).count()
        if user.has_perm("patients.change_duplicatereview") else None,
    }


def registration_for_user(user):
    return Registration.objects.filter(user=user).first()


def find_duplicates(*, first_name, last_name, date_of_birth, email="", phone="", exclude_id=None):
    """Active patients that may be the same person, each with the reasons it matched:
    same email, same phone, or same first name + last name + date of birth."""
    condition = Q(first_name__iexact=first_name.strip(), last_name__iexact=last_name.strip(), date_of_birth=date_of_birth)
    if email:
        condition |= Q(email__iexact=email.strip())
    if phone:
        condition |= Q(phone=phone)
    qs = Patient.objects.active().filter(condition)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    matches = []
    for patient in qs[:20]:
        reasons = []
        if email and patient.email.lower() == email.strip().lower():
            reasons.append("email")
        if phone and patient.phone == phone:
            reasons.append("phone")
        if (
            patient.first_name.lower() == first_name.strip().lower()
            and patient.last_name.lower() == last_name.strip().lower()
            and patient.date_of_birth == date_of_birth
        ):
            reasons.append("name_dob")
        matches.append((patient, reasons))
    return matches


def duplicate_reviews_open():
    return (
        DuplicateReview.objects.filter(status=DuplicateReview.Status.OPEN)
        .select_related("existing", "registration", "registration__user", "other")
        .order_by("created_at")
    )


def access_duplicate_reviews_open(user):
    """The open reviews, for staff who may decide them (PermissionDenied for other staff)."""
    if not access.is_staff(user):
        raise NotFound()
    return access.scope(user, duplicate_reviews_open(), access.CHANGE)


def access_duplicate_review(user, review_id):
    if not (access.is_staff(user) and access.may(user, DuplicateReview, access.CHANGE)):
        raise NotFound()
    return access.get(user, DuplicateReview.objects.select_related("existing", "registration", "other"), review_id, access.CHANGE)
