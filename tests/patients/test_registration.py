"""Self-registration through allauth: signup, email verification, then link / create / review."""
import datetime
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from apps.accounts.models import User
from apps.audit.models import AccessLog
from apps.patients.models import DuplicateReview, Patient, Registration
from tests.factories import PatientFactory, PortalPatientFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
PASSWORD = "a-Long-unusual-passphrase-42"
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)")


def signup_data(**overrides):
    data = {
        "first_name": "Rita",
        "last_name": "Registrant",
        "date_of_birth": "1990-05-17",
        "email": "rita@example.test",
        "phone": "(212) 555-0177",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "accept_terms": "on",
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def sign_up(client, **overrides):
    return client.post(SIGNUP, signup_data(**overrides))


def confirmation_path(email):
    messages = [m for m in mail.outbox if email in m.to]
    assert messages, f"no email to {email}"
    match = CONFIRM_LINK.search(messages[-1].body)
    assert match, messages[-1].body
    return match.group(1)


def sign_up_and_verify(client=None, **overrides):
    """Sign up, then POST the confirmation link from the email. Returns (client, responses)."""
    client = client or Client()
    email = signup_data(**overrides)["email"]
    responses = [sign_up(client, **overrides)]
    path = confirmation_path(email)
    responses.append(client.get(path))
    responses.append(client.post(path, follow=True))
    return client, responses


def texts(responses):
    out = []
    for response in responses:
        out.append(response.content.decode())
        for redirect_response in getattr(response, "redirect_chain", []):
            out.append(str(redirect_response))
    return "\n".join(out)


def portal(client):
    return client.get("/portal/")


# --- the form -----------------------------------------------------------------------------

def test_signup_page_shows_the_registration_fields(client):
    response = client.get(SIGNUP)

    assert response.status_code == 200
    for name in ["first_name", "last_name", "date_of_birth", "email", "phone", "password1", "password2", "accept_terms"]:
        assert f'name="{name}"'.encode() in response.content


def test_terms_must_be_accepted(client):
    response = sign_up(client, accept_terms=None)

    assert response.status_code == 200
    assert "accept_terms" in response.context["form"].errors
    assert b"You must accept the terms of use and the privacy notice to register." in response.content
    assert not User.objects.filter(email="rita@example.test").exists()
    assert mail.outbox == []


@pytest.mark.parametrize("phone", ["12345", "not a phone", "+1 000 000 0000"])
def test_a_bad_phone_is_a_form_error(client, phone):
    response = sign_up(client, phone=phone)

    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert b"Enter a valid phone number" in response.content
    assert not User.objects.exists()


def test_a_future_date_of_birth_is_a_form_error(client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = sign_up(client, date_of_birth=tomorrow.isoformat())

    assert response.status_code == 200
    assert response.context["form"].errors["date_of_birth"] == ["Date of birth cannot be in the future."]
    assert b"Date of birth cannot be in the future." in response.content
    assert not User.objects.exists()


@pytest.mark.parametrize("password", ["short1", "password123", "1234567890123", "rita@example.test"])
def test_weak_passwords_are_form_errors(client, password):
    response = sign_up(client, password1=password, password2=password)

    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    assert all(escape(message) in response.content.decode() for message in response.context["form"].errors["password1"])
    assert not User.objects.exists()


def test_mismatched_passwords_are_a_form_error(client):
    response = sign_up(client, password2=PASSWORD + "x")

    assert response.status_code == 200
    errors = [m for messages in response.context["form"].errors.values() for m in messages]
    assert errors and all(escape(message) in response.content.decode() for message in errors)
    assert not User.objects.exists()


# --- before verification ------------------------------------------------------------------

def test_after_signup_there_is_a_registration_but_no_patient(client):
    response = sign_up(client)

    assert response.status_code == 302
    user = User.objects.get(email="rita@example.test")
    registration = Registration.objects.get(user=user)
    assert registration.status == Registration.Status.PENDING_VERIFICATION
    assert registration.phone == "+12125550177"
    assert registration.terms_version == "2026-01"
    assert registration.terms_accepted_at is not None
    assert user.full_name == "Rita Registrant"
    assert not Patient.objects.exists()


def test_the_verification_email_is_sent(client):
    sign_up(client)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rita@example.test"]
    assert CONFIRM_LINK.search(mail.outbox[0].body)


def test_unverified_registrant_cannot_reach_the_portal(client):
    sign_up(client)

    response = portal(client)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_unverified_registrant_cannot_sign_in(client):
    sign_up(client)
    fresh = Client()

    response = fresh.post("/accounts/login/", {"login": "rita@example.test", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/confirm-email/")
    assert portal(fresh).status_code == 302
    assert "_auth_user_id" not in fresh.session


def test_viewing_the_confirmation_page_does_not_verify(client):
    sign_up(client)
    path = confirmation_path("rita@example.test")

    response = client.get(path)

    assert response.status_code == 200
    assert b"Confirm Email Address" in response.content and b"rita@example.test" in response.content
    assert not Patient.objects.exists()
    assert Registration.objects.get().status == Registration.Status.PENDING_VERIFICATION


# --- (a) no match: a new record -----------------------------------------------------------

def test_verifying_with_no_match_creates_a_linked_patient(client):
    client, responses = sign_up_and_verify(client)

    user = User.objects.get(email="rita@example.test")
    patient = Patient.objects.get()
    assert patient.user == user
    assert (patient.first_name, patient.last_name, patient.date_of_birth) == ("Rita", "Registrant", datetime.date(1990, 5, 17))
    assert patient.email == "rita@example.test"
    assert patient.phone == "+12125550177"
    assert len(patient.mrn) == 8
    registration = Registration.objects.get(user=user)
    assert registration.status == Registration.Status.COMPLETED
    assert registration.patient == patient
    assert registration.completed_at is not None


def test_verified_registrant_sees_their_record_in_the_portal(client):
    client, _ = sign_up_and_verify(client)
    patient = Patient.objects.get()

    response = portal(client)

    assert response.status_code == 200
    assert patient.mrn.encode() in response.content
    assert b"Rita Registrant" in response.content


def test_verified_registrant_can_sign_in_from_another_browser(client):
    sign_up_and_verify(client)
    fresh = Client()

    fresh.post("/accounts/login/", {"login": "rita@example.test", "password": PASSWORD})

    response = portal(fresh)
    assert response.status_code == 200
    assert Patient.objects.get().mrn.encode() in response.content


# --- (b) a strong match without a login: linked -------------------------------------------

def test_strong_match_without_login_is_linked_not_duplicated(client):
    existing = PatientFactory(
        first_name="Rita", last_name="Registrant", date_of_birth=datetime.date(1990, 5, 17),
        email="rita@example.test", phone="+12125550999",
    )

    client, _ = sign_up_and_verify(client, first_name="rita", last_name="REGISTRANT")

    assert Patient.objects.count() == 1
    existing.refresh_from_db()
    assert existing.user.email == "rita@example.test"
    assert Registration.objects.get().status == Registration.Status.COMPLETED
    assert Registration.objects.get().patient == existing
    assert not DuplicateReview.objects.exists()
    assert existing.mrn.encode() in portal(client).content
    assert AccessLog.objects.filter(action="update", patient_id=existing.pk, detail__via="registration").exists()


# --- (c) anything weaker: staff review, and the registrant learns nothing -----------------

def _other_person_with_login():
    """A patient whose record email is rita@... but whose login is another address."""
    return PortalPatientFactory(
        first_name="Rita", last_name="Registrant", date_of_birth=datetime.date(1990, 5, 17),
        email="rita@example.test", phone="+12125550888", user=UserFactory(email="rita.old@example.test"),
    )


@pytest.mark.parametrize(
    "make_existing, reasons",
    [
        pytest.param(
            lambda: PatientFactory(first_name="Otto", last_name="Other", date_of_birth=datetime.date(1950, 1, 1), email="otto@example.test", phone="+12125550177"),
            ["phone"],
            id="phone-only",
        ),
        pytest.param(
            lambda: PatientFactory(first_name="Rita", last_name="Registrant", date_of_birth=datetime.date(1990, 5, 17), email="someone.else@example.test", phone="+12125550555"),
            ["name_dob"],
            id="name-dob-different-email",
        ),
        pytest.param(_other_person_with_login, ["email", "name_dob"], id="strong-match-that-has-a-login"),
        pytest.param(
            lambda: PatientFactory(first_name="Otto", last_name="Other", date_of_birth=datetime.date(1950, 1, 1), email="rita@example.test", phone="+12125550556"),
            ["email"],
            id="email-only",
        ),
    ],
)
def test_weak_or_taken_matches_go_to_staff_review(client, make_existing, reasons):
    existing = make_existing()
    patients_before = Patient.objects.count()

    client, responses = sign_up_and_verify(client)
    pending = portal(client)

    user = User.objects.get(email="rita@example.test")
    registration = Registration.objects.get(user=user)
    assert registration.status == Registration.Status.IN_REVIEW
    assert registration.patient is None
    assert Patient.objects.count() == patients_before
    assert not Patient.objects.filter(user=user).exists()
    review = DuplicateReview.objects.get(registration=registration)
    assert review.existing == existing
    assert review.reasons == reasons
    assert review.status == DuplicateReview.Status.OPEN
    existing.refresh_from_db()
    assert existing.user_id != user.pk

    assert pending.status_code == 200
    assert b"finishing your registration" in pending.content
    everything_seen = texts([*responses, pending]) + "\n".join(m.subject + m.body for m in mail.outbox if user.email in m.to)
    for secret in _distinctive_data_of(existing, registration):
        assert secret not in everything_seen, secret


def _distinctive_data_of(existing, registration):
    """What would tell the registrant that this other record exists."""
    secrets = [existing.mrn, str(existing.pk)]
    if (existing.first_name, existing.last_name) != (registration.first_name, registration.last_name):
        secrets += [existing.first_name, existing.last_name]
    if existing.email != registration.user.email:
        secrets.append(existing.email)
    if existing.phone != registration.phone:
        secrets.append(existing.phone)
    if existing.user_id:
        secrets.append(existing.user.email)
    return secrets


def test_several_matches_give_one_review_in_one_group_of_them(client):
    by_phone = PatientFactory(phone="+12125550177")
    by_name = PatientFactory(first_name="Rita", last_name="Registrant", date_of_birth=datetime.date(1990, 5, 17))

    sign_up_and_verify(client)

    (review,) = DuplicateReview.objects.filter(registration__user__email="rita@example.test")
    assert review.existing_id in {by_phone.pk, by_name.pk}
    assert {m.patient_id for m in review.group.members.all()} == {by_phone.pk, by_name.pk}
    assert Patient.objects.count() == 2


def test_the_pending_page_shows_no_patient_data_of_anyone(client):
    other = PatientFactory(first_name="Zelda", last_name="Zimmerman", phone="+12125550177")

    client, _ = sign_up_and_verify(client)
    response = portal(client)

    content = response.content.decode()
    assert "Zimmerman" not in content and "Zelda" not in content
    assert other.mrn not in content
    assert "+12125550177" not in content


# --- enumeration --------------------------------------------------------------------------

def test_an_email_already_in_use_answers_like_a_normal_signup(client):
    PortalPatientFactory(email="taken@example.test")
    normal = Client().post(SIGNUP, signup_data(email="fresh@example.test"))
    mail.outbox.clear()

    response = client.post(SIGNUP, signup_data(email="taken@example.test", first_name="Ivy"))

    assert response.status_code == normal.status_code == 302
    assert response["Location"] == normal["Location"]
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1
    assert not Registration.objects.filter(first_name="Ivy").exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["taken@example.test"]
    assert "already exists" in mail.outbox[0].subject.lower()
    assert not CONFIRM_LINK.search(mail.outbox[0].body)


def test_an_email_in_use_with_other_case_is_not_a_new_account(client):
    PortalPatientFactory(email="taken@example.test")

    client.post(SIGNUP, signup_data(email="Taken@Example.test"))

    assert User.objects.filter(email__iexact="taken@example.test").count() == 1


def test_reviewers_are_told_without_phi_and_others_are_not(client, front_desk, clinic_admin, nurse, billing_user):
    from apps.messaging.models import Notification

    existing = PatientFactory(first_name="Otto", last_name="Other", phone="+12125550177")

    sign_up_and_verify(client)

    review = DuplicateReview.objects.get(existing=existing)
    notified = Notification.objects.filter(kind="duplicate_flagged")
    assert {n.recipient for n in notified} == {front_desk, clinic_admin}
    for n in notified:
        assert n.link == f"/staff/duplicates/{review.pk}/"
        shown = n.title + n.body + n.link + str(n.data)
        for secret in ["Rita", "Registrant", "Otto", "Other", existing.mrn, "+12125550177", "rita@example.test"]:
            assert secret not in shown
