"""Push as an outbox channel: one push per notification per device, the generic line only,
quiet hours, preferences per kind, retries on 5xx, invalid tokens retired, a token changed
or a device unregistered after the row was queued; FCM and APNs behind fake HTTP layers."""
import datetime

import pytest
from django.utils import timezone

from apps.messaging.delivery import Backends, outbox_deliver_due
from apps.messaging.models import Channel, DeliveryAttempt, OutboundMessage
from apps.messaging.push import services as push_services
from apps.messaging.push.models import Device, DeviceEvent, PushOutboxEntry
from apps.messaging.push.providers import LocalPushProvider, PushSender
from apps.messaging.services import notify
from apps.messaging.threads.services import NOTIFY_KIND_PATIENT
from tests.factories import PortalPatientFactory, StaffFactory
from tests.messaging.push_helpers import FakeFcm, FakeHttp, apns_provider, fcm_error, fcm_ok, fcm_provider, push_settings  # noqa: F401

pytestmark = pytest.mark.django_db
S = OutboundMessage.Status


def register(user, platform="android", token="tok-android-1"):
    device, _ = push_services.device_register(user=user, platform=platform, push_token=token, app_version="1.4.0")
    return device


def later(**delta):
    return timezone.now() + datetime.timedelta(**delta)


def push_rows():
    return OutboundMessage.objects.filter(channel=Channel.PUSH)


def test_one_notification_queues_one_push_per_device_with_the_generic_line_only(push_settings, patient):
    phone, tablet = register(patient.user, "android", "tok-a"), register(patient.user, "ios", "tok-b")
    notify(user=patient.user, kind=NOTIFY_KIND_PATIENT, title="Dr. Lee wrote about your biopsy", body="Results attached")

    rows = list(push_rows())
    assert sorted(r.to for r in rows) == sorted([str(phone.pk), str(tablet.pk)])
    report = outbox_deliver_due()
    assert report.sent == 2
    entries = list(PushOutboxEntry.objects.order_by("platform"))
    assert [(e.platform, e.device_id) for e in entries] == [("android", phone.pk), ("ios", tablet.pk)]
    for entry in entries:
        assert entry.body == "You have a new message"
        assert entry.title == "Riverside Clinic"
        assert "biopsy" not in str(entry.data) and "Lee" not in entry.title + entry.body
    # Delivered again: nothing new (exactly once per notification and device).
    assert outbox_deliver_due().claimed == 0
    assert PushOutboxEntry.objects.count() == 2
    assert set(push_rows().values_list("status", flat=True)) == {S.SENT}


def test_the_same_notification_is_never_queued_twice(push_settings, patient):
    register(patient.user)
    notification = notify(user=patient.user, kind="visit_cancelled", title="Your visit was cancelled")
    push_services.push_enqueue(notification=notification)
    assert push_rows().count() == 1


def test_staff_and_users_without_devices_get_no_push(push_settings, patient):
    staff = StaffFactory()
    notify(user=staff, kind="secure_message_staff", title="A new patient message")
    notify(user=patient.user, kind="visit_cancelled", title="Your visit was cancelled")
    assert push_rows().count() == 0


def test_a_category_switched_off_sends_no_push_but_others_still_go(push_settings, patient):
    register(patient.user)
    push_services.push_preferences_update(user=patient.user, data={"lab_results": False})
    notify(user=patient.user, kind="lab_result_released", title="A new lab result")
    notify(user=patient.user, kind="billing_invoice_issued", title="You have a new bill")
    assert list(push_rows().values_list("kind", "body")) == [("billing_invoice_issued", "You have a new billing update")]


def test_switching_a_category_off_after_queueing_cancels_the_push(push_settings, patient):
    register(patient.user)
    notify(user=patient.user, kind="visit_reminder", title="Reminder")
    push_services.push_preferences_update(user=patient.user, data={"appointment_reminders": False})
    assert outbox_deliver_due().cancelled == 1
    assert push_rows().get().status == S.CANCELLED
    assert PushOutboxEntry.objects.count() == 0


def test_a_non_urgent_push_waits_out_quiet_hours_and_an_urgent_one_does_not(push_settings):
    patient = PortalPatientFactory(timezone="UTC", quiet_hours_start=datetime.time(0, 0), quiet_hours_end=datetime.time(23, 59))
    register(patient.user)
    notify(user=patient.user, kind="visit_cancelled", title="Cancelled")
    notify(user=patient.user, kind="triage_emergency", title="Call us", urgent=True)
    quiet, urgent = push_rows().get(urgent=False), push_rows().get(urgent=True)
    assert quiet.due_at.astimezone(datetime.timezone.utc).time() == datetime.time(23, 59)
    assert urgent.due_at <= timezone.now()
    assert outbox_deliver_due().sent == 1
    assert PushOutboxEntry.objects.get().message_id == urgent.pk


def test_a_5xx_from_fcm_is_retried_with_backoff_then_sent_once(push_settings, patient):
    register(patient.user)
    notify(user=patient.user, kind=NOTIFY_KIND_PATIENT, title="New message")
    fake = FakeFcm(script=[(503, {"error": {"code": 503, "status": "UNAVAILABLE"}}), fcm_ok()])
    backends = Backends(push=PushSender(android=fcm_provider(fake)))

    first = outbox_deliver_due(backends=backends)
    row = push_rows().get()
    assert (first.retried, row.status, row.attempts) == (1, S.PENDING, 1)
    assert row.next_attempt_at > timezone.now()
    assert DeliveryAttempt.objects.get(message=row).outcome == DeliveryAttempt.Outcome.TRANSIENT

    assert outbox_deliver_due(backends=backends).claimed == 0  # backoff: not yet
    second = outbox_deliver_due(now=later(minutes=2), backends=backends)
    row.refresh_from_db()
    assert (second.sent, row.status, row.provider_message_id) == (1, S.SENT, "0:123")
    assert len(fake.sends()) == 2  # the failed one and the one that went through


def test_an_unregistered_fcm_token_retires_the_device_and_stops_further_push(push_settings, patient):
    device = register(patient.user)
    notify(user=patient.user, kind=NOTIFY_KIND_PATIENT, title="New message")
    fake = FakeFcm(script=[fcm_error(404, "NOT_FOUND", "UNREGISTERED")])

    report = outbox_deliver_due(backends=Backends(push=PushSender(android=fcm_provider(fake))))

    assert report.failed == 1
    device.refresh_from_db()
    assert (device.status, device.retired_reason) == (Device.Status.RETIRED, Device.RetiredReason.TOKEN_INVALID)
    assert DeviceEvent.objects.filter(device=device, to_status="retired", reason="token_invalid").count() == 1
    assert push_rows().get().status == S.FAILED
    notify(user=patient.user, kind=NOTIFY_KIND_PATIENT, title="Another")
    assert push_rows().count() == 1  # the retired device gets nothing new


def test_an_apns_410_retires_the_device(push_settings, patient):
    device = register(patient.user, "ios", "a" * 64)
    notify(user=patient.user, kind="billing_invoice_issued", title="A bill")
    fake = FakeHttp(script=[(410, {"reason": "Unregistered"})])

    outbox_deliver_due(backends=Backends(push=PushSender(ios=apns_provider(fake))))

    device.refresh_from_db()
    assert device.retired_reason == Device.RetiredReason.TOKEN_INVALID
    assert push_rows().get().status == S.FAILED


def test_a_token_changed_after_an_invalid_answer_keeps_the_device(push_settings, patient):
    """The app sent a new token while the old one was being refused: the device stays."""
    device = register(patient.user, token="old-token")
    assert push_services.device_retire_invalid_token(device_id=device.pk, token="other-token") is None
    device.refresh_from_db()
    assert device.status == Device.Status.ACTIVE


def test_the_push_uses_the_token_current_at_send_time(push_settings, patient):
    device = register(patient.user, token="old-token")
    notify(user=patient.user, kind=NOTIFY_KIND_PATIENT, title="New message")
    push_services.device_update(device=device, actor=patient.user, push_token="new-token")
    fake = FakeFcm(script=[fcm_ok()])

    outbox_deliver_due(backends=Backends(push=PushSender(android=fcm_provider(fake))))

    (send,) = fake.sends()
    assert FakeHttp.body(send)["message"]["token"] == "new-token"


def test_a_device_unregistered_after_queueing_gets_nothing(push_settings, patient):
    device = register(patient.user)
    notify(user=patient.user, kind=NOTIFY_KIND_PATIENT, title="New message")
    push_services.device_unregister(device=device, actor=patient.user)

    assert outbox_deliver_due().cancelled == 1
    assert push_rows().get().last_error == "device unregistered"
    assert PushOutboxEntry.objects.count() == 0


def test_a_lost_local_push_attempt_is_found_and_not_sent_again(push_settings, patient):
    """The reconcile step: an attempt the local provider recorded counts as sent."""
    device = register(patient.user)
    notify(user=patient.user, kind=NOTIFY_KIND_PATIENT, title="New message")
    row = push_rows().get()
    attempt = DeliveryAttempt.objects.create(message=row, number=1, claim_token=row.id, outcome=DeliveryAttempt.Outcome.UNKNOWN)
    OutboundMessage.objects.filter(pk=row.pk).update(attempts=1)
    LocalPushProvider().push(device=device, title="t", body="b", data={}, message_id=row.pk, attempt_id=attempt.pk)

    assert outbox_deliver_due().sent == 1
    assert PushOutboxEntry.objects.count() == 1


def test_registering_the_same_token_again_finds_the_device(push_settings, patient, other_patient):
    first, created = push_services.device_register(user=patient.user, platform="ios", push_token="b" * 64, app_version="1.0")
    again, created_again = push_services.device_register(user=patient.user, platform="ios", push_token="b" * 64, app_version="1.1")
    assert (created, created_again, again.pk, again.app_version) == (True, False, first.pk, "1.1")

    # The phone changed hands: the token moves to the new user, the old row is retired.
    moved, created = push_services.device_register(user=other_patient.user, platform="ios", push_token="b" * 64)
    first.refresh_from_db()
    assert created and moved.user == other_patient.user
    assert (first.status, first.retired_reason) == (Device.Status.RETIRED, Device.RetiredReason.REPLACED)
