"""Staff review of possible duplicates: /staff/duplicates/ and /staff/duplicates/<id>/."""
import uuid

import pytest

from apps.audit.models import AccessLog
from apps.patients import services
from apps.patients.models import DuplicateReview, DuplicateReviewEvent, Patient, Registration, RegistrationEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

S = DuplicateReview.Status
MAY_REVIEW = ["front_desk", "clinic_admin"]
MAY_NOT = ["nurse", "provider_user", "billing_user"]


def detail(review):
    return f"/staff/duplicates/{review.pk}/"


# --- permissions --------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["list", "detail"])
def test_anonymous_is_sent_to_login(client, registration_review, which):
    review, _, _ = registration_review
    url = "/staff/duplicates/" if which == "list" else detail(review)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("which", ["list", "detail"])
def test_a_patient_is_sent_to_the_portal(client_for, patient, registration_review, which):
    review, _, existing = registration_review
    url = "/staff/duplicates/" if which == "list" else detail(review)

    response = client_for(patient.user).post(url, {"resolution": S.LINKED}) if which == "detail" else client_for(patient.user).get(url)

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert existing.mrn.encode() not in response.content
    assert DuplicateReview.objects.get(pk=review.pk).status == S.OPEN


@pytest.mark.parametrize("role", MAY_NOT)
@pytest.mark.parametrize("which", ["list", "detail"])
def test_roles_without_the_permission_get_403(request, client_for, registration_review, role, which):
    review, _, existing = registration_review
    client = client_for(request.getfixturevalue(role))

    get = client.get("/staff/duplicates/" if which == "list" else detail(review))
    post = client.post(detail(review), {"resolution": S.LINKED})

    assert get.status_code == 403
    assert post.status_code == 403
    assert existing.mrn.encode() not in get.content
    assert DuplicateReview.objects.get(pk=review.pk).status == S.OPEN


@pytest.mark.parametrize("role", MAY_REVIEW)
def test_roles_with_the_permission_see_the_list_and_the_review(request, client_for, registration_review, role):
    review, user, existing = registration_review
    client = client_for(request.getfixturevalue(role))

    listing = client.get("/staff/duplicates/")
    page = client.get(detail(review))

    assert listing.status_code == 200
    assert existing.mrn.encode() in listing.content
    assert b"Online registration: Registrant, Rita" in listing.content
    assert page.status_code == 200
    assert existing.mrn.encode() in page.content
    assert user.email.encode() in page.content


def test_an_unknown_review_is_404(client_for, front_desk):
    response = client_for(front_desk).get(f"/staff/duplicates/{uuid.uuid4()}/")

    assert response.status_code == 404
    assert b"Save decision" not in response.content


def test_viewing_logs_reads_of_both_records(client_for, front_desk, staff_pair_review):
    review, existing, other = staff_pair_review

    client_for(front_desk).get(detail(review))

    assert {r.patient_id for r in AccessLog.objects.filter(action="read")} == {existing.pk, other.pk}


def test_the_list_shows_only_open_reviews(client_for, front_desk, registration_review, staff_pair_review):
    pair, existing, _ = staff_pair_review
    DuplicateReview.objects.filter(pk=pair.pk).update(status=S.DISMISSED)

    response = client_for(front_desk).get("/staff/duplicates/")

    assert [r.pk for r in response.context["reviews"]] == [registration_review[0].pk]


# --- self-registrations: link or create new -----------------------------------------------

def test_link_attaches_the_registrant_to_the_existing_record(client_for, front_desk, registration_review):
    review, user, existing = registration_review

    response = client_for(front_desk).post(detail(review), {"resolution": S.LINKED, "note": "Checked ID by phone"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/duplicates/"
    existing.refresh_from_db()
    assert existing.user == user
    registration = Registration.objects.get(user=user)
    assert (registration.status, registration.patient) == (Registration.Status.COMPLETED, existing)
    review.refresh_from_db()
    assert (review.status, review.resolved_by, review.note) == (S.LINKED, front_desk, "Checked ID by phone")
    assert review.resolved_at is not None
    assert Patient.objects.count() == 1
    portal = client_for(user).get("/portal/")
    assert existing.mrn.encode() in portal.content


def test_create_new_gives_the_registrant_their_own_record(client_for, front_desk, registration_review):
    review, user, existing = registration_review

    response = client_for(front_desk).post(detail(review), {"resolution": S.CREATED_NEW})

    assert response.status_code == 302
    new = Patient.objects.get(user=user)
    assert new != existing and new.mrn != existing.mrn
    assert (new.first_name, new.last_name) == ("Rita", "Registrant")
    existing.refresh_from_db()
    assert existing.user is None
    assert DuplicateReview.objects.get(pk=review.pk).status == S.CREATED_NEW
    assert Registration.objects.get(user=user).patient == new


def test_resolving_an_already_resolved_review_is_409_on_the_page_and_writes_nothing(client_for, front_desk, clinic_admin, staff_pair_review):
    review, existing, other = staff_pair_review
    services.duplicate_review_resolve(review=review, resolution=S.DISMISSED, actor=front_desk, note="Twins")
    client = client_for(clinic_admin)
    before = (AccessLog.objects.count(), DuplicateReviewEvent.objects.count(), RegistrationEvent.objects.count())

    response = client.post(detail(review), {"resolution": S.MERGED, "note": "Same person after all"})

    assert response.status_code == 409
    assert response.templates[0].name == "patients/staff_duplicate_detail.html"
    assert b"This possible duplicate has already been resolved." in response.content
    assert b"Save decision" not in response.content  # a decided review offers no form
    assert (AccessLog.objects.count(), DuplicateReviewEvent.objects.count(), RegistrationEvent.objects.count()) == before
    review.refresh_from_db()
    assert (review.status, review.resolved_by, review.note) == (S.DISMISSED, front_desk, "Twins")
    other.refresh_from_db()
    assert other.merged_into is None


def test_a_decision_on_the_page_records_who_decided_and_why(client_for, front_desk, staff_pair_review):
    review, _, _ = staff_pair_review

    client_for(front_desk).post(detail(review), {"resolution": S.DISMISSED, "note": "Different people, same birthday"})

    event = DuplicateReviewEvent.objects.get(review=review)
    assert (event.from_status, event.to_status, event.actor, event.reason) == (S.OPEN, S.DISMISSED, front_desk, "Different people, same birthday")


def test_resolving_twice_is_409_with_a_message(client_for, front_desk, clinic_admin, registration_review):
    review, user, _ = registration_review
    client_for(front_desk).post(detail(review), {"resolution": S.LINKED})

    response = client_for(clinic_admin).post(detail(review), {"resolution": S.CREATED_NEW})

    assert response.status_code == 409
    assert b"already been resolved" in response.content
    assert Patient.objects.count() == 1
    assert DuplicateReview.objects.get(pk=review.pk).resolved_by == front_desk


def test_linking_to_a_record_that_has_a_login_is_409(client_for, front_desk, registration_review):
    review, user, existing = registration_review
    taken_by = UserFactory()
    Patient.objects.filter(pk=existing.pk).update(user=taken_by)

    response = client_for(front_desk).post(detail(review), {"resolution": S.LINKED})

    assert response.status_code == 409
    assert b"already has a portal login" in response.content
    existing.refresh_from_db()
    assert existing.user == taken_by
    assert DuplicateReview.objects.get(pk=review.pk).status == S.OPEN
    assert Registration.objects.get(user=user).status == Registration.Status.IN_REVIEW


@pytest.mark.parametrize("resolution", [S.MERGED, S.DISMISSED, "bogus", ""])
def test_a_registration_only_offers_link_or_create(client_for, front_desk, registration_review, resolution):
    review, _, _ = registration_review

    response = client_for(front_desk).post(detail(review), {"resolution": resolution})

    assert response.status_code == 400
    assert "resolution" in response.context["form"].errors
    assert DuplicateReview.objects.get(pk=review.pk).status == S.OPEN


# --- staff-registered pairs: merge or dismiss ---------------------------------------------

def test_merge_moves_the_login_and_marks_the_newer_record(client_for, front_desk, staff_pair_review):
    review, existing, other = staff_pair_review
    login = other.user

    response = client_for(front_desk).post(detail(review), {"resolution": S.MERGED})

    assert response.status_code == 302
    existing.refresh_from_db()
    other.refresh_from_db()
    assert existing.user == login
    assert other.user is None
    assert other.merged_into == existing
    assert DuplicateReview.objects.get(pk=review.pk).status == S.MERGED
    assert Patient.objects.count() == 2  # kept, never deleted
    assert existing.mrn.encode() in client_for(login).get("/portal/").content
    assert AccessLog.objects.filter(action="update", patient_id=other.pk, detail__merged_into=str(existing.pk)).exists()


def test_dismiss_keeps_both_records(client_for, clinic_admin, staff_pair_review):
    review, existing, other = staff_pair_review

    response = client_for(clinic_admin).post(detail(review), {"resolution": S.DISMISSED, "note": "Twins"})

    assert response.status_code == 302
    other.refresh_from_db()
    assert other.merged_into is None
    assert other.user is not None
    review.refresh_from_db()
    assert (review.status, review.note, review.resolved_by) == (S.DISMISSED, "Twins", clinic_admin)


@pytest.mark.parametrize("resolution", [S.LINKED, S.CREATED_NEW])
def test_a_pair_only_offers_merge_or_dismiss(client_for, front_desk, staff_pair_review, resolution):
    review, _, _ = staff_pair_review

    response = client_for(front_desk).post(detail(review), {"resolution": resolution})

    assert response.status_code == 400
    assert DuplicateReview.objects.get(pk=review.pk).status == S.OPEN


def test_merging_twice_is_409(client_for, front_desk, staff_pair_review):
    review, _, _ = staff_pair_review
    client = client_for(front_desk)
    client.post(detail(review), {"resolution": S.MERGED})

    response = client.post(detail(review), {"resolution": S.MERGED})

    assert response.status_code == 409
    assert b"already been resolved" in response.content
