"""The admin pages of a duplicate review and of a registration list their event rows
(read-only): who moved them, from which status to which, and why."""
import pytest

from apps.patients import services
from apps.patients.models import DuplicateReview, Registration

pytestmark = pytest.mark.django_db


def event_rows(response):
    """(from, to, actor, reason) of each row in the page's one inline, and the inline's rights."""
    (inline,) = response.context["inline_admin_formsets"]
    rows = [(f.original.from_status, f.original.to_status, f.original.actor, f.original.reason) for f in inline]
    return rows, (inline.has_add_permission, inline.has_change_permission, inline.has_delete_permission)


def test_a_review_page_shows_its_decision_read_only(client_for, clinic_admin, front_desk, staff_pair_review):
    review, _, _ = staff_pair_review
    services.duplicate_review_resolve(review=review, resolution=DuplicateReview.Status.DISMISSED, actor=front_desk, note="Twins, checked ID")

    response = client_for(clinic_admin).get(f"/admin/patients/duplicatereview/{review.pk}/change/")

    assert response.status_code == 200
    assert event_rows(response) == ([("open", "dismissed", front_desk, "Twins, checked ID")], (False, False, False))
    content = response.content.decode()
    assert "Duplicate review events" in content
    assert f"review {review.pk}: open -&gt; dismissed" in content
    assert 'name="events-0-reason"' not in content  # shown, not editable


def test_a_registration_page_shows_its_steps(client_for, clinic_admin, front_desk, registration_review):
    review, user, _ = registration_review
    services.duplicate_review_resolve(review=review, resolution=DuplicateReview.Status.CREATED_NEW, actor=front_desk)
    registration = Registration.objects.get(user=user)

    response = client_for(clinic_admin).get(f"/admin/patients/registration/{registration.pk}/change/")

    assert response.status_code == 200
    rows, rights = event_rows(response)
    assert rows == [
        ("pending_verification", "in_review", user, "Email verified: may match an existing record"),
        ("in_review", "completed", front_desk, "Duplicate review: Different person: new record created"),
    ]
    assert rights == (False, False, False)
    assert "Registration events" in response.content.decode()
    assert "Email verified: may match an existing record" in response.content.decode()


def test_the_desk_role_sees_the_decisions_without_being_superuser(client_for, front_desk, staff_pair_review):
    review, _, _ = staff_pair_review
    services.duplicate_review_resolve(review=review, resolution=DuplicateReview.Status.DISMISSED, actor=front_desk, note="Twins")

    response = client_for(front_desk).get(f"/admin/patients/duplicatereview/{review.pk}/change/")

    assert response.status_code == 200
    assert event_rows(response)[0] == [("open", "dismissed", front_desk, "Twins")]
    assert f"review {review.pk}: open -&gt; dismissed" in response.content.decode()
