"""/api/v1/portal/devices/ and push-preferences/ through a phone app's session token: the
owner registers (201 with the device, 200 for the same token again), updates the token,
unregisters (204, then 404, and no more push); another patient's device 404; anonymous and a
revoked token 401; staff and API keys refused; hostile input a 400 naming the field."""
import pytest
from django.test import Client

from apps.messaging.models import Channel, OutboundMessage
from apps.messaging.push import services as push_services
from apps.messaging.push.models import Device
from apps.messaging.services import notify
from tests.conftest import api_keyed_client, login
from tests.factories import StaffFactory
from tests.portal_api.test_api_portal import App, sign_in

pytestmark = pytest.mark.django_db
ANDROID = {"platform": "android", "push_token": "fcm-token-abc", "app_version": "1.4.0"}


@pytest.fixture
def app(patient):
    return App(sign_in(patient.user))


def delete(app, path):
    return app.client.delete(f"/api/v1/portal/{path}", **app.headers)


def test_registering_a_phone_answers_the_device_without_its_token(app, patient):
    response = app.post("devices/", ANDROID)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["platform"], body["app_version"]) == ("android", "1.4.0")
    assert "push_token" not in body
    device = Device.objects.get(pk=body["id"])
    assert (device.user, device.push_token, device.status) == (patient.user, "fcm-token-abc", Device.Status.ACTIVE)

    again = app.post("devices/", {**ANDROID, "app_version": "1.5.0"})
    assert again.status_code == 200
    assert again.json()["id"] == body["id"] and again.json()["app_version"] == "1.5.0"
    listed = app.get("devices/")
    assert listed.status_code == 200
    assert [d["id"] for d in listed.json()] == [body["id"]]


def test_a_user_may_have_several_devices(app):
    first = app.post("devices/", ANDROID).json()
    second = app.post("devices/", {"platform": "ios", "push_token": "d" * 64}).json()
    listed = app.get("devices/").json()
    assert {d["id"] for d in listed} == {first["id"], second["id"]}


def test_updating_the_token_keeps_the_device_and_the_next_push_uses_it(app, patient):
    device_id = app.post("devices/", ANDROID).json()["id"]
    response = app.patch(f"devices/{device_id}/", {"push_token": "fcm-token-new"})
    assert response.status_code == 200
    assert response.json()["id"] == device_id
    assert Device.objects.get(pk=device_id).push_token == "fcm-token-new"


def test_unregistering_stops_push_and_the_device_is_gone(app, patient):
    device_id = app.post("devices/", ANDROID).json()["id"]
    response = delete(app, f"devices/{device_id}/")
    assert response.status_code == 204
    assert app.get(f"devices/{device_id}/").status_code == 404
    assert app.get("devices/").json() == []
    notify(user=patient.user, kind="secure_message", title="New message")
    assert not OutboundMessage.objects.filter(channel=Channel.PUSH).exists()


def test_another_patients_device_is_404_for_every_method(app, other_patient):
    theirs, _ = push_services.device_register(user=other_patient.user, platform="ios", push_token="e" * 64)
    assert app.get(f"devices/{theirs.pk}/").status_code == 404
    assert app.patch(f"devices/{theirs.pk}/", {"push_token": "stolen"}).status_code == 404
    assert delete(app, f"devices/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.push_token) == (Device.Status.ACTIVE, "e" * 64)


def test_anonymous_and_revoked_tokens_answer_401(patient):
    assert App(None).get("devices/").status_code == 401
    assert App(None).post("devices/", ANDROID).status_code == 401
    token = sign_in(patient.user)
    app = App(token)
    assert app.client.delete("/_allauth/app/v1/auth/session", **app.headers).status_code in (200, 401)
    assert app.get("devices/").status_code == 401
    assert not Device.objects.exists()


def test_staff_and_api_keys_are_refused(integrator_key):
    staff = StaffFactory()
    assert login(Client(), staff).get("/api/v1/portal/devices/").status_code == 403
    _, raw = integrator_key
    assert api_keyed_client(raw).get("/api/v1/portal/devices/").status_code in (401, 403)


@pytest.mark.parametrize("field, value", [
    ("platform", "windows"),
    ("push_token", ""),
    ("push_token", "a\x00b"),
    ("push_token", "x" * 10_000),
    ("app_version", "v" * 100),
])
def test_hostile_registration_is_a_400_naming_the_field(app, field, value):
    response = app.post("devices/", {**ANDROID, field: value})
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert not Device.objects.exists()


def test_push_preferences_round_trip_and_strict_booleans(app, patient):
    response = app.get("push-preferences/")
    assert response.status_code == 200
    assert response.json() == {"appointment_reminders": True, "messages": True, "lab_results": True, "bills": True}
    changed = app.patch("push-preferences/", {"lab_results": False})
    assert changed.status_code == 200 and changed.json()["lab_results"] is False
    refused = app.patch("push-preferences/", {"bills": "yes"})
    assert refused.status_code == 400 and "bills" in refused.json()["extra"]["fields"]
    assert app.get("push-preferences/").json()["bills"] is True
