"""Idle logoff (staff 15 minutes, patients 30) and the absolute cap on a session (12 hours),
from SessionTimeoutMiddleware. Time is moved by editing the session's clock keys or by
patching the middleware's clock, never by sleeping."""
import time
import types

import pytest

from apps.accounts import middleware
from apps.accounts.middleware import ACTIVITY_KEY, STARTED_KEY
from apps.audit.models import AccessLog

MINUTE = 60
HOUR = 60 * MINUTE


def set_clock(client, *, idle_for=None, signed_in_for=None):
    """Pretend the last request was `idle_for` seconds ago and the session started
    `signed_in_for` seconds ago."""
    session = client.session
    now = time.time()
    if idle_for is not None:
        session[ACTIVITY_KEY] = now - idle_for
    if signed_in_for is not None:
        session[STARTED_KEY] = now - signed_in_for
    session.save()


def is_signed_in(client):
    return "_auth_user_id" in client.session


@pytest.fixture
def staff_client(client_for, front_desk):
    return client_for(front_desk)


def shows_the_dashboard(response, user):
    return response.status_code == 200 and f"{user.get_short_name()}</h1>".encode() in response.content


def shows_the_portal(response, patient):
    return response.status_code == 200 and patient.mrn.encode() in response.content


@pytest.fixture
def patient_client(client_for, patient):
    return client_for(patient.user)


def test_a_request_starts_the_clocks(staff_client):
    before = time.time()

    staff_client.get("/staff/")

    session = staff_client.session
    assert before <= session[STARTED_KEY] <= time.time()
    assert before <= session[ACTIVITY_KEY] <= time.time()


def test_staff_are_signed_out_after_fifteen_idle_minutes(staff_client):
    set_clock(staff_client, idle_for=15 * MINUTE + 5)

    response = staff_client.get("/staff/patients/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/staff/patients/"
    assert not is_signed_in(staff_client)


def test_staff_are_still_signed_in_after_fourteen_idle_minutes(staff_client, front_desk):
    set_clock(staff_client, idle_for=14 * MINUTE)

    response = staff_client.get("/staff/")

    assert shows_the_dashboard(response, front_desk)
    assert is_signed_in(staff_client)


def test_the_login_page_says_why_after_an_idle_logoff(staff_client):
    set_clock(staff_client, idle_for=16 * MINUTE)

    response = staff_client.get("/staff/", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert [str(m) for m in response.context["messages"]] == ["You were signed out after 15 minutes without activity."]


def test_patients_are_still_signed_in_after_twenty_idle_minutes(patient_client, patient):
    set_clock(patient_client, idle_for=20 * MINUTE)

    response = patient_client.get("/portal/")

    assert shows_the_portal(response, patient)
    assert is_signed_in(patient_client)


def test_patients_are_signed_out_after_thirty_idle_minutes(patient_client):
    set_clock(patient_client, idle_for=30 * MINUTE + 5)

    response = patient_client.get("/portal/", follow=True)

    assert response.redirect_chain[0] == ("/accounts/login/?next=/portal/", 302)
    assert [str(m) for m in response.context["messages"]] == ["You were signed out after 30 minutes without activity."]
    assert not is_signed_in(patient_client)


@pytest.mark.parametrize("user_fixture", ["front_desk", "patient"])
def test_everyone_is_signed_out_at_the_absolute_cap_even_when_active(request, client_for, user_fixture):
    user = request.getfixturevalue(user_fixture)
    user = getattr(user, "user", user)
    client = client_for(user)
    set_clock(client, idle_for=10, signed_in_for=12 * HOUR + 5)

    response = client.get("/", follow=True)

    assert response.redirect_chain[0] == ("/accounts/login/?next=/", 302)
    assert [str(m) for m in response.context["messages"]] == ["Your session reached its time limit. Please sign in again."]
    assert not is_signed_in(client)


def test_an_active_session_just_under_the_cap_stays_signed_in(patient_client, patient):
    set_clock(patient_client, idle_for=10, signed_in_for=11 * HOUR + 59 * MINUTE)

    response = patient_client.get("/portal/")

    assert shows_the_portal(response, patient)


def test_activity_keeps_a_staff_session_alive(staff_client, front_desk, monkeypatch):
    """Requests every ten minutes for an hour: never fifteen idle minutes in a row."""
    start = time.time()
    for step in range(7):
        later = start + step * 10 * MINUTE
        monkeypatch.setattr(middleware, "time", types.SimpleNamespace(time=lambda at=later: at))

        response = staff_client.get("/staff/")

        assert shows_the_dashboard(response, front_desk), f"signed out at minute {step * 10}"


def test_a_real_pause_signs_staff_out(staff_client, monkeypatch):
    staff_client.get("/staff/")
    later = time.time() + 15 * MINUTE + 30
    monkeypatch.setattr(middleware, "time", types.SimpleNamespace(time=lambda: later))

    response = staff_client.get("/staff/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_idle_api_session_is_signed_out_without_a_redirect(staff_client):
    set_clock(staff_client, idle_for=16 * MINUTE)

    response = staff_client.get("/api/v1/patients/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert not is_signed_in(staff_client)


def test_an_idle_post_is_not_carried_out(staff_client, front_desk):
    from django_otp.plugins.otp_static.models import StaticToken

    from apps.accounts.services import backup_codes_regenerate

    codes = set(backup_codes_regenerate(user=front_desk))
    set_clock(staff_client, idle_for=16 * MINUTE)

    response = staff_client.post("/staff/mfa/backup-codes/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert set(StaticToken.objects.filter(device__user=front_desk).values_list("token", flat=True)) == codes
    assert not is_signed_in(staff_client)


def test_an_idle_logoff_writes_one_logout_row_with_the_reason(staff_client, front_desk):
    set_clock(staff_client, idle_for=16 * MINUTE)

    staff_client.get("/staff/")

    rows = AccessLog.objects.filter(action="logout")
    assert rows.count() == 1
    assert rows.get().actor_user == front_desk
    assert rows.get().detail == {"reason": "idle"}


def test_the_cap_writes_a_logout_row_with_its_reason(patient_client, patient):
    set_clock(patient_client, idle_for=10, signed_in_for=13 * HOUR)

    patient_client.get("/portal/")

    assert AccessLog.objects.get(action="logout").detail == {"reason": "session_cap"}


def test_a_fresh_sign_in_starts_new_clocks(client, patient):
    client.post("/accounts/login/", {"login": patient.user.email, "password": "correct-horse-battery"})

    response = client.get("/portal/")

    assert shows_the_portal(response, patient)
    assert time.time() - client.session[STARTED_KEY] < 60
