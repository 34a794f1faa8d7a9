"""Helpers for the patients tests: form data, registrants, possible duplicates."""
import datetime

import pytest

from tests.factories import PatientFactory, UserFactory


def form_data(form_class, instance=None, **overrides):
    """POST data for `form_class` as a browser would send it for `instance` (unchecked
    boxes and empty values left out), with `overrides` applied (None removes a key)."""
    form = form_class(instance=instance)
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or value is False or value == "":
            continue
        if value is True:
            value = "on"
        elif isinstance(value, datetime.time):
            value = value.strftime("%H:%M")
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        data[name] = value
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.fixture
def registrant(db):
    """make(email=..., first_name=..., last_name=..., date_of_birth=..., phone=...) -> a user
    with a verified email who submitted a registration, as allauth's signup would leave them."""
    from apps.patients.services import registration_submit

    def make(*, email=None, first_name="Rita", last_name="Registrant", date_of_birth=datetime.date(1990, 5, 17), phone="+12125550177"):
        user = UserFactory(**({"email": email} if email else {}))
        registration_submit(
            user=user, first_name=first_name, last_name=last_name, date_of_birth=date_of_birth,
            phone=phone, terms_version="2026-01",
        )
        return user

    return make


@pytest.fixture
def registration_review(registrant):
    """An open DuplicateReview for a self-registration that matched an existing patient
    (no login) by phone only. Returns (review, registrant_user, existing_patient)."""
    from apps.patients.models import DuplicateReview
    from apps.patients.services import registration_complete

    existing = PatientFactory(first_name="Eve", last_name="Existing", date_of_birth=datetime.date(1970, 1, 2), phone="+12125550188")
    user = registrant(phone="+12125550188")
    registration_complete(user=user)
    return DuplicateReview.objects.get(registration__user=user), user, existing


@pytest.fixture
def staff_pair_review(db):
    """An open DuplicateReview for two staff-registered records: `existing` (no login) and a
    newer `other` with a portal login. Returns (review, existing, other)."""
    from apps.patients.models import DuplicateReview
    from apps.patients.services import patient_create

    existing = PatientFactory(first_name="Sam", last_name="Same", date_of_birth=datetime.date(1980, 3, 4))
    login = UserFactory()
    other = patient_create(
        data={"first_name": "Sam", "last_name": "Same", "date_of_birth": datetime.date(1980, 3, 4), "phone": "+12125550166"},
        user=login,
    )
    return DuplicateReview.objects.get(other=other), existing, other
