"""Confirming an email (AccountAdapter.confirm_email) calls accounts' email_confirmed hook inside
the confirmation's transaction; the patients app's receiver creates or links the registrant's
patient record. Accounts never imports patients: the receiver is connected in
apps/patients/apps.py."""
import datetime

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory

from apps.accounts.adapter import AccountAdapter, email_confirmed
from apps.patients.models import Patient, Registration
from apps.patients.services import registration_complete, registration_submit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registrant_email():
    """A signed-up registrant whose email is not verified yet."""
    user = UserFactory(email="rita@example.test", verified_email=False)
    registration_submit(
        user=user, first_name="Rita", last_name="Registrant", date_of_birth=datetime.date(1990, 5, 17),
        phone="+12125550177", terms_version="2026-01",
    )
    return EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)


def confirm(email_address):
    """(confirmed, the messages the page would show)."""
    request = RequestFactory().post("/accounts/confirm-email/key/")
    request.user = AnonymousUser()
    request._messages = CookieStorage(request)
    confirmed = AccountAdapter(request).confirm_email(request, email_address)
    return confirmed, [str(m) for m in request._messages]


def test_the_patients_receiver_is_connected_to_the_hook():
    assert registration_complete in email_confirmed.receivers


def test_confirming_the_email_creates_the_registrants_patient_record(registrant_email):
    user = registrant_email.user

    assert confirm(registrant_email) == (True, ["You have confirmed rita@example.test."])

    patient = Patient.objects.get(user=user)
    assert (patient.first_name, patient.last_name, patient.email, patient.phone) == ("Rita", "Registrant", "rita@example.test", "+12125550177")
    registration = Registration.objects.get(user=user)
    assert (registration.status, registration.patient) == (Registration.Status.COMPLETED, patient)
    assert registration.events.get().actor == user
    assert EmailAddress.objects.get(pk=registrant_email.pk).verified is True


def test_a_failing_receiver_leaves_the_email_unconfirmed(registrant_email):
    def broken(*, user):
        raise RuntimeError("receiver failed")

    email_confirmed.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            confirm(registrant_email)
    finally:
        email_confirmed.disconnect(broken)

    assert EmailAddress.objects.get(pk=registrant_email.pk).verified is False
    assert not Patient.objects.exists()
