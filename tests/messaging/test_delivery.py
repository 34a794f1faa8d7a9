"""Delivery: claiming, sending through the local SMS outbox / email / in-app, the reaper and
the reconcile-before-resend rule, the tasks, and the staff outbox page."""
import datetime
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from apps.messaging import tasks
from apps.messaging.delivery import (
    outbox_claim_due,
    outbox_deliver_due,
    outbox_deliver_one,
    outbox_reap_stuck,
    outbox_send_claimed,
)
from apps.messaging.models import Channel, DeliveryAttempt, Notification, OutboundMessage, SmsOptOut, SmsOutboxEntry
from apps.messaging.outbox import message_enqueue
from apps.messaging.sms import LocalOutboxSMS
from tests.factories import PortalPatientFactory
from tests.messaging.outbox_helpers import no_kick  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_kick")
S = OutboundMessage.Status


def later(**kw):
    return timezone.now() + datetime.timedelta(**kw)


def test_due_rows_go_out_on_every_channel_once(patient):
    message_enqueue(kind="visit_booked", patient=patient, dedupe_key="vb:1", context={"visit_time": "Mon 10:00"})

    report = outbox_deliver_due()
    again = outbox_deliver_due()

    assert report.sent == 3 and again.claimed == 0
    entry = SmsOutboxEntry.objects.get()
    assert entry.to == patient.phone and "Mon 10:00" in entry.body
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [patient.email]
    assert Notification.objects.filter(recipient=patient.user, kind="visit_booked").count() == 1
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {S.SENT}
    assert set(DeliveryAttempt.objects.values_list("outcome", flat=True)) == {"success"}
    sms = OutboundMessage.objects.get(channel=Channel.SMS)
    assert sms.provider_message_id == entry.sid and sms.attempts == 1 and sms.sent_at is not None


def test_rows_not_yet_due_stay_pending(patient):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", due_at=later(hours=2), channels=[Channel.SMS])
    assert outbox_deliver_due().claimed == 0
    assert outbox_deliver_due(now=later(hours=3)).sent == 1


def test_a_claimed_row_cannot_be_claimed_again(patient):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS])
    token, ids = outbox_claim_due()
    token2, ids2 = outbox_claim_due()
    assert len(ids) == 1 and ids2 == [] and token2 is None
    # A token that is not the claim's sends nothing; the claim's own sends once.
    import uuid

    assert outbox_send_claimed(message_id=ids[0], token=uuid.uuid4()) is None
    assert outbox_send_claimed(message_id=ids[0], token=token) == S.SENT
    assert outbox_send_claimed(message_id=ids[0], token=token) is None
    assert SmsOutboxEntry.objects.count() == 1


def test_stop_after_queueing_cancels_the_sms_at_send_time(patient):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS])
    SmsOptOut.objects.create(phone=patient.phone)

    report = outbox_deliver_due()

    assert report.cancelled == 1
    assert SmsOutboxEntry.objects.count() == 0
    assert OutboundMessage.objects.get().status == S.CANCELLED


def test_turning_email_off_after_queueing_cancels_the_email(patient):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.EMAIL])
    patient.email_opt_in = False
    patient.save()
    outbox_deliver_due()
    assert mail.outbox == [] and OutboundMessage.objects.get().status == S.CANCELLED


def test_deliver_one_is_the_kick_and_is_idempotent(patient):
    row = message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS])[0]
    assert outbox_deliver_one(message_id=row.pk) == S.SENT
    assert outbox_deliver_one(message_id=row.pk) is None
    tasks.deliver_message(str(row.pk))
    assert SmsOutboxEntry.objects.count() == 1


def test_tasks_call_the_services(patient):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS])
    assert tasks.deliver_due()["sent"] == 1
    assert tasks.reap_stuck() == 0
    names = {p.task for p in tasks.PERIODIC_TASKS}
    assert {"messaging.deliver_due", "messaging.reap_stuck"} <= names
    assert all(p.every_seconds <= 60 for p in tasks.PERIODIC_TASKS)


# --- the reaper -----------------------------------------------------------------------------

class DiesAfterProviderAccepts(LocalOutboxSMS):
    """The provider accepts (the outbox entry is written), then the worker 'dies' before it can
    record anything: the exception escapes the whole delivery call like a SIGKILL would."""

    class Killed(BaseException):
        pass

    def send(self, **kwargs):
        super().send(**kwargs)
        raise self.Killed()


class DiesBeforeProvider(LocalOutboxSMS):
    class Killed(BaseException):
        pass

    def send(self, **kwargs):
        raise self.Killed()


def _backends(sms):
    from apps.messaging.delivery import Backends

    return Backends(sms=sms)


def test_reaper_leaves_fresh_claims_alone(patient):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS])
    outbox_claim_due()
    assert outbox_reap_stuck() == 0
    assert OutboundMessage.objects.get().status == S.SENDING


def test_a_reaped_row_whose_send_succeeded_is_not_sent_again(patient):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS])
    with pytest.raises(DiesAfterProviderAccepts.Killed):
        outbox_deliver_due(backends=_backends(DiesAfterProviderAccepts()))
    row = OutboundMessage.objects.get()
    assert row.status == S.SENDING and SmsOutboxEntry.objects.count() == 1
    assert row.delivery_attempts.get().outcome == "in_flight"

    assert outbox_reap_stuck(now=later(hours=1)) == 1
    assert OutboundMessage.objects.get().status == S.PENDING
    report = outbox_deliver_due()

    assert report.sent == 1
    assert SmsOutboxEntry.objects.count() == 1  # not sent twice
    row.refresh_from_db()
    assert row.status == S.SENT and row.provider_message_id == SmsOutboxEntry.objects.get().sid
    assert list(row.delivery_attempts.values_list("outcome", flat=True)) == ["success"]


def test_a_reaped_row_that_never_reached_the_provider_is_sent_once(patient):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS])
    with pytest.raises(DiesBeforeProvider.Killed):
        outbox_deliver_due(backends=_backends(DiesBeforeProvider()))

    outbox_reap_stuck(now=later(hours=1))
    outbox_deliver_due()

    assert SmsOutboxEntry.objects.count() == 1
    row = OutboundMessage.objects.get()
    assert row.status == S.SENT and row.attempts == 2
    assert list(row.delivery_attempts.values_list("outcome", flat=True)) == ["not_sent", "success"]


def test_rows_claimed_but_never_started_are_reaped_and_sent(patient, other_patient):
    for p in (patient, other_patient):
        message_enqueue(kind="follow_up", patient=p, dedupe_key=f"f:{p.pk}", channels=[Channel.SMS])
    outbox_claim_due()  # a worker claimed the batch and died at once

    assert outbox_reap_stuck(now=later(minutes=11)) == 2
    assert outbox_deliver_due().sent == 2
    assert SmsOutboxEntry.objects.count() == 2


def test_a_time_budget_gives_back_unstarted_rows(patient, other_patient):
    for p in (patient, other_patient):
        message_enqueue(kind="follow_up", patient=p, dedupe_key=f"f:{p.pk}", channels=[Channel.SMS])
    report = outbox_deliver_due(time_budget=-1)
    assert report.sent == 0
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {S.PENDING}


def test_a_late_finish_after_reaping_stops_the_resend(patient):
    """The sender was slow (not dead) past the timeout: its success still lands, and the row
    is not sent again."""
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS])
    token, ids = outbox_claim_due()

    class ReapMidCall(LocalOutboxSMS):
        def send(self, **kwargs):
            result = super().send(**kwargs)
            outbox_reap_stuck(now=later(hours=1))
            return result

    assert outbox_send_claimed(message_id=ids[0], token=token, backends=_backends(ReapMidCall())) == S.SENT
    assert outbox_deliver_due().claimed == 0
    assert SmsOutboxEntry.objects.count() == 1


# --- concurrency on PostgreSQL --------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_the_same_batch_never_share_a_row(requires_postgres):
    patients = [PortalPatientFactory() for _ in range(5)]
    for i in range(40):
        p = patients[i % 5]
        message_enqueue(kind="follow_up", patient=p, dedupe_key=f"race:{i}", channels=[Channel.SMS])
    barrier = threading.Barrier(2)
    won = {}

    def claimer(name):
        try:
            barrier.wait()
            mine = []
            while True:
                _, ids = outbox_claim_due(limit=7)
                if not ids:
                    break
                mine += ids
            won[name] = mine
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(n,)) for n in ("a", "b")]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert set(won["a"]).isdisjoint(won["b"])
    assert len(won["a"]) + len(won["b"]) == 40
    assert OutboundMessage.objects.filter(status=S.SENDING).count() == 40


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_at_once_send_each_sms_once(requires_postgres):
    patients = [PortalPatientFactory() for _ in range(4)]
    for i in range(30):
        message_enqueue(kind="follow_up", patient=patients[i % 4], dedupe_key=f"d:{i}", channels=[Channel.SMS])
    barrier = threading.Barrier(2)

    def deliverer():
        try:
            barrier.wait()
            outbox_deliver_due(limit=5)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert SmsOutboxEntry.objects.count() == 30
    assert SmsOutboxEntry.objects.values("message_id").distinct().count() == 30


# --- the staff outbox page ------------------------------------------------------------------

def test_staff_outbox_lists_messages_with_failures(client_for, front_desk, patient, django_assert_max_num_queries):
    rows = message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS, Channel.EMAIL])
    OutboundMessage.objects.filter(pk=rows[0].pk).update(status=S.FAILED, last_error="Twilio 400 error 21211")
    outbox_deliver_due()
    client = client_for(front_desk)
    client.get("/staff/messages/outbox/")  # warm the session/user caches

    with django_assert_max_num_queries(15):
        response = client.get("/staff/messages/outbox/")
    failed_only = client.get("/staff/messages/outbox/?status=failed")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Twilio 400 error 21211" in body and "follow_up" in body
    assert patient.phone not in body and patient.email not in body  # masked
    assert f"***{patient.phone[-4:]}" in body
    assert failed_only.content.decode().count("data-message=") == 1


def test_staff_outbox_query_count_does_not_grow_with_rows(client_for, front_desk, django_assert_max_num_queries):
    for i in range(30):
        p = PortalPatientFactory()
        message_enqueue(kind="follow_up", patient=p, dedupe_key=f"n:{i}", channels=[Channel.SMS])
    outbox_deliver_due()
    client = client_for(front_desk)
    client.get("/staff/messages/outbox/")
    with django_assert_max_num_queries(15):
        response = client.get("/staff/messages/outbox/")
    assert response.status_code == 200
    assert response.content.decode().count("data-message=") == 30


def test_staff_outbox_shows_the_local_sms_outbox(client_for, nurse, patient):
    message_enqueue(kind="follow_up", patient=patient, dedupe_key="f", channels=[Channel.SMS])
    outbox_deliver_due()
    body = client_for(nurse).get("/staff/messages/outbox/").content.decode()
    assert "thank you for your visit" in body.lower()


@pytest.mark.parametrize("who,goes_to", [("anonymous", "/accounts/login/"), ("patient", "/portal/"), ("unverified_staff", "/staff/mfa/")])
def test_staff_outbox_refuses_everyone_else(who, goes_to, client, client_for, patient, front_desk):
    c = {"anonymous": lambda: client, "patient": lambda: client_for(patient.user),
         "unverified_staff": lambda: client_for(front_desk, verified=False)}[who]()
    response = c.get("/staff/messages/outbox/")
    assert response.status_code == 302
    assert response["Location"].startswith(goes_to)


# --- email ----------------------------------------------------------------------------------

@pytest.mark.parametrize("error,status,outcome", [
    ("refused", S.FAILED, "permanent"),
    ("disconnected", S.PENDING, "transient"),
])
def test_email_failures_are_classified(patient, monkeypatch, error, status, outcome):
    import smtplib

    from django.core.mail import EmailMessage

    exc = smtplib.SMTPRecipientsRefused({patient.email: (550, b"no")}) if error == "refused" else smtplib.SMTPServerDisconnected("x")

    def boom(self, fail_silently=False):
        raise exc

    monkeypatch.setattr(EmailMessage, "send", boom)
    row = message_enqueue(kind="follow_up", patient=patient, dedupe_key="e", channels=[Channel.EMAIL])[0]
    outbox_deliver_due()
    row.refresh_from_db()
    assert row.status == status
    assert row.delivery_attempts.get().outcome == outcome


def test_email_carries_the_template_subject_and_message_id_header(patient):
    row = message_enqueue(kind="visit_cancelled", patient=patient, dedupe_key="e", channels=[Channel.EMAIL],
                          context={"visit_time": "Mon 10:00"})[0]
    outbox_deliver_due()
    email = mail.outbox[0]
    assert email.subject == "Your appointment was cancelled"
    assert email.extra_headers["X-Clinic-Message-Id"] == str(row.pk)
    assert "Mon 10:00" in email.body
