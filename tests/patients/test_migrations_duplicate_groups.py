"""Migrations 0004-0006 turn the pair rows of the duplicate-review table into groups: records
joined by reviews are one group, each record a member once, each newcomer keeps one OPEN
review (its strongest), decided reviews are kept as they were. SQLite and PostgreSQL."""
import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.patients.models import DuplicateGroup, DuplicateGroupMember, DuplicateReview
from tests.factories import PatientFactory, UserFactory

BEFORE = [("patients", "0003_transition_events")]
AFTER = [("patients", "0006_duplicate_review_group_required")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_pair_rows_become_one_group_per_connected_set_with_one_open_review_per_newcomer():
    a, b, c, d, e = (PatientFactory() for _ in range(5))
    user = UserFactory()
    now = timezone.now()
    try:
        old = migrate(BEFORE)
        Review = old.get_model("patients", "DuplicateReview")
        registration = old.get_model("patients", "Registration").objects.create(
            user_id=user.pk, first_name="Rita", last_name="Registrant", date_of_birth=datetime.date(1990, 5, 17),
            phone="+12125550177", terms_version="2026-01", terms_accepted_at=now, status="in_review")
        weak = Review.objects.create(existing_id=a.pk, registration_id=registration.pk, reasons=["phone"], created_at=now)
        strong = Review.objects.create(existing_id=b.pk, registration_id=registration.pk, reasons=["email", "name_dob"],
                                       created_at=now + datetime.timedelta(seconds=1))
        c_first = Review.objects.create(existing_id=a.pk, other_id=c.pk, reasons=["name_dob"], created_at=now)
        c_second = Review.objects.create(existing_id=b.pk, other_id=c.pk, reasons=["name_dob"],
                                         created_at=now + datetime.timedelta(seconds=1))
        decided = Review.objects.create(existing_id=d.pk, other_id=e.pk, reasons=["phone"], status="dismissed",
                                        created_at=now, resolved_at=now, note="Twins")

        migrate(AFTER)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert set(DuplicateReview.objects.values_list("pk", flat=True)) == {strong.pk, c_first.pk, decided.pk}
    assert not DuplicateReview.objects.filter(pk__in=[weak.pk, c_second.pk]).exists()
    big = DuplicateReview.objects.get(pk=strong.pk).group
    assert DuplicateReview.objects.get(pk=c_first.pk).group == big
    assert set(big.members.values_list("patient_id", flat=True)) == {a.pk, b.pk, c.pk}
    kept = DuplicateReview.objects.get(pk=decided.pk)
    assert (kept.status, kept.note) == ("dismissed", "Twins")
    assert set(kept.group.members.values_list("patient_id", flat=True)) == {d.pk, e.pk}
    assert DuplicateGroup.objects.count() == 2
    assert DuplicateGroupMember.objects.count() == 5
