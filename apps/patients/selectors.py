"""Reads of patient data. Every fetch on behalf of someone goes through core's access layer
(apps/core/access.py, rules in apps/patients/rules.py), in the access_* selectors here:
access_patient_for_user (portal), access_patient_for_staff and access_patients (staff pages),
access_patient and access_patients (the API), access_duplicate_review(s_open) (staff)."""
from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, Subquery, When

from apps.core import access
from apps.core.exceptions import NotFound
from apps.patients.models import DuplicateGroup, DuplicateGroupMember, DuplicateReview, Patient, Registration
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


# A signup's duplicate check reads at most this many candidates (one query): the matches
# join one group anyway (services.duplicate_group_join), so more would only cost time.
MAX_DUPLICATE_CANDIDATES = 20


def find_duplicates(*, first_name, last_name, date_of_birth, email="", phone="", exclude_id=None):
    """Active patients that may be the same person, each with the reasons it matched:
    same email, same phone, or same first name + last name + date of birth. At most
    MAX_DUPLICATE_CANDIDATES, in one query; the strongest match (most reasons) first."""
    condition = Q(first_name__iexact=first_name.strip(), last_name__iexact=last_name.strip(), date_of_birth=date_of_birth)
    if email:
        condition |= Q(email__iexact=email.strip())
    if phone:
        condition |= Q(phone=phone)
    qs = Patient.objects.active().filter(condition)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    matches = []
    for patient in qs[:MAX_DUPLICATE_CANDIDATES]:
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
    matches.sort(key=lambda match: -len(match[1]))  # stable: ties keep the list's order
    return matches


# The review list and a group's page show this many records of a group; the rest are counted.
GROUP_MEMBERS_SHOWN = 6
GROUP_PAGE_MEMBERS = 100


def duplicate_groups_open():
    """Groups with open work, the longest waiting first: each with open_reviews (count),
    waiting_since (its oldest open review), member_count and, prefetched, its first
    GROUP_MEMBERS_SHOWN records (shown_members). A fixed number of queries for a page."""
    open_reviews = DuplicateReview.objects.filter(group=OuterRef("pk"), status=DuplicateReview.Status.OPEN)
    members = DuplicateGroupMember.objects.filter(group=OuterRef("pk"))
    return (
        DuplicateGroup.objects.filter(Exists(open_reviews))
        .annotate(
            open_reviews=Subquery(open_reviews.order_by().values("group").annotate(n=Count("pk")).values("n")[:1]),
            waiting_since=Subquery(open_reviews.order_by("created_at").values("created_at")[:1]),
            member_count=Subquery(members.order_by().values("group").annotate(n=Count("pk")).values("n")[:1]),
        )
        .prefetch_related(Prefetch(
            "members", queryset=DuplicateGroupMember.objects.select_related("patient").order_by("joined_at", "id")[:GROUP_MEMBERS_SHOWN],
            to_attr="shown_members",
        ))
        .order_by("waiting_since", "pk")
    )


def access_duplicate_groups_open(user):
    """The groups with open reviews, for staff who may decide them (PermissionDenied for other
    staff, NotFound for anyone else)."""
    if not access.is_staff(user):
        raise NotFound()
    return access.scope(user, duplicate_groups_open(), access.CHANGE)


def access_duplicate_group(user, group_id):
    """One group for staff who may decide duplicates; NotFound otherwise."""
    if not (access.is_staff(user) and access.may(user, DuplicateGroup, access.CHANGE)):
        raise NotFound()
    return access.get(user, DuplicateGroup, group_id, access.CHANGE)


def duplicate_group_members(group, *, limit=GROUP_PAGE_MEMBERS):
    """The group's records (oldest membership first), at most `limit`, with their patients."""
    return list(DuplicateGroupMember.objects.filter(group=group).select_related("patient").order_by("joined_at", "id")[:limit])


def duplicate_group_reviews(group, *, limit=GROUP_PAGE_MEMBERS):
    """The group's reviews, open ones first, then the latest decisions; at most `limit`."""
    is_open = Case(When(status=DuplicateReview.Status.OPEN, then=0), default=1)
    return list(
        DuplicateReview.objects.filter(group=group)
        .select_related("existing", "registration", "registration__user", "other")
        .order_by(is_open, "-created_at", "pk")[:limit]
    )


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
