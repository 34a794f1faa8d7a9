"""Possible duplicates grouped per person: a signup that matches joins the group of the
records it matched (folding the groups it bridges), with one review; the check's cost is a
fixed number of queries and a capped candidate read, however many similar records exist."""
import datetime
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from apps.patients import services
from apps.patients.models import DuplicateGroup, DuplicateGroupMember, DuplicateReview
from apps.patients.selectors import MAX_DUPLICATE_CANDIDATES, find_duplicates
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

ANN = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": datetime.date(1990, 1, 1)}


def create(**overrides):
    return services.patient_create(data={**ANN, **overrides})


def queries_of_one_more_signup():
    with CaptureQueriesContext(connection) as ctx:
        create()
    return len(ctx.captured_queries)


def test_each_similar_signup_adds_one_review_and_one_member_not_a_row_per_pair():
    PatientFactory(**ANN)

    for _ in range(30):
        create()

    assert DuplicateReview.objects.count() == 30  # pairs would be 465
    assert DuplicateGroup.objects.count() == 1
    assert DuplicateGroupMember.objects.count() == 31


def test_the_check_costs_the_same_queries_for_few_and_many_similar_records():
    PatientFactory(**ANN)
    create()
    few = queries_of_one_more_signup()
    for _ in range(MAX_DUPLICATE_CANDIDATES + 5):
        create()

    many = queries_of_one_more_signup()

    assert few == many
    assert len(find_duplicates(**ANN)) == MAX_DUPLICATE_CANDIDATES


def test_a_signup_matching_two_groups_folds_them_into_the_older_one():
    older = PatientFactory(**ANN, phone="+12125550150")
    first = create()
    newer = PatientFactory(first_name="Bo", last_name="Ray", date_of_birth=datetime.date(1980, 2, 2), phone="+12125550151")
    second = services.patient_create(data={"first_name": "Bo", "last_name": "Ray", "date_of_birth": datetime.date(1980, 2, 2)})
    old_group = DuplicateReview.objects.get(other=first).group
    assert DuplicateReview.objects.get(other=second).group != old_group

    bridge = create(phone="+12125550151")

    assert DuplicateGroup.objects.get() == old_group
    assert set(old_group.members.values_list("patient_id", flat=True)) == {older.pk, first.pk, newer.pk, second.pk, bridge.pk}
    assert set(old_group.reviews.values_list("other_id", flat=True)) == {first.pk, second.pk, bridge.pk}


def test_the_review_names_the_strongest_match():
    PatientFactory(**ANN)
    strong = PatientFactory(**ANN, email="ann@example.test")

    newcomer = create(email="ann@example.test")

    review = DuplicateReview.objects.get(other=newcomer)
    assert (review.existing, review.reasons) == (strong, ["email", "name_dob"])


def test_a_record_without_matches_joins_no_group():
    create()

    assert not DuplicateGroup.objects.exists()
    assert not DuplicateReview.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_signups_at_once_matching_the_same_person_join_one_group(requires_postgres):
    PatientFactory(**ANN)
    barrier = threading.Barrier(2)
    errors = []

    def signup():
        try:
            barrier.wait()
            create()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=signup) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert DuplicateGroup.objects.count() == 1
    assert DuplicateReview.objects.count() == 2
    assert DuplicateGroupMember.objects.count() == 3
