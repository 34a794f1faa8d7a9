"""The messaging rules in core's access layer (apps/messaging/rules.py): who may see and act on
threads, messages, attachments and notifications, through the access_* selectors every page,
API view and socket uses."""
import uuid

import pytest

from apps.core import access
from apps.core.exceptions import NotFound, PermissionDenied
from apps.messaging import rules
from apps.messaging.selectors import access_notification
from apps.messaging.threads import selectors
from apps.messaging.threads.models import Attachment, Message, Thread
from tests.factories import NotificationFactory
from tests.messaging.thread_helpers import PDF, patient_thread, private_attachment_root, upload  # noqa: F401

pytestmark = pytest.mark.django_db


def verified(user, yes=True):
    """What OTPMiddleware (pages) and socket_actor (sockets) give a staff user."""
    user.is_verified = lambda: yes
    return user


@pytest.fixture
def thread(patient):
    return patient_thread(patient, files=[upload("scan.pdf", PDF)])


def test_a_patient_reads_and_answers_their_own_threads_but_does_not_close_them(patient, other_patient, thread):
    assert selectors.access_thread(patient.user, thread.pk) == thread
    assert selectors.access_thread(patient.user, thread.pk, rules.REPLY) == thread
    with pytest.raises(NotFound):
        selectors.access_thread(patient.user, thread.pk, rules.CHANGE)
    for who in (other_patient.user, None):
        with pytest.raises(NotFound):
            selectors.access_thread(who, thread.pk)


@pytest.mark.parametrize("role", ["front_desk", "nurse", "provider_user", "clinic_admin"])
def test_messaging_staff_with_a_second_factor_may_do_everything_to_threads(request, thread, role):
    user = verified(request.getfixturevalue(role))
    for action in (rules.VIEW, rules.REPLY, rules.CHANGE, rules.ASSIGN, rules.ADD):
        assert access.may(user, Thread, action)
    assert selectors.access_thread_for_staff(user, thread.pk, perm=rules.CHANGE_PERM) == thread


def test_staff_need_the_second_factor_and_the_permission(front_desk, billing_user, patient, thread):
    with pytest.raises(PermissionDenied):
        selectors.access_thread_for_staff(verified(front_desk, False), thread.pk)
    with pytest.raises(PermissionDenied):
        selectors.access_thread_for_staff(verified(billing_user), thread.pk)
    with pytest.raises(NotFound):  # not staff at all: as if there were no such thread
        selectors.access_thread_for_staff(patient.user, thread.pk)
    with pytest.raises(NotFound):
        selectors.access_thread_for_staff(verified(front_desk), "not-a-uuid")


def test_integrator_keys_need_the_messaging_scopes(api_key_factory, thread):
    reader, _ = api_key_factory(rules.READ_SCOPE)
    patients_only, _ = api_key_factory("patients:read")

    assert selectors.access_thread(reader, thread.pk) == thread
    with pytest.raises(PermissionDenied):
        selectors.access_thread(reader, thread.pk, rules.REPLY)
    with pytest.raises(PermissionDenied):
        selectors.access_thread(patients_only, thread.pk)


def test_attachments_and_messages_follow_their_thread(patient, other_patient, front_desk, billing_user, thread):
    attachment = Attachment.objects.get(message__thread=thread)
    message = Message.objects.get(thread=thread)

    assert selectors.access_attachment(patient.user, attachment.pk) == attachment
    assert selectors.access_attachment(verified(front_desk), attachment.pk) == attachment
    # Another patient, and staff who may not read threads: the file's existence is not revealed.
    for who in (other_patient.user, verified(billing_user)):
        with pytest.raises(NotFound):
            selectors.access_attachment(who, attachment.pk)
    assert selectors.message_for_socket(patient.user, thread.pk, message.pk) == message
    assert selectors.message_for_socket(other_patient.user, thread.pk, message.pk) is None
    assert selectors.message_for_socket(verified(billing_user), thread.pk, message.pk) is None


def test_notifications_belong_to_their_recipient_alone(patient, other_patient, front_desk, billing_user):
    mine = NotificationFactory(recipient=patient.user)
    desk = NotificationFactory(recipient=front_desk)
    billing = NotificationFactory(recipient=billing_user)

    assert access_notification(patient.user, mine.pk) == mine
    assert access_notification(verified(front_desk), desk.pk) == desk
    assert access_notification(verified(billing_user), billing.pk) == billing  # whatever the role
    for who, theirs in ((other_patient.user, mine), (verified(front_desk), billing), (patient.user, desk)):
        with pytest.raises(NotFound):
            access_notification(who, theirs.pk)
    with pytest.raises(NotFound):
        access_notification(patient.user, uuid.uuid4())
    with pytest.raises(PermissionDenied):  # staff without the second factor see none
        access_notification(verified(front_desk, False), desk.pk)
