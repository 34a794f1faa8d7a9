"""The MFA services behind the enrolment and backup-code pages, and staff user creation."""
import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.accounts.selectors import user_has_confirmed_totp
from apps.accounts.services import (
    BACKUP_CODE_COUNT,
    backup_codes_regenerate,
    staff_user_create,
    totp_device_confirm,
    totp_device_for_enrolment,
)
from apps.core.exceptions import ValidationFailed
from tests.accounts.conftest import totp_code, wrong_totp_code


def test_enrolment_gives_one_unconfirmed_device_per_user(unenrolled_staff):
    first = totp_device_for_enrolment(user=unenrolled_staff)
    second = totp_device_for_enrolment(user=unenrolled_staff)

    assert first == second
    assert first.confirmed is False
    assert not user_has_confirmed_totp(unenrolled_staff)


def test_confirming_with_a_wrong_code_leaves_the_device_unconfirmed(unenrolled_staff):
    device = totp_device_for_enrolment(user=unenrolled_staff)

    codes = totp_device_confirm(device=device, token=wrong_totp_code(device))

    assert codes is None
    device.refresh_from_db()
    assert device.confirmed is False
    assert not StaticToken.objects.filter(device__user=unenrolled_staff).exists()


def test_confirming_with_the_right_code_returns_the_backup_codes(unenrolled_staff):
    device = totp_device_for_enrolment(user=unenrolled_staff)

    codes = totp_device_confirm(device=device, token=totp_code(device))

    assert len(codes) == BACKUP_CODE_COUNT == 10
    assert user_has_confirmed_totp(unenrolled_staff)
    assert sorted(StaticToken.objects.filter(device__user=unenrolled_staff).values_list("token", flat=True)) == sorted(codes)


def test_a_totp_code_cannot_be_used_twice(unenrolled_staff):
    device = totp_device_for_enrolment(user=unenrolled_staff)
    code = totp_code(device)
    totp_device_confirm(device=device, token=code)

    device.refresh_from_db()

    assert device.verify_token(code) is False


def test_regenerating_backup_codes_replaces_all_of_them(front_desk):
    old = set(backup_codes_regenerate(user=front_desk))

    new = set(backup_codes_regenerate(user=front_desk))

    stored = set(StaticToken.objects.filter(device__user=front_desk).values_list("token", flat=True))
    assert stored == new
    assert len(new) == 10
    assert not old & new


def test_staff_user_create_puts_the_user_in_the_role_with_a_verified_email(db):
    from allauth.account.models import EmailAddress

    user = staff_user_create(email="nia@clinic.test", password="a-long-password-1", full_name="Nia Nurse", role="nurse")

    assert user.is_staff and user.is_active and not user.is_superuser
    assert user.role == "nurse"
    assert user.check_password("a-long-password-1")
    assert EmailAddress.objects.get(user=user).verified is True
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_staff_user_create_refuses_an_unknown_role(db):
    with pytest.raises(ValidationFailed) as caught:
        staff_user_create(email="x@clinic.test", password="a-long-password-1", role="patient")

    assert "role" in caught.value.extra["fields"]
    assert not User.objects.filter(email="x@clinic.test").exists()


def test_staff_user_create_refuses_a_taken_email_in_any_case(front_desk):
    with pytest.raises(ValidationFailed) as caught:
        staff_user_create(email=front_desk.email.upper(), password="a-long-password-1", role="nurse")

    assert "email" in caught.value.extra["fields"]
