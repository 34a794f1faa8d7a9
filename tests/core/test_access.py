"""core/access.py: patients see only their own rows whatever id they send, staff need a
verified second factor and the permission, keys need the scope, nobody else sees anything,
and a model without a rule is refused to everyone."""
import pytest
from django.contrib.auth.models import AnonymousUser

from apps.core import access
from apps.core.exceptions import NotFound, PermissionDenied
from tests.core.machine.models import Door, Window

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def door_rule():
    access.register(
        Door,
        own=lambda queryset, patient: queryset.filter(owner_patient_id=patient.pk),
        perms={"view": "patients.view_patient", "change": "patients.change_patient"},
        scopes={"view": "patients:read", "change": "patients:write"},
    )
    yield
    access._rules.pop(Door, None)


def verified(user, ok=True):
    """What django-otp's middleware does for a request's user."""
    user.is_verified = lambda: ok
    return user


@pytest.fixture
def doors(patient, other_patient):
    return Door.objects.create(owner_patient_id=patient.pk), Door.objects.create(owner_patient_id=other_patient.pk)


def test_a_patient_gets_their_own_row_and_not_found_for_anyone_elses(patient, doors):
    mine, theirs = doors

    assert access.get(patient.user, Door, mine.pk) == mine
    assert list(access.scope(patient.user, Door.objects.all())) == [mine]
    with pytest.raises(NotFound):
        access.get(patient.user, Door, theirs.pk)
    with pytest.raises(NotFound):
        access.check(patient.user, theirs)


@pytest.mark.parametrize("bad_id", ["not-a-number", "0.5", "3f2b6c1e-0000-4000-8000-000000000000", 10**30, None])
def test_a_malformed_or_missing_id_answers_like_someone_elses(patient, doors, bad_id):
    with pytest.raises(NotFound):
        access.get(patient.user, Door, bad_id)


def test_staff_with_the_permission_and_a_verified_second_factor_see_every_row(front_desk, doors):
    user = verified(front_desk)

    assert set(access.scope(user, Door.objects.all())) == set(doors)
    assert access.get(user, Door, doors[1].pk) == doors[1]
    assert access.may(user, Door, "view")


def test_staff_without_a_verified_second_factor_are_refused(front_desk, doors):
    with pytest.raises(PermissionDenied):
        access.get(verified(front_desk, ok=False), Door, doors[0].pk)
    with pytest.raises(PermissionDenied):
        access.get(front_desk, Door, doors[0].pk)  # no second factor at all (not through the middleware)


def test_staff_without_the_permission_are_refused(front_desk, doors):
    front_desk.groups.clear()  # staff, verified, but no role
    user = verified(front_desk)

    with pytest.raises(PermissionDenied):
        access.check(user, doors[0], "change")
    assert not access.may(user, Door, "change")


def test_a_staff_rule_may_narrow_what_staff_see(front_desk, doors):
    access.register(Door, perms={"view": "patients.view_patient"}, staff=lambda queryset, user: queryset.filter(pk=doors[0].pk))
    user = verified(front_desk)

    assert list(access.scope(user, Door.objects.all())) == [doors[0]]
    with pytest.raises(NotFound):
        access.check(user, doors[1])


def test_an_api_key_needs_the_scope_of_the_action(api_key_factory, doors):
    reader, _ = api_key_factory("patients:read")

    assert access.get(reader, Door, doors[0].pk) == doors[0]
    with pytest.raises(PermissionDenied):
        access.check(reader, doors[0], "change")


def test_anonymous_and_a_registrant_without_a_record_see_nothing(doors):
    from tests.factories import UserFactory

    for actor in (None, AnonymousUser(), UserFactory()):
        with pytest.raises(NotFound):
            access.get(actor, Door, doors[0].pk)
        assert not access.may(actor, Door)


def test_a_patient_cannot_do_what_the_rule_keeps_from_patients(patient, doors):
    access.register(Door, own=lambda queryset, p: queryset.filter(owner_patient_id=p.pk), patient_actions=("view",))

    assert access.get(patient.user, Door, doors[0].pk) == doors[0]
    with pytest.raises(NotFound):
        access.get(patient.user, Door, doors[0].pk, "change")


def test_a_model_without_a_rule_is_refused_to_everyone(patient, front_desk):
    with pytest.raises(LookupError):
        access.scope(patient.user, Window.objects.all())
    with pytest.raises(LookupError):
        access.may(verified(front_desk), Window)


def test_the_patient_of_a_user_comes_from_the_patients_app_and_is_cached(patient, django_assert_num_queries):
    user = patient.user
    assert access.patient_of(user) == patient
    with django_assert_num_queries(0):
        assert access.patient_of(user) == patient


def test_staff_users_have_no_patient_record(front_desk):
    assert access.patient_of(front_desk) is None
