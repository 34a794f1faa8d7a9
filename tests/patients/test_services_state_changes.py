"""Registrations and duplicate reviews change status through core.transitions: every move writes
one event row (who, from, to, why), a refused move writes nothing, and the audit log keeps the
one entry per decision it had before (on the patient record, not repeated by the listener)."""
import datetime

import pytest

from apps.audit.models import AccessLog
from apps.core.exceptions import InvalidTransition
from apps.patients import services
from apps.patients.models import DuplicateReview, DuplicateReviewEvent, Patient, Registration
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

S = DuplicateReview.Status
R = Registration.Status


def moves(events):
    return [(e.from_status, e.to_status) for e in events]


# --- registrations -------------------------------------------------------------------------

def test_verifying_with_no_match_records_one_completed_step_by_the_registrant(registrant):
    user = registrant()

    services.registration_complete(user=user)

    registration = Registration.objects.get(user=user)
    patient = Patient.objects.get(user=user)
    event = registration.events.get()
    assert (event.from_status, event.to_status) == (R.PENDING_VERIFICATION, R.COMPLETED)
    assert event.actor == user
    assert event.reason == "Email verified: no existing record"
    assert event.data == {"patient": str(patient.pk), "linked": False}


def test_verifying_with_a_strong_match_records_the_link(registrant):
    existing = PatientFactory(first_name="Rita", last_name="Registrant", date_of_birth=datetime.date(1990, 5, 17), email="rita@example.test")
    user = registrant(email="rita@example.test")

    services.registration_complete(user=user)

    event = Registration.objects.get(user=user).events.get()
    assert moves([event]) == [(R.PENDING_VERIFICATION, R.COMPLETED)]
    assert event.data == {"patient": str(existing.pk), "linked": True}
    assert event.reason == "Email verified: matched an existing record"


def test_a_possible_duplicate_records_the_move_to_review_then_the_staff_decision(registration_review, front_desk):
    review, user, existing = registration_review
    registration = Registration.objects.get(user=user)
    to_review = registration.events.get()
    assert moves([to_review]) == [(R.PENDING_VERIFICATION, R.IN_REVIEW)]
    assert (to_review.actor, to_review.data) == (user, {"candidates": 1})

    services.duplicate_review_resolve(review=review, resolution=S.LINKED, actor=front_desk, note="Checked ID")

    steps = list(registration.events.all())
    assert moves(steps) == [(R.PENDING_VERIFICATION, R.IN_REVIEW), (R.IN_REVIEW, R.COMPLETED)]
    assert steps[1].actor == front_desk
    assert steps[1].reason == "Duplicate review: Linked to the existing record (Checked ID)"
    assert steps[1].data == {"patient": str(existing.pk), "linked": True}


def test_registration_steps_write_no_audit_entry_of_their_own(registration_review, front_desk):
    review, _, _ = registration_review

    services.duplicate_review_resolve(review=review, resolution=S.CREATED_NEW, actor=front_desk)

    assert not AccessLog.objects.filter(object_type="patients.registration").exists()


# --- duplicate reviews ---------------------------------------------------------------------

def test_a_decision_records_who_from_to_and_why(staff_pair_review, front_desk):
    review, existing, other = staff_pair_review

    services.duplicate_review_resolve(review=review, resolution=S.DISMISSED, actor=front_desk, note="Twins")

    event = DuplicateReviewEvent.objects.get(review=review)
    assert (event.from_status, event.to_status) == (S.OPEN, S.DISMISSED)
    assert (event.actor, event.reason) == (front_desk, "Twins")
    assert event.data == {"existing": str(existing.pk), "other": str(other.pk)}
    assert event.at is not None


def test_a_decision_is_audited_once_on_the_existing_record(staff_pair_review, front_desk):
    review, existing, other = staff_pair_review

    services.duplicate_review_resolve(review=review, resolution=S.MERGED, actor=front_desk)

    decision = AccessLog.objects.filter(action="update", detail__duplicate_review=str(review.pk))
    assert [(row.patient_id, row.detail["resolution"]) for row in decision] == [(existing.pk, S.MERGED)]
    assert not AccessLog.objects.filter(object_type="patients.duplicatereview").exists()
    assert AccessLog.objects.filter(action="update", patient_id=other.pk, detail__merged_into=str(existing.pk)).count() == 1


def test_creating_a_new_record_names_it_in_the_event(registration_review, front_desk):
    review, user, existing = registration_review

    services.duplicate_review_resolve(review=review, resolution=S.CREATED_NEW, actor=front_desk)

    new = Patient.objects.get(user=user)
    assert DuplicateReviewEvent.objects.get(review=review).data == {"existing": str(existing.pk), "created": str(new.pk)}


def test_the_decision_event_names_the_record_chosen_from_the_group(registrant, front_desk):
    by_phone = PatientFactory(phone="+12125550190")
    by_name = PatientFactory(first_name="Rita", last_name="Registrant", date_of_birth=datetime.date(1990, 5, 17))
    user = registrant(phone="+12125550190")
    services.registration_complete(user=user)
    (review,) = DuplicateReview.objects.filter(registration__user=user)

    services.duplicate_review_resolve(review=review, resolution=S.LINKED, actor=front_desk, target=by_name)

    event = review.events.get()
    assert moves([event]) == [(S.OPEN, S.LINKED)]
    assert event.actor == front_desk
    assert event.data == {"existing": str(by_name.pk)}
    assert by_phone.pk != by_name.pk


def test_a_refused_second_decision_writes_nothing(staff_pair_review, front_desk, clinic_admin):
    review, existing, other = staff_pair_review
    services.duplicate_review_resolve(review=review, resolution=S.DISMISSED, actor=front_desk)
    counts = (DuplicateReviewEvent.objects.count(), AccessLog.objects.count())

    with pytest.raises(InvalidTransition) as refused:
        services.duplicate_review_resolve(review=review, resolution=S.MERGED, actor=clinic_admin)

    assert (refused.value.status_code, refused.value.code) == (409, "invalid_transition")
    assert refused.value.message == "This possible duplicate has already been resolved."
    assert (DuplicateReviewEvent.objects.count(), AccessLog.objects.count()) == counts
    other.refresh_from_db()
    assert other.merged_into is None
    assert DuplicateReview.objects.get(pk=review.pk).resolved_by == front_desk

