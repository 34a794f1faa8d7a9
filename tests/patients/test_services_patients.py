import datetime
import json
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.core.exceptions import Conflict, InvalidTransition, ValidationFailed
from apps.patients import services
from apps.patients.models import DuplicateGroupMember, DuplicateReview, MrnSequence, Patient, Registration
from apps.patients.phone import normalize_phone
from apps.patients.selectors import find_duplicates
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

DOB = datetime.date(1984, 6, 1)


def luhn_valid(number):
    """Independent Luhn check over the whole number (check digit last)."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def create(**data):
    data = {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": DOB, **data}
    return services.patient_create(data=data, flag_duplicates=False)


# --- MRNs ---------------------------------------------------------------------------------

def test_mrn_is_eight_digits_with_a_luhn_check_digit():
    patient = create()

    assert len(patient.mrn) == 8 and patient.mrn.isdigit()
    assert luhn_valid(patient.mrn)


def test_mrn_check_digit_catches_a_single_digit_typo():
    mrn = create().mrn
    typo = mrn[:3] + str((int(mrn[3]) + 1) % 10) + mrn[4:]

    assert not luhn_valid(typo)


def test_mrns_are_unique_and_increasing():
    mrns = [create(first_name=f"P{i}").mrn for i in range(30)]

    assert len(set(mrns)) == 30
    assert all(luhn_valid(m) for m in mrns)
    assert [int(m[:7]) for m in mrns] == sorted(int(m[:7]) for m in mrns)


def test_mrn_is_never_reused_after_a_merge():
    first = create(first_name="One")
    second = create(first_name="Two")
    services.patient_merge(source=second, target=first)

    third = create(first_name="Three")

    assert third.mrn not in {first.mrn, second.mrn}
    assert Patient.objects.filter(mrn=second.mrn).count() == 1  # the merged record is kept


def test_a_rejected_creation_does_not_advance_the_mrn_sequence():
    create()
    before = MrnSequence.objects.get(pk=1).next_value

    with pytest.raises(ValidationFailed):
        create(phone="not a phone")

    assert MrnSequence.objects.get(pk=1).next_value == before


def test_mrn_cannot_be_duplicated_in_the_database():
    from django.db import IntegrityError

    patient = create()

    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(mrn=patient.mrn)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_get_distinct_mrns(requires_postgres):
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    mrns, errors = [], []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            mrns.append(create(first_name=f"Racer{i}").mrn)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(mrns) == threads_count
    assert len(set(mrns)) == threads_count


# --- phones -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "typed, stored",
    [
        ("(212) 555-0142", "+12125550142"),
        ("212.555.0142", "+12125550142"),
        ("+1 212 555 0142", "+12125550142"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", ""),
    ],
)
def test_normalize_phone_gives_e164(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "not a phone", "+1 000 000 0000"])
def test_normalize_phone_rejects_invalid_numbers(typed):
    with pytest.raises(ValidationError):
        normalize_phone(typed)


def test_patient_create_stores_phones_in_e164():
    patient = create(phone="(212) 555-0142", emergency_contact_phone="212 555 0143")

    patient.refresh_from_db()
    assert patient.phone == "+12125550142"
    assert patient.emergency_contact_phone == "+12125550143"


def test_patient_update_stores_phones_in_e164():
    patient = create()

    services.patient_update(patient=patient, data={"phone": "212-555-0150"})

    patient.refresh_from_db()
    assert patient.phone == "+12125550150"


# --- validation ---------------------------------------------------------------------------

def test_patient_create_reports_field_errors():
    with pytest.raises(ValidationFailed) as excinfo:
        services.patient_create(
            data={"first_name": "", "last_name": "X", "date_of_birth": timezone.localdate() + datetime.timedelta(days=1), "phone": "123"}
        )

    fields = excinfo.value.extra["fields"]
    assert excinfo.value.code == "validation_error"
    assert excinfo.value.status_code == 400
    assert set(fields) >= {"first_name", "date_of_birth", "phone"}
    assert Patient.objects.count() == 0


def test_patient_create_rejects_unknown_fields():
    with pytest.raises(ValidationFailed) as excinfo:
        create(mrn="12345678")

    assert excinfo.value.extra["fields"] == {"mrn": ["Unknown field."]}


def test_quiet_hours_need_both_ends():
    with pytest.raises(ValidationFailed) as excinfo:
        create(quiet_hours_start=datetime.time(22, 0))

    assert "quiet_hours_end" in excinfo.value.extra["fields"]


def test_validation_failed_str_never_contains_values():
    with pytest.raises(ValidationFailed) as excinfo:
        create(phone="555-SECRET-99")

    assert "SECRET" not in str(excinfo.value)


def test_patient_update_contact_refuses_legal_fields():
    patient = create()

    with pytest.raises(ValidationFailed) as excinfo:
        services.patient_update_contact(patient=patient, data={"last_name": "Changed", "date_of_birth": datetime.date(2000, 1, 1)})

    assert set(excinfo.value.extra["fields"]) == {"date_of_birth", "last_name"}
    patient.refresh_from_db()
    assert patient.last_name == "Lovelace"


def test_patient_update_rejects_bad_values_and_saves_nothing():
    patient = create(city="Springfield")

    with pytest.raises(ValidationFailed) as excinfo:
        services.patient_update(patient=patient, data={"city": "Shelbyville", "phone": "bogus"})

    assert "phone" in excinfo.value.extra["fields"]
    patient.refresh_from_db()
    assert patient.city == "Springfield"


# --- audit --------------------------------------------------------------------------------

def test_patient_create_writes_an_audit_row():
    patient = create()

    row = AccessLog.objects.get(action="create", patient_id=patient.pk)
    assert row.object_type == "patients.patient"
    assert row.object_id == str(patient.pk)


def test_patient_update_records_changed_field_names_never_values():
    patient = create(city="Springfield", phone="+12125550101")

    services.patient_update(
        patient=patient, data={"city": "Hidden Valley", "phone": "+12125550101", "preferred_name": "Countess"}
    )

    row = AccessLog.objects.filter(action="update", patient_id=patient.pk).get()
    assert row.detail == {"fields": ["city", "preferred_name"]}
    dumped = json.dumps(row.detail) + str(row)
    assert "Hidden Valley" not in dumped
    assert "Countess" not in dumped


def test_patient_update_with_stale_instance_still_detects_changes():
    patient = create(city="Springfield")
    stale = Patient.objects.get(pk=patient.pk)
    services.patient_update(patient=patient, data={"city": "Shelbyville"})

    services.patient_update(patient=stale, data={"city": "Springfield"})

    patient.refresh_from_db()
    assert patient.city == "Springfield"


def test_patient_update_saves_only_changed_fields():
    patient = create(city="Springfield")

    updated = services.patient_update(patient=patient, data={"city": "Shelbyville"})

    assert updated.city == "Shelbyville"
    assert Patient.objects.get(pk=patient.pk).city == "Shelbyville"


# --- duplicates ---------------------------------------------------------------------------

def test_find_duplicates_reports_each_reason():
    existing = PatientFactory(first_name="Ada", last_name="Lovelace", date_of_birth=DOB, email="ada@example.test", phone="+12125550111")

    matches = dict(find_duplicates(first_name=" ada ", last_name="LOVELACE", date_of_birth=DOB, email="ADA@example.test", phone="+12125550111"))

    assert matches == {existing: ["email", "phone", "name_dob"]}


def test_find_duplicates_ignores_merged_records():
    target = PatientFactory()
    PatientFactory(first_name="Ada", last_name="Lovelace", date_of_birth=DOB, merged_into=target)

    assert find_duplicates(first_name="Ada", last_name="Lovelace", date_of_birth=DOB) == []


def test_staff_created_duplicate_is_flagged_for_review():
    existing = PatientFactory(first_name="Ada", last_name="Lovelace", date_of_birth=DOB)

    new = services.patient_create(data={"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": DOB})

    review = DuplicateReview.objects.get()
    assert (review.existing, review.other, review.reasons) == (existing, new, ["name_dob"])


def test_merge_moves_the_login_and_marks_the_source():
    target = PatientFactory()
    user = UserFactory()
    source = PatientFactory(user=user)

    services.patient_merge(source=source, target=target)

    source.refresh_from_db()
    target.refresh_from_db()
    assert target.user == user
    assert source.user is None
    assert source.merged_into == target


def test_merge_refuses_two_logins_and_a_second_merge():
    with_login = PatientFactory(user=UserFactory())
    also_login = PatientFactory(user=UserFactory())
    with pytest.raises(Conflict):
        services.patient_merge(source=with_login, target=also_login)

    plain = PatientFactory()
    services.patient_merge(source=plain, target=with_login)
    with pytest.raises(InvalidTransition):
        services.patient_merge(source=plain, target=with_login)


def test_resolving_a_review_twice_is_refused(staff_pair_review, front_desk):
    review, _, _ = staff_pair_review
    services.duplicate_review_resolve(review=review, resolution=DuplicateReview.Status.DISMISSED, actor=front_desk)

    with pytest.raises(InvalidTransition) as excinfo:
        services.duplicate_review_resolve(review=review, resolution=DuplicateReview.Status.MERGED, actor=front_desk)

    assert excinfo.value.status_code == 409


def test_registration_review_cannot_be_merged(registration_review, front_desk):
    review, _, _ = registration_review

    with pytest.raises(ValidationFailed):
        services.duplicate_review_resolve(review=review, resolution=DuplicateReview.Status.MERGED, actor=front_desk)

    review.refresh_from_db()
    assert review.status == DuplicateReview.Status.OPEN


def test_a_registration_matching_two_records_gets_one_review_and_may_be_linked_to_either(registrant, front_desk):
    by_phone = PatientFactory(phone="+12125550190")
    by_name = PatientFactory(first_name="Rita", last_name="Registrant", date_of_birth=datetime.date(1990, 5, 17))
    user = registrant(phone="+12125550190")
    services.registration_complete(user=user)
    (review,) = DuplicateReview.objects.filter(registration__user=user)
    members = set(DuplicateGroupMember.objects.filter(group=review.group).values_list("patient_id", flat=True))
    assert members == {by_phone.pk, by_name.pk}

    services.duplicate_review_resolve(review=review, resolution=DuplicateReview.Status.LINKED, actor=front_desk, target=by_phone)

    review.refresh_from_db()
    assert (review.status, review.existing) == (DuplicateReview.Status.LINKED, by_phone)
    by_phone.refresh_from_db()
    assert by_phone.user == user
    assert Registration.objects.get(user=user).status == Registration.Status.COMPLETED


def test_a_target_outside_the_group_is_refused_and_nothing_is_written(registration_review, front_desk):
    review, user, existing = registration_review
    stranger = PatientFactory()

    with pytest.raises(ValidationFailed) as caught:
        services.duplicate_review_resolve(review=review, resolution=DuplicateReview.Status.LINKED, actor=front_desk, target=stranger)

    assert "target" in caught.value.extra["fields"]
    stranger.refresh_from_db()
    assert stranger.user is None
    assert DuplicateReview.objects.get(pk=review.pk).status == DuplicateReview.Status.OPEN


def test_creating_a_new_record_adds_it_to_the_group(registration_review, front_desk):
    review, user, existing = registration_review

    services.duplicate_review_resolve(review=review, resolution=DuplicateReview.Status.CREATED_NEW, actor=front_desk)

    created = Patient.objects.get(user=user)
    assert DuplicateGroupMember.objects.get(patient=created).group_id == review.group_id


def test_registration_complete_is_idempotent(registrant):
    user = registrant()
    services.registration_complete(user=user)

    services.registration_complete(user=user)

    assert Patient.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_staff_resolving_the_same_review_at_once_one_wins(requires_postgres):
    from apps.accounts.roles import ensure_roles
    from tests.factories import StaffFactory

    ensure_roles()
    existing = PatientFactory(first_name="Sam", last_name="Same", date_of_birth=DOB)
    other = services.patient_create(data={"first_name": "Sam", "last_name": "Same", "date_of_birth": DOB}, user=UserFactory())
    review = DuplicateReview.objects.get(other=other)
    actors = [StaffFactory(role="front_desk") for _ in range(4)]
    barrier = threading.Barrier(len(actors))
    outcomes = []

    def worker(actor):
        try:
            barrier.wait(timeout=10)
            services.duplicate_review_resolve(review=review, resolution=DuplicateReview.Status.MERGED, actor=actor)
            outcomes.append("won")
        except InvalidTransition:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["refused"] * 3 + ["won"]
    other.refresh_from_db()
    assert other.merged_into_id == existing.pk
