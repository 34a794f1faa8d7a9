"""Staff review of possible duplicates: /staff/duplicates/ and /staff/duplicates/<id>/."""
import datetime
import uuid

import pytest

from apps.audit.models import AccessLog
from apps.patients import services
from apps.patients.models import DuplicateGroupMember, DuplicateReview, DuplicateReviewEvent, Patient, Registration, RegistrationEvent
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

S = DuplicateReview.Status
MAY_REVIEW = ["front_desk", "clinic_admin"]
MAY_NOT = ["nurse", "provider_user", "billing_user"]


def detail(review):
    return f"/staff/duplicates/{review.pk}/"


# --- permissions --------------------------------------------------------------------------

def group_page(review):
    return f"/staff/duplicates/groups/{review.group_id}/"


def url_of(which, review):
    return {"list": "/staff/duplicates/", "detail": detail(review), "group": group_page(review)}[which]


@pytest.mark.parametrize("which", ["list", "detail", "group"])
def test_anonymous_is_sent_to_login(client, registration_review, which):
    review, _, _ = registration_review
    url = url_of(which, review)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("which", ["list", "detail", "group"])
def test_a_patient_is_sent_to_the_portal(client_for, patient, registration_review, which):
    review, _, existing = registration_review
    url = url_of(which, review)

    response = client_for(patient.user).post(url, {"resolution": S.LINKED}) if which == "detail" else client_for(patient.user).get(url)

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    assert existing.mrn.encode() not in response.content
    assert DuplicateReview.objects.get(pk=review.pk).status == S.OPEN


@pytest.mark.parametrize("role", MAY_NOT)
@pytest.mark.parametrize("which", ["list", "detail", "group"])
def test_roles_without_the_permission_get_403(request, client_for, registration_review, role, which):
    review, _, existing = registration_review
    client = client_for(request.getfixturevalue(role))

    get = client.get(url_of(which, review))
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
    group = client.get(group_page(review))
    page = client.get(detail(review))

    assert listing.status_code == 200
    assert existing.mrn.encode() in listing.content
    assert group_page(review).encode() in listing.content
    assert group.status_code == 200
    assert b"Online registration: Registrant, Rita" in group.content
    assert detail(review).encode() in group.content
    assert page.status_code == 200
    assert existing.mrn.encode() in page.content
    assert user.email.encode() in page.content


@pytest.mark.parametrize("which", ["detail", "group"])
def test_an_unknown_review_or_group_is_404(client_for, front_desk, which):
    url = f"/staff/duplicates/{uuid.uuid4()}/" if which == "detail" else f"/staff/duplicates/groups/{uuid.uuid4()}/"

    response = client_for(front_desk).get(url)

    assert response.status_code == 404
    assert b"Save decision" not in response.content


def test_viewing_logs_reads_of_both_records(client_for, front_desk, staff_pair_review):
    review, existing, other = staff_pair_review

    client_for(front_desk).get(detail(review))

    assert {r.patient_id for r in AccessLog.objects.filter(action="read")} == {existing.pk, other.pk}


def test_the_list_shows_only_groups_with_open_reviews(client_for, front_desk, registration_review, staff_pair_review):
    pair, existing, _ = staff_pair_review
    DuplicateReview.objects.filter(pk=pair.pk).update(status=S.DISMISSED)

    response = client_for(front_desk).get("/staff/duplicates/")

    assert [g.pk for g in response.context["groups"]] == [registration_review[0].group_id]
    assert response.context["groups"][0].open_reviews == 1


def test_many_similar_signups_make_one_row_on_the_list_and_one_review_each(client_for, front_desk):
    first = PatientFactory(first_name="Ann", last_name="Lee", date_of_birth=datetime.date(1990, 1, 1))
    newcomers = [
        services.patient_create(data={"first_name": "Ann", "last_name": "Lee", "date_of_birth": datetime.date(1990, 1, 1)})
        for _ in range(6)
    ]

    response = client_for(front_desk).get("/staff/duplicates/")

    assert DuplicateReview.objects.count() == 6  # one per newcomer; pairs would be 21
    (group,) = response.context["groups"]
    assert (group.open_reviews, group.member_count) == (6, 7)
    assert set(DuplicateGroupMember.objects.filter(group=group).values_list("patient_id", flat=True)) == {first.pk, *(p.pk for p in newcomers)}
    assert b"7 records in all" in response.content
    page = client_for(front_desk).get(f"/staff/duplicates/groups/{group.pk}/")
    assert page.status_code == 200
    assert all(p.mrn.encode() in page.content for p in [first, *newcomers])
    assert len(page.context["open_reviews"]) == 6
    assert {r.patient_id for r in AccessLog.objects.filter(action="read", detail__view="duplicate_group")} == {first.pk, *(p.pk for p in newcomers)}


def test_a_newcomer_can_be_merged_into_another_record_of_its_group(client_for, front_desk):
    a = PatientFactory(first_name="Ann", last_name="Lee", date_of_birth=datetime.date(1990, 1, 1), phone="+12125550140")
    b = PatientFactory(first_name="Anne", last_name="Lee", date_of_birth=datetime.date(1991, 1, 1), phone="+12125550141")
    newcomer = services.patient_create(
        data={"first_name": "Ann", "last_name": "Lee", "date_of_birth": datetime.date(1990, 1, 1), "phone": "+12125550141"},
    )
    review = DuplicateReview.objects.get(other=newcomer)
    client = client_for(front_desk)

    form_page = client.get(detail(review))
    refused = client.post(detail(review), {"resolution": S.MERGED, "target": str(uuid.uuid4())})
    response = client.post(detail(review), {"resolution": S.MERGED, "target": str(b.pk)})

    assert review.existing == a  # name and date of birth; b matched on the phone
    assert [value for value, _ in form_page.context["form"].fields["target"].choices] == [str(a.pk), str(b.pk)]
    assert refused.status_code == 400
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.merged_into == b
    review.refresh_from_db()
    assert (review.status, review.existing) == (S.MERGED, b)
    assert review.events.get().data["existing"] == str(b.pk)

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
