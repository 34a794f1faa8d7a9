"""Portal and staff thread pages: who may open each, what they do, and fixed query counts."""
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.audit.models import AccessLog
from apps.messaging.threads import services
from apps.messaging.threads.models import Message, Thread
from tests.factories import PortalPatientFactory
from tests.messaging.thread_helpers import HTML, patient_thread, private_attachment_root, upload  # noqa: F401

pytestmark = pytest.mark.django_db

STAFF_OK = ["front_desk", "nurse", "provider_user", "clinic_admin"]


@pytest.fixture
def thread(patient):
    return patient_thread(patient)


# --- portal -------------------------------------------------------------------------------

def test_portal_inbox_shows_the_patients_own_threads_with_unread_badges(client_for, patient, other_patient, front_desk):
    mine = patient_thread(patient, subject="My question")
    patient_thread(other_patient, subject="Someone else's question")
    services.message_post(thread=mine, body="Answer", author=front_desk)

    response = client_for(patient.user).get(reverse("portal_thread_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "My question" in html and "Someone else" not in html
    assert "1 unread" in html
    assert AccessLog.objects.filter(object_id=str(mine.pk), action="read").exists()


@pytest.mark.parametrize("url_name", ["portal_thread_list", "portal_thread_new"])
def test_portal_pages_need_a_signed_in_patient(client, client_for, front_desk, url_name):
    assert client.get(reverse(url_name)).status_code == 302
    response = client_for(front_desk).get(reverse(url_name))
    assert response.status_code == 302 and response.url == reverse("staff_home")


def test_portal_thread_page_owner_sees_it_and_reading_marks_it_read(client_for, patient, thread, front_desk):
    services.message_post(thread=thread, body="Please take it with food.", author=front_desk)

    response = client_for(patient.user).get(reverse("portal_thread_detail", args=[thread.pk]))

    assert response.status_code == 200
    assert "Please take it with food." in response.content.decode()
    thread.refresh_from_db()
    assert not thread.unread_for_patient


def test_portal_thread_page_of_another_patient_is_404(client_for, other_patient, thread):
    assert client_for(other_patient.user).get(reverse("portal_thread_detail", args=[thread.pk])).status_code == 404
    assert client_for(other_patient.user).post(reverse("portal_thread_detail", args=[thread.pk]), {"body": "x"}).status_code == 404
    assert thread.messages.count() == 1


def test_portal_thread_page_anonymous_and_staff(client, client_for, thread, front_desk):
    url = reverse("portal_thread_detail", args=[thread.pk])
    assert client.get(url).status_code == 302
    assert client_for(front_desk).get(url).status_code == 302


def test_patient_starts_a_thread_and_replies(client_for, patient):
    c = client_for(patient.user)
    response = c.post(reverse("portal_thread_new"), {"subject": "Refill", "body": "I need a refill."})
    thread = Thread.objects.get(patient=patient)
    assert response.status_code == 302 and response.url == reverse("portal_thread_detail", args=[thread.pk])

    response = c.post(reverse("portal_thread_detail", args=[thread.pk]), {"body": "Thanks!"})
    assert response.status_code == 302
    assert list(thread.messages.values_list("body", flat=True)) == ["I need a refill.", "Thanks!"]


def test_new_thread_without_a_subject_shows_the_error(client_for, patient):
    response = client_for(patient.user).post(reverse("portal_thread_new"), {"subject": "", "body": "x"})
    assert response.status_code == 400
    assert not Thread.objects.exists()


def test_a_message_body_is_escaped(client_for, patient, front_desk):
    thread = patient_thread(patient, body="<script>alert(1)</script>")
    html = client_for(front_desk).get(reverse("staff_thread_detail", args=[thread.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


# --- staff --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", STAFF_OK)
def test_each_messaging_role_opens_the_inbox_and_a_thread(request, client_for, thread, role):
    user = request.getfixturevalue(role)
    c = client_for(user)
    inbox = c.get(reverse("staff_thread_list"))
    assert inbox.status_code == 200 and "Question about my medication" in inbox.content.decode()
    page = c.get(reverse("staff_thread_detail", args=[thread.pk]))
    assert page.status_code == 200 and "Can I take it with food?" in page.content.decode()
    new = c.get(reverse("staff_thread_new"))
    assert new.status_code == 200 and "New message to a patient" in new.content.decode()


def test_billing_gets_403_on_every_staff_thread_page(client_for, billing_user, thread):
    c = client_for(billing_user)
    for url in [reverse("staff_thread_list"), reverse("staff_thread_detail", args=[thread.pk]), reverse("staff_thread_new")]:
        assert c.get(url).status_code == 403
    for name in ["staff_thread_assign", "staff_thread_status"]:
        assert c.post(reverse(name, args=[thread.pk]), {"assignee": "me", "action": "close"}).status_code == 403
    thread.refresh_from_db()
    assert thread.status == "open" and thread.assigned_to is None


def test_staff_pages_send_patients_to_the_portal_and_anonymous_to_sign_in(client, client_for, patient, thread):
    urls = [reverse("staff_thread_list"), reverse("staff_thread_detail", args=[thread.pk]), reverse("staff_thread_new")]
    for url in urls:
        assert reverse("account_login") in client.get(url).url
        assert client_for(patient.user).get(url).url == reverse("portal_home")
    for name in ["staff_thread_assign", "staff_thread_status"]:
        assert client_for(patient.user).post(reverse(name, args=[thread.pk]), {"action": "close"}).status_code == 302
    thread.refresh_from_db()
    assert thread.status == "open"


def test_unverified_staff_are_sent_to_the_second_factor(client_for, front_desk, thread):
    c = client_for(front_desk, verified=False)
    for url in [reverse("staff_thread_list"), reverse("staff_thread_detail", args=[thread.pk])]:
        response = c.get(url)
        assert response.status_code == 302 and "/staff/mfa" in response.url


def test_unknown_thread_is_404_for_staff(client_for, front_desk):
    response = client_for(front_desk).get(reverse("staff_thread_detail", args=[uuid.uuid4()]))
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_staff_reply_assign_close_and_reopen(client_for, front_desk, nurse, patient, thread):
    c = client_for(front_desk)
    url = reverse("staff_thread_detail", args=[thread.pk])

    assert c.post(url, {"body": "We will call you."}).status_code == 302
    assert c.post(reverse("staff_thread_assign", args=[thread.pk]), {"assignee": "me"}).status_code == 302
    thread.refresh_from_db()
    assert thread.assigned_to == front_desk
    assert c.post(reverse("staff_thread_assign", args=[thread.pk]), {"assignee": str(nurse.pk)}).status_code == 302
    thread.refresh_from_db()
    assert thread.assigned_to == nurse

    assert c.post(reverse("staff_thread_status", args=[thread.pk]), {"action": "close"}).status_code == 302
    thread.refresh_from_db()
    assert thread.status == "closed"
    # A stale second close answers 409, with the thread as it is now and why.
    stale = c.post(reverse("staff_thread_status", args=[thread.pk]), {"action": "close"})
    assert stale.status_code == 409
    assert "A closed conversation cannot become closed." in stale.content.decode()
    assert "Reopen conversation" in stale.content.decode()
    # Replying to a closed thread is refused with 409 and writes nothing.
    late = c.post(url, {"body": "late"})
    assert late.status_code == 409 and "This conversation is closed. Reopen it to reply." in late.content.decode()
    assert thread.messages.count() == 2
    assert c.post(reverse("staff_thread_status", args=[thread.pk]), {"action": "reopen"}).status_code == 302
    thread.refresh_from_db()
    assert thread.status == "open"


def test_staff_start_a_thread_for_a_patient_by_mrn(client_for, front_desk, patient):
    response = client_for(front_desk).post(reverse("staff_thread_new"), {"mrn": patient.mrn, "subject": "Results", "body": "All normal."})
    thread = Thread.objects.get(patient=patient)
    assert response.status_code == 302
    assert thread.messages.get().author_kind == Message.AuthorKind.STAFF

    response = client_for(front_desk).post(reverse("staff_thread_new"), {"mrn": "00000000", "subject": "x", "body": "y"})
    assert response.status_code == 400 and "No active patient has this MRN." in response.content.decode()


def test_a_staff_new_thread_refused_by_the_service_shows_the_field_error(client_for, front_desk, patient):
    response = client_for(front_desk).post(reverse("staff_thread_new"), {
        "mrn": patient.mrn, "subject": "Results", "body": "See the file.", "attachments": [upload("lab.pdf", HTML, "application/pdf")],
    })

    assert response.status_code == 400
    assert "lab.pdf is not a PDF" in response.content.decode()
    assert not Thread.objects.exists()


def test_the_new_thread_page_starts_with_the_patient_it_was_opened_for(client_for, front_desk, patient):
    url = reverse("staff_thread_new")
    page = client_for(front_desk).get(url, {"patient": str(patient.pk)})
    assert page.status_code == 200 and f'value="{patient.mrn}"' in page.content.decode()
    # A malformed or unknown id leaves the form empty instead of failing.
    for junk in ("not-a-uuid", str(uuid.uuid4())):
        page = client_for(front_desk).get(url, {"patient": junk})
        assert page.status_code == 200 and patient.mrn not in page.content.decode()


def test_assigning_to_someone_who_cannot_reply_says_so_on_the_thread_page(client_for, front_desk, billing_user, thread):
    c = client_for(front_desk)
    response = c.post(reverse("staff_thread_assign", args=[thread.pk]), {"assignee": str(billing_user.pk)}, follow=True)

    assert response.redirect_chain == [(reverse("staff_thread_detail", args=[thread.pk]), 302)]
    assert "Choose a staff member who can reply to messages." in response.content.decode()
    thread.refresh_from_db()
    assert thread.assigned_to is None


def test_a_patients_reply_refused_by_the_service_is_shown_on_the_form(client_for, patient, thread):
    response = client_for(patient.user).post(reverse("portal_thread_detail", args=[thread.pk]), {"body": "   "})

    assert response.status_code == 400
    assert "Write a message." in response.content.decode()
    assert thread.messages.count() == 1


def test_an_unknown_thread_is_the_404_page_for_a_patient(client_for, patient):
    response = client_for(patient.user).get(reverse("portal_thread_detail", args=[uuid.uuid4()]))
    assert response.status_code == 404 and "Page not found" in response.content.decode()


@pytest.mark.parametrize("view", ["all", "unassigned", "mine", "unread"])
def test_inbox_filters(client_for, front_desk, patient, other_patient, view):
    mine = patient_thread(patient, subject="Assigned to me")
    services.thread_assign(thread=mine, actor=front_desk, assignee=front_desk)
    services.thread_mark_read(thread=mine, user=front_desk)
    patient_thread(other_patient, subject="Nobody has it")

    html = client_for(front_desk).get(reverse("staff_thread_list"), {"view": view}).content.decode()

    expected = {"all": {"Assigned to me", "Nobody has it"}, "unassigned": {"Nobody has it"}, "mine": {"Assigned to me"}, "unread": {"Nobody has it"}}[view]
    for subject in ("Assigned to me", "Nobody has it"):
        assert (subject in html) == (subject in expected)


def test_inbox_status_filter(client_for, front_desk, patient):
    closed = patient_thread(patient, subject="Done and dusted")
    services.thread_close(thread=closed, actor=front_desk)
    c = client_for(front_desk)
    assert "Done and dusted" not in c.get(reverse("staff_thread_list")).content.decode()
    assert "Done and dusted" in c.get(reverse("staff_thread_list"), {"status": "closed"}).content.decode()


# --- query counts -------------------------------------------------------------------------

def _make_threads(n, front_desk):
    patients = [PortalPatientFactory() for _ in range(min(n, 5))]
    for i in range(n):
        thread = patient_thread(patients[i % len(patients)], subject=f"Thread {i}")
        if i % 2:
            services.thread_assign(thread=thread, actor=front_desk, assignee=front_desk)
            services.message_post(thread=thread, body="reply", author=front_desk)
    return patients


def _count(c, url, shows):
    c.get(url)  # warm: the first request of a session loads permissions and the like once
    with CaptureQueriesContext(connection) as ctx:
        response = c.get(url)
    assert response.status_code == 200 and shows in response.content.decode()
    return len(ctx)


def test_staff_inbox_costs_the_same_with_5_or_30_threads(client_for, front_desk):
    c = client_for(front_desk)
    _make_threads(5, front_desk)
    few = _count(c, reverse("staff_thread_list"), "Thread 4")
    _make_threads(25, front_desk)
    many = _count(c, reverse("staff_thread_list"), "Thread 24")
    assert few == many


def test_portal_inbox_costs_the_same_with_5_or_30_threads(client_for, patient, front_desk):
    c = client_for(patient.user)
    for i in range(5):
        services.message_post(thread=patient_thread(patient, subject=f"T{i}"), body="r", author=front_desk)
    few = _count(c, reverse("portal_thread_list"), "T4")
    for i in range(25):
        services.message_post(thread=patient_thread(patient, subject=f"U{i}"), body="r", author=front_desk)
    many = _count(c, reverse("portal_thread_list"), "U24")
    assert few == many


def test_thread_page_costs_the_same_with_few_or_many_messages(client_for, patient, front_desk):
    thread = patient_thread(patient)
    c = client_for(front_desk)
    url = reverse("staff_thread_detail", args=[thread.pk])
    c.get(url)
    few = _count(c, url, "Can I take it with food?")
    for i in range(20):
        services.message_post(thread=thread, body=f"m{i}", author=patient.user)
    c.get(url)
    many = _count(c, url, "m19")
    assert few == many
