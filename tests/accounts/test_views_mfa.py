"""Staff second factor (django-otp): the middleware's redirect, enrolment with a QR code,
verification each session, backup codes."""
import base64
from urllib.parse import quote

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.services import backup_codes_regenerate
from apps.audit.models import AccessLog
from tests.accounts.conftest import totp_code, wrong_totp_code

STAFF_PAGES = ["/staff/", "/staff/patients/", "/admin/", "/portal/"]


# --- the middleware -----------------------------------------------------------------------

@pytest.mark.parametrize("path", STAFF_PAGES)
def test_unverified_staff_is_sent_to_mfa_from_every_page(client_for, front_desk, path):
    client = client_for(front_desk, verified=False)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/staff/mfa/?next={quote(path)}"


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_unenrolled_staff_is_sent_to_mfa_from_every_page(client_for, unenrolled_staff, path):
    client = client_for(unenrolled_staff, verified=False)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/mfa/?next=")


def test_verified_staff_reaches_the_staff_pages(client_for, front_desk):
    client = client_for(front_desk)

    home = client.get("/staff/")
    patients = client.get("/staff/patients/")

    assert home.status_code == 200
    assert f"{front_desk.get_short_name()}</h1>".encode() in home.content
    assert patients.status_code == 200
    assert b"<h1>Patients</h1>" in patients.content


def test_mfa_start_sends_staff_without_a_device_to_setup(client_for, unenrolled_staff):
    client = client_for(unenrolled_staff, verified=False)

    response = client.get("/staff/mfa/?next=/staff/patients/")

    assert response.status_code == 302
    assert response["Location"] == "/staff/mfa/setup/?next=/staff/patients/"


def test_mfa_start_sends_enrolled_staff_to_verify(client_for, front_desk):
    client = client_for(front_desk, verified=False)

    response = client.get("/staff/mfa/?next=/staff/patients/")

    assert response.status_code == 302
    assert response["Location"] == "/staff/mfa/verify/?next=/staff/patients/"


def test_mfa_pages_ask_anonymous_visitors_to_sign_in(client, db):
    response = client.get("/staff/mfa/setup/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_signing_in_with_a_password_lands_on_the_second_step(client, front_desk):
    response = client.post("/accounts/login/", {"login": front_desk.email, "password": "correct-horse-battery"}, follow=True)

    assert response.redirect_chain[-1][0].startswith("/staff/mfa/verify/")
    assert response.status_code == 200
    assert b"Verify it's you" in response.content
    assert b'name="token"' in response.content
    assert client.get("/staff/").status_code == 302


# --- patients never see any of it -----------------------------------------------------------

def test_patients_are_never_sent_to_mfa(client_for, patient):
    client = client_for(patient.user)

    response = client.get("/portal/")

    assert response.status_code == 200
    assert patient.mrn.encode() in response.content
    assert b"Verify it's you" not in response.content


@pytest.mark.parametrize("path", ["/staff/mfa/", "/staff/mfa/setup/", "/staff/mfa/verify/", "/staff/mfa/backup-codes/"])
def test_patients_are_turned_away_from_the_mfa_pages(client_for, patient, path):
    client = client_for(patient.user)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not TOTPDevice.objects.filter(user=patient.user).exists()


def test_a_patient_on_the_staff_home_goes_to_the_portal_not_to_mfa(client_for, patient):
    response = client_for(patient.user).get("/staff/")

    assert response.status_code == 302
    assert response["Location"] == "/portal/"


# --- enrolment ----------------------------------------------------------------------------

def test_setup_page_shows_a_qr_code_and_the_secret(client_for, unenrolled_staff):
    client = client_for(unenrolled_staff, verified=False)

    response = client.get("/staff/mfa/setup/")

    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=unenrolled_staff)
    assert device.confirmed is False
    content = response.content.decode()
    assert "<svg" in content and "<path" in content
    assert base64.b32encode(device.bin_key).decode().rstrip("=") in content


def test_reloading_the_setup_page_keeps_the_same_secret(client_for, unenrolled_staff):
    client = client_for(unenrolled_staff, verified=False)

    client.get("/staff/mfa/setup/")
    client.get("/staff/mfa/setup/")

    assert TOTPDevice.objects.filter(user=unenrolled_staff).count() == 1


def test_setup_with_a_wrong_code_answers_400_with_a_form_error(client_for, unenrolled_staff):
    client = client_for(unenrolled_staff, verified=False)
    client.get("/staff/mfa/setup/")
    device = TOTPDevice.objects.get(user=unenrolled_staff)

    response = client.post("/staff/mfa/setup/", {"token": wrong_totp_code(device)})

    assert response.status_code == 400
    assert "token" in response.context["form"].errors
    assert b"That code is not right" in response.content
    device.refresh_from_db()
    assert device.confirmed is False
    assert client.get("/staff/").status_code == 302


def test_setup_with_the_right_code_confirms_the_device_and_shows_ten_backup_codes(client_for, unenrolled_staff):
    client = client_for(unenrolled_staff, verified=False)
    client.get("/staff/mfa/setup/")
    device = TOTPDevice.objects.get(user=unenrolled_staff)

    response = client.post("/staff/mfa/setup/", {"token": totp_code(device), "next": "/staff/patients/"})

    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed is True
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(code in response.content.decode() for code in codes)
    assert set(StaticToken.objects.filter(device__user=unenrolled_staff).values_list("token", flat=True)) == set(codes)
    assert response.context["next"] == "/staff/patients/"
    assert AccessLog.objects.filter(actor_user=unenrolled_staff, action="update", detail__mfa="totp_enrolled").count() == 1


def test_after_enrolment_the_session_is_verified(client_for, unenrolled_staff):
    client = client_for(unenrolled_staff, verified=False)
    client.get("/staff/mfa/setup/")
    device = TOTPDevice.objects.get(user=unenrolled_staff)
    client.post("/staff/mfa/setup/", {"token": totp_code(device)})

    response = client.get("/staff/")

    assert response.status_code == 200
    assert f"{unenrolled_staff.get_short_name()}</h1>".encode() in response.content


def test_an_enrolled_user_cannot_enrol_a_second_device(client_for, front_desk):
    """Someone holding only the password must not be able to add their own authenticator."""
    client = client_for(front_desk, verified=False)

    response = client.get("/staff/mfa/setup/")

    assert response.status_code == 302
    assert response["Location"] == "/staff/mfa/verify/"
    assert TOTPDevice.objects.filter(user=front_desk).count() == 1


# --- verification each session ------------------------------------------------------------

def test_verify_with_the_current_code_verifies_the_session_and_follows_next(client_for, front_desk):
    client = client_for(front_desk, verified=False)
    device = front_desk.totpdevice_set.get()

    response = client.post("/staff/mfa/verify/", {"token": totp_code(device), "next": "/staff/patients/"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/patients/"
    patients = client.get("/staff/patients/")
    assert patients.status_code == 200
    assert b"<h1>Patients</h1>" in patients.content
    assert AccessLog.objects.filter(actor_user=front_desk, action="login", detail__mfa="TOTPDevice").count() == 1


def test_verify_with_a_wrong_code_answers_400_and_logs_the_failure(client_for, front_desk):
    client = client_for(front_desk, verified=False)
    device = front_desk.totpdevice_set.get()

    response = client.post("/staff/mfa/verify/", {"token": wrong_totp_code(device)})

    assert response.status_code == 400
    assert "token" in response.context["form"].errors
    assert client.get("/staff/").status_code == 302
    assert AccessLog.objects.filter(actor_user=front_desk, action="login_failed", detail__mfa="bad_token").count() == 1


def test_verify_does_not_redirect_to_another_site(client_for, front_desk):
    client = client_for(front_desk, verified=False)
    device = front_desk.totpdevice_set.get()

    response = client.post("/staff/mfa/verify/", {"token": totp_code(device), "next": "https://evil.example/steal"})

    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_a_backup_code_verifies_once_and_not_twice(client_for, front_desk):
    code = backup_codes_regenerate(user=front_desk)[0]
    first = client_for(front_desk, verified=False)
    second = client_for(front_desk, verified=False)

    used = first.post("/staff/mfa/verify/", {"token": code})
    reused = second.post("/staff/mfa/verify/", {"token": code})

    assert used.status_code == 302
    home = first.get("/staff/")
    assert home.status_code == 200
    assert f"{front_desk.get_short_name()}</h1>".encode() in home.content
    assert reused.status_code == 400
    assert second.get("/staff/").status_code == 302
    assert StaticToken.objects.filter(device__user=front_desk).count() == 9


def test_one_users_backup_code_does_not_verify_another_user(client_for, front_desk, nurse):
    code = backup_codes_regenerate(user=nurse)[0]
    client = client_for(front_desk, verified=False)

    response = client.post("/staff/mfa/verify/", {"token": code})

    assert response.status_code == 400
    assert StaticToken.objects.filter(device__user=nurse, token=code).exists()


# --- backup codes ----------------------------------------------------------------------------

def test_backup_codes_page_asks_before_replacing_the_codes(client_for, front_desk):
    old = set(backup_codes_regenerate(user=front_desk))

    response = client_for(front_desk).get("/staff/mfa/backup-codes/")

    assert response.status_code == 200
    assert b"Create new backup codes?" in response.content
    assert not any(code.encode() in response.content for code in old)
    assert set(StaticToken.objects.filter(device__user=front_desk).values_list("token", flat=True)) == old


def test_regenerating_backup_codes_invalidates_the_old_ones(client_for, front_desk):
    old_code = backup_codes_regenerate(user=front_desk)[0]

    response = client_for(front_desk).post("/staff/mfa/backup-codes/")

    new_codes = response.context["codes"]
    assert response.status_code == 200
    assert len(new_codes) == 10 and old_code not in new_codes
    assert all(code.encode() in response.content for code in new_codes)
    assert old_code.encode() not in response.content
    # The new code first: a refused code makes django-otp throttle the device for a second.
    assert client_for(front_desk, verified=False).post("/staff/mfa/verify/", {"token": new_codes[0]}).status_code == 302
    assert client_for(front_desk, verified=False).post("/staff/mfa/verify/", {"token": old_code}).status_code == 400


def test_unverified_staff_cannot_regenerate_backup_codes(client_for, front_desk):
    old = set(backup_codes_regenerate(user=front_desk))

    response = client_for(front_desk, verified=False).post("/staff/mfa/backup-codes/")

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/mfa/")
    assert set(StaticToken.objects.filter(device__user=front_desk).values_list("token", flat=True)) == old


def test_staff_are_kept_out_of_allauths_patient_mfa_pages(client_for, front_desk):
    response = client_for(front_desk).get("/accounts/2fa/")

    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_patients_may_use_allauths_optional_mfa_pages(client_for, patient):
    response = client_for(patient.user).get("/accounts/2fa/")

    assert response.status_code == 200
    assert b"Two-Factor Authentication" in response.content
    assert b"Authenticator App" in response.content
