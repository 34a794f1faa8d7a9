"""Every write of patient data: creation with an MRN, updates, self-registration, duplicates.
Registrations and duplicate reviews change status only through core.transitions (one event
row per move: apps/patients/models.py RegistrationEvent, DuplicateReviewEvent)."""
import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.audit.services import record
from apps.core.exceptions import Conflict, InvalidTransition, ValidationFailed
from apps.core.hooks import Hook
from apps.core.transitions import lock, transition
from apps.patients.models import DuplicateGroup, DuplicateGroupMember, DuplicateReview, MrnSequence, Patient, Registration
from apps.patients.phone import normalize_phone
from apps.patients.selectors import find_duplicates

# Fields a patient may change in the portal; staff may change every field in PATIENT_FIELDS.
CONTACT_FIELDS = [
    "preferred_name", "phone", "address_line1", "address_line2", "city", "state", "postal_code", "country",
    "emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone",
    "preferred_language", "timezone", "sms_opt_in", "email_opt_in", "quiet_hours_start", "quiet_hours_end",
]
PATIENT_FIELDS = [
    "first_name", "middle_name", "last_name", "date_of_birth", "sex_at_birth", "gender_identity", "email",
    *CONTACT_FIELDS,
]
_PHONE_FIELDS = ("phone", "emergency_contact_phone")


def _luhn_digit(number):
    total = 0
    for i, ch in enumerate(reversed(str(number))):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10


def _next_mrn():
    """Seven-digit number plus a Luhn check digit (catches most typos at the front desk)."""
    seq, _ = MrnSequence.objects.select_for_update().get_or_create(pk=1)
    value = seq.next_value
    MrnSequence.objects.filter(pk=1).update(next_value=value + 1)
    return f"{value:07d}{_luhn_digit(value)}"


def _clean(patient, fields):
    """Normalize phones, then run model validation on `fields`; raise ValidationFailed."""
    errors = {}
    for name in _PHONE_FIELDS:
        if name in fields:
            try:
                setattr(patient, name, normalize_phone(getattr(patient, name)))
            except ValidationError as exc:
                errors[name] = exc.messages
    if patient.date_of_birth and patient.date_of_birth > timezone.localdate():
        errors["date_of_birth"] = ["Date of birth cannot be in the future."]
    exclude = [f.name for f in Patient._meta.fields if f.name not in fields]
    try:
        patient.full_clean(exclude=exclude + list(errors), validate_unique=False)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    if patient.quiet_hours_start is None and patient.quiet_hours_end is not None or (
        patient.quiet_hours_start is not None and patient.quiet_hours_end is None
    ):
        errors.setdefault("quiet_hours_end", []).append("Give both the start and the end of quiet hours, or neither.")
    if errors:
        raise ValidationFailed(errors)


@transaction.atomic
def patient_create(*, data, user=None, flag_duplicates=True):
    """Create a patient with a new MRN from `data` (keys of PATIENT_FIELDS). Raises
    ValidationFailed on bad input. When flag_duplicates and the record matches others, it
    joins their duplicate group with one DuplicateReview for staff (duplicate_group_join)."""
    unknown = set(data) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationFailed({k: ["Unknown field."] for k in sorted(unknown)})
    patient = Patient(user=user, **data)
    _clean(patient, set(data) | {"first_name", "last_name", "date_of_birth"})
    matches = find_duplicates(
        first_name=patient.first_name, last_name=patient.last_name, date_of_birth=patient.date_of_birth,
        email=patient.email, phone=patient.phone,
    ) if flag_duplicates else []
    patient.mrn = _next_mrn()
    patient.save()
    if matches:
        duplicate_group_join(matches=matches, other=patient)
    record("create", patient)
    return patient


@transaction.atomic
def patient_update(*, patient, data, allowed=PATIENT_FIELDS):
    """Change the given fields (only those in `allowed`). Records which fields changed, never
    their values."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationFailed({k: ["This field cannot be changed here."] for k in sorted(unknown)})
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    # Compare with the locked row, not the caller's copy: that one may be stale, and a
    # ModelForm bound to it has already written the new values into it.
    before = {key: getattr(locked, key) for key in data}
    for key, value in data.items():
        setattr(locked, key, value)
    _clean(locked, set(data))
    changed = [k for k in data if getattr(locked, k) != before[k]]
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    record("update", locked, detail={"fields": sorted(changed)})
    return locked


def patient_update_contact(*, patient, data):
    """A patient's own change of contact details and preferences from the portal."""
    return patient_update(patient=patient, data=data, allowed=CONTACT_FIELDS)


@transaction.atomic
def registration_submit(*, user, first_name, last_name, date_of_birth, phone, terms_version):
    """Keep what a registrant typed until their email is verified. Creates no patient yet."""
    return Registration.objects.create(
        user=user,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        phone=normalize_phone(phone),
        terms_version=terms_version,
        terms_accepted_at=timezone.now(),
    )


@transaction.atomic
def registration_complete(*, user):
    """After email verification (accounts' email_confirmed hook, connected in
    apps/patients/apps.py): link the registrant to their record, create one, or hand the case
    to staff. Never creates a second record for a person who may already have one, and tells
    the registrant nothing about anyone else.

    - one match on name + date of birth + the verified email, with no portal login yet: linked
      (PENDING_VERIFICATION -> COMPLETED);
    - any other match (email, phone or name + date of birth): PENDING_VERIFICATION ->
      IN_REVIEW, one DuplicateReview in the candidates' duplicate group (duplicate_group_join),
      and the reviewers are told;
    - no match: a new patient record (PENDING_VERIFICATION -> COMPLETED).
    The registrant is the actor of the event row. Idempotent: a completed or in-review
    registration is left as it is."""
    registration = Registration.objects.select_for_update().filter(user=user).first()
    if registration is None or registration.status != Registration.Status.PENDING_VERIFICATION:
        return registration
    matches = find_duplicates(
        first_name=registration.first_name, last_name=registration.last_name,
        date_of_birth=registration.date_of_birth, email=user.email, phone=registration.phone,
    )
    strong = [p for p, reasons in matches if {"email", "name_dob"} <= set(reasons) and p.user_id is None]
    if len(matches) == 1 and strong:
        _registration_link(registration, strong[0], actor=user, reason="Email verified: matched an existing record")
    elif matches:
        transition(
            registration, Registration.Status.IN_REVIEW, actor=user, locked=True,
            reason="Email verified: may match an existing record", data={"candidates": len(matches)},
        )
        _notify_reviewers(duplicate_group_join(matches=matches, registration=registration))
    else:
        _registration_create_patient(registration, actor=user, reason="Email verified: no existing record")
    return registration


def duplicate_group_join(*, matches, registration=None, other=None):
    """Put a newcomer (a `registration`, or a just-created record `other`) with the records it
    matched (find_duplicates: strongest first, at most MAX_DUPLICATE_CANDIDATES) into one
    DuplicateGroup, and give it ONE open DuplicateReview naming its strongest match. The
    matched records' groups are folded into the oldest of them (or a new group starts); the
    newcomer record and the matches become members. A fixed number of queries, whatever the
    size of the groups: rows grow by one review and at most one membership per record, never
    by pairs. The caller's transaction holds it all. Returns the review."""
    ids = [patient.pk for patient, _ in matches]
    # Two signups matching the same people queue here (the records' row locks, in one order),
    # so they join one group instead of starting two.
    list(Patient.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
    group_ids = set(DuplicateGroupMember.objects.filter(patient_id__in=ids).values_list("group_id", flat=True))
    groups = list(DuplicateGroup.objects.select_for_update().filter(pk__in=group_ids).order_by("created_at", "pk"))
    now = timezone.now()
    if groups:
        group, folded = groups[0], [g.pk for g in groups[1:]]
        if folded:
            DuplicateGroupMember.objects.filter(group_id__in=folded).update(group=group)
            DuplicateReview.objects.filter(group_id__in=folded).update(group=group)
            DuplicateGroup.objects.filter(pk__in=folded).delete()
        DuplicateGroup.objects.filter(pk=group.pk).update(flagged_at=now)
    else:
        group = DuplicateGroup.objects.create(created_at=now, flagged_at=now)
    newcomers = [other.pk] if other is not None else []
    # Records already in this group keep their row (a record is in one group at most).
    DuplicateGroupMember.objects.bulk_create(
        [DuplicateGroupMember(group=group, patient_id=pk, joined_at=now) for pk in [*ids, *newcomers]], ignore_conflicts=True,
    )
    existing, reasons = matches[0]
    return DuplicateReview.objects.create(group=group, existing=existing, registration=registration, other=other, reasons=reasons,
                                          created_at=now)


# Staff notices from this app (messaging sits above patients and delivers them; connected in
# apps/messaging/apps.py): receiver(*, users, kind, title, body, link).
staff_notice = Hook("staff_notice", "(*, users, kind, title, body, link) -> None")


def _notify_reviewers(review):
    """Tell the people who resolve duplicates that one is waiting (no PHI in the text)."""
    reviewers = get_user_model().objects.filter(
        Q(groups__permissions__codename="change_duplicatereview") | Q(is_superuser=True), is_active=True, is_staff=True
    ).distinct()
    staff_notice.all(
        users=reviewers,
        kind="duplicate_flagged",
        title="A new registration needs review",
        body="It may match an existing patient record.",
        link=f"/staff/duplicates/{review.pk}/",
    )


def _registration_link(registration, patient, *, actor, reason):
    """Give the registrant's login to `patient` and complete the (locked) registration."""
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.user_id is not None:
        raise Conflict("That patient record already has a portal login.", code="patient_has_login")
    patient.user = registration.user
    patient.save(update_fields=["user", "updated_at"])
    transition(
        registration, Registration.Status.COMPLETED, actor=actor, reason=reason, locked=True,
        fields={"patient": patient, "completed_at": timezone.now()}, data={"patient": str(patient.pk), "linked": True},
    )
    record("update", patient, detail={"fields": ["user"], "via": "registration"})


def _registration_create_patient(registration, *, actor, reason):
    """A new patient record for the registrant; completes the (locked) registration."""
    user = registration.user
    patient = patient_create(
        data={
            "first_name": registration.first_name,
            "last_name": registration.last_name,
            "date_of_birth": registration.date_of_birth,
            "email": user.email,
            "phone": registration.phone,
        },
        user=user,
        flag_duplicates=False,
    )
    transition(
        registration, Registration.Status.COMPLETED, actor=actor, reason=reason, locked=True,
        fields={"patient": patient, "completed_at": timezone.now()}, data={"patient": str(patient.pk), "linked": False},
    )
    return patient


@transaction.atomic
def duplicate_review_resolve(*, review, resolution, actor, note="", target=None):
    """Staff decision on a newcomer's possible duplicate: OPEN -> `resolution`, with `actor`,
    `note` as the reason, and an event row. `target` (a patient of the review's group; default
    the review's `existing`, its strongest match) is the record the newcomer is compared with;
    the review keeps it as `existing`.

    For a self-registration: LINKED (the registrant is the target) or CREATED_NEW (a different
    person: a new record, which joins the group as a member); the registration goes IN_REVIEW
    -> COMPLETED. For a staff-registered record: MERGED (the newcomer is folded into the
    target) or DISMISSED (different people). Raises InvalidTransition (409) when the review or
    the registration was already decided, ValidationFailed for a resolution of the other kind
    or a target outside the group (or merged, or the newcomer itself), Conflict when the
    record to link already has a login; nothing is written then. One audit entry, on the
    target's record."""
    S = DuplicateReview.Status
    # Lock order: the registration, then its review (registration_id never changes, so the
    # caller's copy tells it).
    registration = lock(Registration, review.registration_id) if review.registration_id else None
    review = lock(DuplicateReview, review.pk, related=("existing", "other"))
    if not DuplicateReview.TRANSITIONS.get(review.status):
        raise InvalidTransition("This possible duplicate has already been resolved.")
    existing = review.existing if target is None else _duplicate_target(review, target)
    now = timezone.now()
    data = {"existing": str(existing.pk)}
    if registration is not None:
        if resolution not in (S.LINKED, S.CREATED_NEW):
            raise ValidationFailed({"resolution": ["Choose link or create new for a registration."]})
        if registration.status != Registration.Status.IN_REVIEW:
            raise InvalidTransition("This registration has already been completed.")
        reason = f"Duplicate review: {S(resolution).label}" + (f" ({note})" if note else "")
        if resolution == S.LINKED:
            _registration_link(registration, existing, actor=actor, reason=reason)
        else:
            created = _registration_create_patient(registration, actor=actor, reason=reason)
            # Similar to the group's records: later signups that match it join the same group.
            DuplicateGroupMember.objects.create(group_id=review.group_id, patient=created, joined_at=now)
            data["created"] = str(created.pk)
    else:
        if resolution not in (S.MERGED, S.DISMISSED):
            raise ValidationFailed({"resolution": ["Choose merge or dismiss for two patient records."]})
        data["other"] = str(review.other_id)
        if resolution == S.MERGED:
            patient_merge(source=review.other, target=existing)
    transition(
        review, resolution, actor=actor, reason=note, data=data, locked=True,
        fields={"resolved_at": now, "resolved_by": actor, "note": note, "existing": existing},
    )
    record("update", existing, detail={"duplicate_review": str(review.pk), "resolution": resolution})
    return review


def _duplicate_target(review, target):
    """The active record of the review's group that staff chose to compare the newcomer with."""
    try:
        target_id = uuid.UUID(str(getattr(target, "pk", target)))
    except ValueError:
        target_id = None
    found = Patient.objects.active().filter(
        pk=target_id, duplicate_membership__group_id=review.group_id,
    ).exclude(pk=review.other_id).first() if target_id else None
    if found is None:
        raise ValidationFailed({"target": ["Choose one of the records in this group."]})
    return found


def patient_merge(*, source, target):
    """Fold `source` into `target`: the portal login moves when the target has none, and the
    source is marked merged (kept, never deleted, so its MRN is never reused). A patient has
    no status of its own: `merged_into` is the merge state, set once under the row lock (a
    second merge is InvalidTransition); the decision's event row is the duplicate review's."""
    source = Patient.objects.select_for_update().get(pk=source.pk)
    target = Patient.objects.select_for_update().get(pk=target.pk)
    if source.merged_into_id:
        raise InvalidTransition("That record was already merged.")
    if source.user_id and target.user_id:
        raise Conflict("Both records have a portal login; deactivate one login before merging.", code="both_have_login")
    if source.user_id:
        user = source.user
        source.user = None
        source.save(update_fields=["user"])
        target.user = user
        target.save(update_fields=["user", "updated_at"])
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    record("update", source, detail={"merged_into": str(target.pk)})
    return target
