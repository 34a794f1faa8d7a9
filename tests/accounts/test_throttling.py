"""Login throttling (django-axes): five wrong passwords for one account from one address lock
it for 15 minutes, with a clear page; every failure is in the access log."""
import datetime

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.utils import timezone

from apps.audit.models import AccessLog

LOGIN = "/accounts/login/"
PASSWORD = "correct-horse-battery"
LOCKED_MESSAGE = b"sign-in for this account is paused for"


def fail(client, email, times):
    return [client.post(LOGIN, {"login": email, "password": "not-my-password"}) for _ in range(times)]


def sign_in(client, email):
    return client.post(LOGIN, {"login": email, "password": PASSWORD})


def test_four_wrong_passwords_do_not_lock_the_account(client, patient):
    responses = fail(client, patient.user.email, 4)

    assert [r.status_code for r in responses] == [200] * 4
    assert all(LOCKED_MESSAGE not in r.content and b'name="login"' in r.content for r in responses)
    response = sign_in(client, patient.user.email)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(patient.user.pk)


def test_the_fifth_wrong_password_shows_the_lockout_page(client, patient):
    responses = fail(client, patient.user.email, 5)

    assert responses[-1].status_code == 429
    assert LOCKED_MESSAGE in responses[-1].content
    assert b"Too many sign-in attempts" in responses[-1].content


def test_the_right_password_is_refused_while_locked(client, patient):
    fail(client, patient.user.email, 5)

    response = sign_in(client, patient.user.email)

    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("extra_attempts", [1, 6])
def test_every_attempt_during_the_lockout_shows_the_lockout_page(client, patient, extra_attempts):
    """Not allauth's own rate-limit message, which it would show from the sixth attempt."""
    fail(client, patient.user.email, 5)

    responses = fail(client, patient.user.email, extra_attempts) + [sign_in(client, patient.user.email)]

    assert {r.status_code for r in responses} == {429}
    assert all(LOCKED_MESSAGE in r.content for r in responses)


def test_the_lockout_ends_after_fifteen_minutes(client, patient):
    fail(client, patient.user.email, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    cache.clear()  # allauth's own 5-minute window has passed as well

    response = sign_in(client, patient.user.email)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(patient.user.pk)


def test_the_lockout_still_holds_after_fourteen_minutes(client, patient):
    fail(client, patient.user.email, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=14))
    cache.clear()

    response = sign_in(client, patient.user.email)

    assert response.status_code == 429


def test_a_lockout_is_for_one_account_only(client, patient, other_patient):
    fail(client, patient.user.email, 5)

    response = sign_in(client, other_patient.user.email)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other_patient.user.pk)


def test_the_lockout_is_keyed_on_the_email_whatever_its_case(client, patient):
    fail(client, patient.user.email.upper(), 5)

    response = sign_in(client, patient.user.email)

    assert response.status_code == 429


def test_staff_are_locked_out_too(client, front_desk):
    fail(client, front_desk.email, 5)

    response = sign_in(client, front_desk.email)

    assert response.status_code == 429


def test_each_failed_attempt_is_written_to_the_access_log(client, patient):
    fail(client, patient.user.email, 3)

    rows = AccessLog.objects.filter(action="login_failed")
    assert rows.count() == 3
    assert {row.actor_label for row in rows} == {patient.user.email}
    assert {row.ip for row in rows} == {"127.0.0.1"}
    assert all(row.actor_user is None for row in rows)


def test_attempts_refused_during_the_lockout_are_logged_as_failures(client, patient):
    fail(client, patient.user.email, 5)

    sign_in(client, patient.user.email)

    assert AccessLog.objects.filter(action="login_failed", actor_label=patient.user.email).count() == 6
    assert not AccessLog.objects.filter(action="login").exists()


def test_the_password_never_reaches_the_access_log(client, patient):
    client.post(LOGIN, {"login": patient.user.email, "password": "Secret-Guess-42"})

    row = AccessLog.objects.get(action="login_failed")
    assert "Secret-Guess-42" not in str([getattr(row, f.attname) for f in AccessLog._meta.fields])
