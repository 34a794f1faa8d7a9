"""Thread services: creating, posting, closing, reopening, assigning, read state, SMS routing,
and what each notifies."""
import pytest
from django.utils import timezone

from apps.core.exceptions import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from apps.messaging.models import Notification, OutboundMessage
from apps.messaging.threads import selectors, services
from apps.messaging.threads.models import Message, ReadReceipt, Thread, ThreadEvent
from apps.messaging.two_way import sms_inbound_receive
from tests.messaging.thread_helpers import patient_thread, private_attachment_root, staff_thread  # noqa: F401

pytestmark = pytest.mark.django_db


def test_a_patient_starting_a_thread_notifies_the_desk_roles_in_app(patient, front_desk, nurse, provider_user, billing_user):
    thread = patient_thread(patient)

    assert thread.status == Thread.Status.OPEN
    assert thread.messages.get().author_kind == Message.AuthorKind.PATIENT
    notified = set(Notification.objects.filter(kind="secure_message_staff").values_list("recipient_id", flat=True))
    assert notified == {front_desk.pk, nurse.pk}
    assert ThreadEvent.objects.filter(thread=thread, kind="created").count() == 1
    assert thread.unread_for_staff and not thread.unread_for_patient


def test_a_patient_message_in_an_assigned_thread_notifies_only_the_assignee(patient, front_desk, nurse, provider_user):
    thread = patient_thread(patient)
    services.thread_assign(thread=thread, actor=front_desk, assignee=provider_user)
    services.thread_mark_read(thread=thread, user=provider_user)
    Notification.objects.all().delete()

    services.message_post(thread=thread, body="Also, I have a fever.", author=patient.user)

    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [provider_user.pk]


def test_a_staff_reply_notifies_the_patient_without_the_message_in_sms_or_email(patient, front_desk):
    thread = patient_thread(patient)

    services.message_post(thread=thread, body="Your potassium is 5.9, please come in", author=front_desk)

    note = Notification.objects.get(recipient=patient.user)
    assert note.title == "New message from your care team"
    assert "potassium" not in note.body
    rows = OutboundMessage.objects.filter(patient=patient)
    assert {r.channel for r in rows} == {"sms", "email"}
    for row in rows:
        assert "potassium" not in row.body and "medication" not in row.body.lower()
        assert "new message" in row.body.lower()


def test_only_the_first_unread_staff_reply_queues_an_sms(patient, front_desk):
    thread = patient_thread(patient)
    services.message_post(thread=thread, body="First", author=front_desk)
    services.message_post(thread=thread, body="Second", author=front_desk)

    assert OutboundMessage.objects.filter(patient=patient, channel="sms").count() == 1
    assert Notification.objects.filter(recipient=patient.user).count() == 2  # in-app every time

    services.thread_mark_read(thread=thread, user=patient.user)
    services.message_post(thread=thread, body="Third", author=front_desk)
    assert OutboundMessage.objects.filter(patient=patient, channel="sms").count() == 2


def test_another_patient_cannot_post_to_a_thread(patient, other_patient):
    thread = patient_thread(patient)
    with pytest.raises(NotFound):
        services.message_post(thread=thread, body="hi", author=other_patient.user)
    assert thread.messages.count() == 1


def test_billing_cannot_reply(patient, billing_user):
    thread = patient_thread(patient)
    with pytest.raises(PermissionDenied):
        services.message_post(thread=thread, body="hi", author=billing_user)


def test_an_empty_message_is_refused(patient):
    thread = patient_thread(patient)
    with pytest.raises(ValidationFailed) as exc:
        services.message_post(thread=thread, body="   ", author=patient.user)
    assert "body" in exc.value.extra["fields"]


def test_closing_twice_is_an_invalid_transition(patient, front_desk):
    thread = patient_thread(patient)
    services.thread_close(thread=thread, actor=front_desk, reason="answered")
    with pytest.raises(InvalidTransition):
        services.thread_close(thread=thread, actor=front_desk)
    thread.refresh_from_db()
    assert thread.status == "closed" and thread.closed_at is not None
    event = ThreadEvent.objects.get(thread=thread, kind="status")
    assert (event.actor_id, event.from_status, event.to_status, event.reason) == (front_desk.pk, "open", "closed", "answered")


def test_a_patient_writing_into_a_closed_thread_reopens_it(patient, front_desk):
    thread = patient_thread(patient)
    services.thread_close(thread=thread, actor=front_desk)

    services.message_post(thread=thread, body="One more question", author=patient.user)

    thread.refresh_from_db()
    assert thread.status == "open" and thread.closed_at is None
    assert ThreadEvent.objects.filter(thread=thread, kind="status", to_status="open", reason="patient_replied").exists()


def test_staff_cannot_write_into_a_closed_thread_until_they_reopen_it(patient, front_desk):
    thread = patient_thread(patient)
    services.thread_close(thread=thread, actor=front_desk)
    with pytest.raises(InvalidTransition) as exc:
        services.message_post(thread=thread, body="hi", author=front_desk)
    assert exc.value.code == "thread_closed" and exc.value.status_code == 409

    services.thread_reopen(thread=thread, actor=front_desk)
    services.message_post(thread=thread, body="hi", author=front_desk)
    assert thread.messages.count() == 2


def test_assigning_writes_an_event_and_notifies_the_assignee(patient, front_desk, nurse):
    thread = patient_thread(patient)
    Notification.objects.all().delete()

    services.thread_assign(thread=thread, actor=front_desk, assignee=nurse)

    thread.refresh_from_db()
    assert thread.assigned_to == nurse
    event = ThreadEvent.objects.get(thread=thread, kind="assigned")
    assert (event.actor_id, event.from_assignee_id, event.to_assignee_id) == (front_desk.pk, None, nurse.pk)
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [nurse.pk]


def test_assigning_to_someone_who_cannot_reply_is_refused(patient, front_desk, billing_user, other_patient):
    thread = patient_thread(patient)
    for who in (billing_user, other_patient.user):
        with pytest.raises(ValidationFailed):
            services.thread_assign(thread=thread, actor=front_desk, assignee=who)


def test_billing_cannot_assign_or_close(patient, billing_user):
    thread = patient_thread(patient)
    with pytest.raises(PermissionDenied):
        services.thread_assign(thread=thread, actor=billing_user, assignee=None)
    with pytest.raises(PermissionDenied):
        services.thread_close(thread=thread, actor=billing_user)


def test_unread_counts_for_each_side(patient, other_patient, front_desk, nurse):
    a = patient_thread(patient, subject="A")
    patient_thread(patient, subject="B")
    staff_thread(front_desk, other_patient)

    assert selectors.staff_unread_thread_count() == 2
    services.thread_mark_read(thread=a, user=nurse)  # the shared inbox: anyone's read counts
    assert selectors.staff_unread_thread_count() == 1
    assert ReadReceipt.objects.filter(thread=a, user=nurse).exists()

    services.message_post(thread=a, body="Reply", author=front_desk)
    services.message_post(thread=a, body="Another", author=front_desk)
    assert selectors.patient_unread_thread_count(patient) == 1
    assert selectors.threads_for_patient(patient).get(pk=a.pk).unread == 2
    assert selectors.patient_unread_thread_count(other_patient) == 1

    services.thread_mark_read(thread=a, user=patient.user)
    assert selectors.patient_unread_thread_count(patient) == 0
    assert selectors.threads_for_patient(patient).get(pk=a.pk).unread == 0


def test_mark_read_never_moves_back(patient, front_desk):
    thread = patient_thread(patient)
    services.thread_mark_read(thread=thread, user=front_desk)
    thread.refresh_from_db()
    later = thread.staff_read_at
    assert not services.thread_mark_read(thread=thread, user=front_desk, up_to=later - timezone.timedelta(minutes=5))
    thread.refresh_from_db()
    assert thread.staff_read_at == later


def test_live_events_are_published_only_after_commit(patient, front_desk, django_capture_on_commit_callbacks, monkeypatch):
    sent = []

    class Layer:
        async def group_send(self, group, message):
            sent.append((group, message))

    monkeypatch.setattr("apps.messaging.threads.events.get_channel_layer", Layer)
    thread = patient_thread(patient)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.message_post(thread=thread, body="Reply", author=front_desk)
    assert sent == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()
    # One message per group for the transaction, each carrying the thread.message event.
    assert [(group, message["type"]) for group, message in sent] == [
        (f"threads.patient.{patient.pk}", "thread.events"), ("threads.staff", "thread.events")]
    for _, message in sent:
        (event,) = [e for e in message["events"] if e["type"] == "thread.message"]
        assert "body" not in event and event["patient_id"] == str(patient.pk)


# --- SMS ----------------------------------------------------------------------------------

def test_free_text_sms_lands_in_the_patients_most_recent_open_thread(patient, front_desk):
    older = patient_thread(patient, subject="Older")
    newer = patient_thread(patient, subject="Newer")
    services.thread_close(thread=newer, actor=front_desk)

    inbound, _ = sms_inbound_receive(sid="SM1", from_number=patient.phone, body="Running 10 min late")

    message = Message.objects.get(author_kind="sms")
    assert message.thread == older and message.body == "Running 10 min late" and message.author is None
    assert inbound.action == "thread"
    older.refresh_from_db()
    assert older.unread_for_staff


def test_free_text_sms_without_an_open_thread_starts_a_text_message_thread(patient, front_desk):
    Notification.objects.all().delete()
    sms_inbound_receive(sid="SM2", from_number=patient.phone, body="Can I bring my daughter?")

    thread = Thread.objects.get(patient=patient)
    assert thread.subject == "Text message"
    assert thread.messages.get().author_kind == "sms"
    assert Notification.objects.filter(recipient=front_desk, kind="secure_message_staff").exists()


def test_a_replayed_sms_webhook_adds_no_second_message(patient):
    sms_inbound_receive(sid="SM3", from_number=patient.phone, body="hello")
    sms_inbound_receive(sid="SM3", from_number=patient.phone, body="hello")
    assert Message.objects.filter(author_kind="sms").count() == 1


def test_keywords_and_unknown_numbers_do_not_make_threads(patient):
    sms_inbound_receive(sid="SM4", from_number=patient.phone, body="HELP")
    sms_inbound_receive(sid="SM5", from_number="+15550000000", body="who is this")
    assert not Thread.objects.exists()
