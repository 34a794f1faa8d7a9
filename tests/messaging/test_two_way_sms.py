"""Two-way SMS keywords: STOP/START/HELP, C/YES and X/CANCEL through the scheduling hooks,
free text to staff; each reply answered once through the outbox."""
import pytest

from apps.messaging import two_way
from apps.messaging.delivery import outbox_deliver_due
from apps.messaging.models import Channel, InboundSms, OutboundMessage, SmsOptOut, SmsOutboxEntry
from apps.messaging.outbox import message_enqueue
from apps.messaging.two_way import keyword_of, sms_inbound_receive
from tests.factories import PortalPatientFactory
from tests.messaging.outbox_helpers import no_kick  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_kick")
_n = iter(range(10_000))


def text(patient_or_phone, body):
    phone = getattr(patient_or_phone, "phone", patient_or_phone)
    inbound, _ = sms_inbound_receive(sid=f"SMin{next(_n)}", from_number=phone, to_number="+12125550100", body=body)
    return inbound


def replies_to(phone):
    return list(OutboundMessage.objects.filter(to=phone, kind__startswith="sms_reply").order_by("created_at"))


@pytest.mark.parametrize("body,expected", [("stop", "STOP"), (" Stop. ", "STOP"), ("c", "C"), ("YES!", "YES"), ("x", "X"),
                                            ("I need to cancel", ""), ("", "")])
def test_keywords_are_the_whole_text_in_any_case(body, expected):
    assert keyword_of(body) == expected


def test_stop_opts_out_until_start(patient):
    inbound = text(patient, "STOP")

    assert inbound.action == "opt_out" and inbound.patient == patient
    assert SmsOptOut.objects.filter(phone=patient.phone).exists()
    assert Channel.SMS not in [r.channel for r in message_enqueue(kind="follow_up", patient=patient, dedupe_key="a")]
    # The confirmation still goes out, once.
    outbox_deliver_due()
    assert SmsOutboxEntry.objects.filter(to=patient.phone).count() == 1
    assert "no more text messages" in SmsOutboxEntry.objects.get().body

    text(patient, "start")

    assert not SmsOptOut.objects.filter(phone=patient.phone).exists()
    assert Channel.SMS in [r.channel for r in message_enqueue(kind="follow_up", patient=patient, dedupe_key="b")]


def test_a_reminder_queued_before_stop_is_not_sent(patient):
    message_enqueue(kind="visit_reminder", patient=patient, dedupe_key="r", channels=[Channel.SMS])
    text(patient, "STOP")
    outbox_deliver_due()
    assert [e.body for e in SmsOutboxEntry.objects.all()] == [replies_to(patient.phone)[0].body]
    assert OutboundMessage.objects.get(kind="visit_reminder").status == OutboundMessage.Status.CANCELLED


def test_help_answers_with_help_text(patient, settings):
    inbound = text(patient, "help")
    assert inbound.action == "help"
    assert settings.CLINIC_PHONE in replies_to(patient.phone)[0].body


@pytest.mark.parametrize("body", ["C", "yes", "Confirm"])
def test_confirm_without_scheduling_answers_no_upcoming_visit(patient, body):
    inbound = text(patient, body)
    assert inbound.action == "confirm" and inbound.status == InboundSms.Status.PROCESSED
    assert "could not find an upcoming visit to confirm" in replies_to(patient.phone)[0].body


calls = []


def fake_confirm(*, patient, inbound):
    calls.append(("confirm", patient.pk, inbound.sid))
    return "Your visit on Tue 3 Mar 10:00 is confirmed."


def fake_cancel(*, patient, inbound):
    calls.append(("cancel", patient.pk, inbound.sid))
    return "Your visit on Tue 3 Mar 10:00 is cancelled."


@pytest.mark.parametrize("body,action,answer", [("C", "confirm", "is confirmed"), ("X", "cancel", "is cancelled"),
                                                 ("cancel", "cancel", "is cancelled")])
def test_confirm_and_cancel_go_through_the_connected_hooks(patient, monkeypatch, body, action, answer):
    monkeypatch.setattr(two_way.sms_confirm, "_receivers", [fake_confirm])
    monkeypatch.setattr(two_way.sms_cancel, "_receivers", [fake_cancel])
    calls.clear()

    inbound = text(patient, body)

    assert calls == [(action, patient.pk, inbound.sid)]
    assert answer in replies_to(patient.phone)[0].body
    assert not SmsOptOut.objects.exists()  # CANCEL is not an opt-out here


def test_free_text_needs_staff_and_is_routed_to_the_thread_hook(patient, monkeypatch):
    routed = []
    monkeypatch.setattr(two_way, "route_to_thread", lambda inbound: routed.append(inbound.pk))

    inbound = text(patient, "Can I bring my daughter to the visit?")

    assert inbound.status == InboundSms.Status.NEEDS_STAFF and inbound.action == "thread"
    assert routed == [inbound.pk]
    assert "passed to your care team" in replies_to(patient.phone)[0].body


def test_an_unknown_number_is_unmatched_and_told_to_call(db):
    inbound = text("+12125559876", "C")
    assert inbound.patient is None and inbound.status == InboundSms.Status.UNMATCHED
    assert "could not match this number" in replies_to("+12125559876")[0].body


def test_a_shared_family_number_is_left_to_staff(db):
    a = PortalPatientFactory(phone="+12125554444")
    PortalPatientFactory(phone="+12125554444")
    inbound = text(a, "X")
    assert inbound.patient is None and inbound.status == InboundSms.Status.NEEDS_STAFF


def test_each_reply_is_answered_once_even_when_replayed(patient):
    first, created = sms_inbound_receive(sid="SMdup", from_number=patient.phone, body="HELP")
    again, created_again = sms_inbound_receive(sid="SMdup", from_number=patient.phone, body="HELP")
    assert created and not created_again and first.pk == again.pk
    assert len(replies_to(patient.phone)) == 1
    assert first.reply_id == replies_to(patient.phone)[0].pk


def test_replies_ignore_quiet_hours(patient):
    import datetime

    patient.quiet_hours_start, patient.quiet_hours_end = datetime.time(0), datetime.time(23, 59)
    patient.save()
    text(patient, "HELP")
    assert outbox_deliver_due().sent == 1
