"""Sign-in for phone apps (django-allauth headless, app client, /_allauth/app/v1/): by password,
by a code sent by email, by a code texted to the verified mobile number (through the outbox),
and the session token those give, accepted by the API (AppTokenAuthentication)."""
import re

import pytest
from django.core import mail
from django.test import Client

from apps.messaging.models import OutboundMessage
from tests.factories import StaffFactory

BASE = "/_allauth/app/v1"
PASSWORD = "correct-horse-battery"
pytestmark = pytest.mark.django_db


@pytest.fixture
def app():
    return Client()


def post(app, path, data, token=None):
    headers = {"HTTP_X_SESSION_TOKEN": token} if token else {}
    return app.post(f"{BASE}{path}", data, content_type="application/json", **headers)


def token_of(response):
    return response.json()["meta"]["session_token"]


def whoami_portal(app, token):
    """An API call as the app makes it: who is signed in with this token."""
    return app.get("/api/v1/app/session/", HTTP_X_SESSION_TOKEN=token)


def code_from_mail():
    body = mail.outbox[-1].body
    return re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", body, re.M).group(1)


def code_from_sms(phone):
    row = OutboundMessage.objects.filter(to=phone, kind="sms_reply_sign_in_code").latest("created_at")
    return re.search(r"code is ([A-Z0-9]{4}-[A-Z0-9]{4})\.", row.body).group(1), row


def test_password_sign_in_gives_a_token_the_api_accepts(app, patient):
    response = post(app, "/auth/login", {"email": patient.user.email, "password": PASSWORD})
    assert response.status_code == 200
    token = token_of(response)

    me = whoami_portal(app, token)
    assert me.status_code == 200
    assert me.json()["email"] == patient.user.email
    assert me.json()["name"] == patient.user.get_full_name()


def test_wrong_password_gives_no_token(app, patient):
    response = post(app, "/auth/login", {"email": patient.user.email, "password": "wrong-wrong-wrong"})
    assert response.status_code == 400
    assert "session_token" not in response.json().get("meta", {})


def test_sign_in_by_emailed_code(app, patient):
    requested = post(app, "/auth/code/request", {"email": patient.user.email})
    assert requested.status_code == 401  # allauth: a pending flow, the code is on its way
    pending = [f["id"] for f in requested.json()["data"]["flows"] if f.get("is_pending")]
    assert pending == ["login_by_code"]
    token = token_of(requested)
    assert mail.outbox[-1].to == [patient.user.email]
    assert mail.outbox[-1].subject.endswith("Sign-In Code")

    confirmed = post(app, "/auth/code/confirm", {"code": code_from_mail()}, token=token)
    assert confirmed.status_code == 200
    assert whoami_portal(app, token_of(confirmed)).json()["email"] == patient.user.email


def test_a_wrong_code_is_refused_and_three_wrong_codes_end_the_flow(app, patient):
    token = token_of(post(app, "/auth/code/request", {"email": patient.user.email}))
    for _ in range(2):
        wrong = post(app, "/auth/code/confirm", {"code": "ZZZZZZ"}, token=token)
        assert wrong.status_code == 400
        assert wrong.json()["errors"][0]["param"] == "code"
    last = post(app, "/auth/code/confirm", {"code": "ZZZZZZ"}, token=token)
    assert last.status_code in (400, 409)
    # The real code no longer works: the attempts are used up.
    real = post(app, "/auth/code/confirm", {"code": code_from_mail()}, token=token)
    assert real.status_code in (400, 409)
    assert whoami_portal(app, token).status_code == 401


def test_an_expired_code_is_refused(app, patient, settings, monkeypatch):
    token = token_of(post(app, "/auth/code/request", {"email": patient.user.email}))
    code = code_from_mail()
    import time

    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT + 5)
    response = post(app, "/auth/code/confirm", {"code": code}, token=token)
    assert response.status_code in (400, 409)
    assert whoami_portal(app, token).status_code == 401


def test_sign_in_by_sms_code_goes_through_the_outbox(app, patient):
    user = patient.user
    user.phone, user.phone_verified = "+12025550143", True
    user.save()

    national = post(app, "/auth/code/request", {"phone": "(202) 555-0143"})
    assert national.status_code == 400
    assert national.json()["errors"][0]["param"] == "phone"

    requested = post(app, "/auth/code/request", {"phone": "+12025550143"})
    assert requested.status_code == 401
    code, row = code_from_sms("+12025550143")
    assert row.channel == "sms" and row.urgent
    assert patient.last_name not in row.body and "sign-in code" in row.body

    confirmed = post(app, "/auth/code/confirm", {"code": code}, token=token_of(requested))
    assert confirmed.status_code == 200
    assert whoami_portal(app, token_of(confirmed)).json()["email"] == user.email


def test_an_unverified_number_gets_no_code_and_no_hint(app, patient):
    user = patient.user
    user.phone, user.phone_verified = "+12025550143", False
    user.save()

    requested = post(app, "/auth/code/request", {"phone": "+12025550143"})
    # The same answer as for a known number (no enumeration), and nothing is texted.
    assert requested.status_code == 401
    assert not OutboundMessage.objects.filter(kind="sms_reply_sign_in_code").exists()


def test_resend_is_limited(app, patient):
    token = token_of(post(app, "/auth/code/request", {"email": patient.user.email}))
    sent = len(mail.outbox)
    statuses = [post(app, "/auth/code/request", {"email": patient.user.email}, token=token).status_code for _ in range(4)]
    # Rate limit (3 per 5 minutes per address) and resend count both hold: not every request sends.
    assert len(mail.outbox) - sent <= 2
    assert 429 in statuses or len(mail.outbox) - sent < 4


def test_sign_out_ends_the_token_at_once(app, patient):
    token = token_of(post(app, "/auth/login", {"email": patient.user.email, "password": PASSWORD}))
    assert whoami_portal(app, token).status_code == 200

    out = app.delete(f"{BASE}/auth/session", HTTP_X_SESSION_TOKEN=token)
    assert out.status_code == 401  # allauth: signed out
    assert whoami_portal(app, token).status_code == 401


def test_sign_out_everywhere_ends_every_token(app, patient):
    first = token_of(post(app, "/auth/login", {"email": patient.user.email, "password": PASSWORD}))
    second = token_of(post(Client(), "/auth/login", {"email": patient.user.email, "password": PASSWORD}))
    assert whoami_portal(app, second).status_code == 200

    response = app.post("/api/v1/app/session/sign-out-everywhere/", HTTP_X_SESSION_TOKEN=first)
    assert response.status_code == 204
    assert whoami_portal(app, first).status_code == 401
    assert whoami_portal(app, second).status_code == 401


def test_a_deactivated_users_token_stops_working_at_once(app, patient):
    token = token_of(post(app, "/auth/login", {"email": patient.user.email, "password": PASSWORD}))
    patient.user.is_active = False
    patient.user.save()
    response = whoami_portal(app, token)
    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "authentication_failed"}


def test_an_unknown_token_answers_401_not_anonymous(app, db):
    response = whoami_portal(app, "not-a-token")
    assert response.status_code == 401
    assert "sign in again" in response.json()["message"]


def test_staff_cannot_use_app_tokens(app, db):
    staff = StaffFactory(role="provider")
    response = post(app, "/auth/login", {"email": staff.email, "password": PASSWORD})
    if response.status_code == 200:
        assert whoami_portal(app, token_of(response)).status_code == 401
        assert app.get("/api/v1/whoami/", HTTP_X_SESSION_TOKEN=token_of(response)).status_code == 401
    else:
        assert "session_token" not in response.json().get("meta", {})


@pytest.mark.parametrize("path, field", [
    ("/auth/login", "email"), ("/auth/login", "password"), ("/auth/code/request", "email"), ("/auth/code/request", "phone"),
])
@pytest.mark.parametrize("value", ["a\x00b@example.test", "x" * 10_000 + "@example.test", 99999999999999999999999, None, ["a"]])
def test_hostile_sign_in_input_is_a_clear_400(app, patient, path, field, value):
    data = {"email": patient.user.email, "password": PASSWORD} if path == "/auth/login" else {}
    data[field] = value
    response = post(app, path, data)
    assert response.status_code == 400
    assert response.json()["errors"]


def test_deeply_nested_json_to_the_sign_in_api_is_a_400(app, db):
    body = "[" * 100_000 + "]" * 100_000
    response = app.post(f"{BASE}/auth/login", body, content_type="application/json")
    assert response.status_code == 400


def test_a_hostile_code_is_refused(app, patient):
    token = token_of(post(app, "/auth/code/request", {"email": patient.user.email}))
    for code in ["a\x00b", "x" * 10_000, 12345678]:
        response = post(app, "/auth/code/confirm", {"code": code}, token=token)
        assert response.status_code == 400
