"""The unread-thread badge on the header's Messages item (portal and staff): the right count
for each side, never another patient's threads, no thread query for anyone who may not see
threads, and one query per page however many threads there are."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.messaging.threads import services
from apps.messaging.threads.selectors import staff_inbox_counts
from tests.factories import PortalPatientFactory
from tests.messaging.thread_helpers import patient_thread, private_attachment_root, staff_thread  # noqa: F401

pytestmark = pytest.mark.django_db

BADGE = re.compile(
    r'><span aria-hidden="true">Messages<span class="badge-count nav-badge" data-nav-unread( hidden)?>(\d+)</span></span>'
    r'<span class="sr-only" data-nav-unread-label="Messages">([^<]*)</span></a>'
)


def nav_badge(response):
    """(count shown, the name screen readers hear), or None when the page has no badge."""
    assert response.status_code == 200
    found = BADGE.search(response.content.decode())
    if found is None:
        return None
    hidden, count, label = found.groups()
    assert bool(hidden) == (count == "0")
    return int(count), label


def get_counting_thread_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, [q["sql"] for q in queries.captured_queries if '"messaging_thread"' in q["sql"]]


# --- the patient portal ---------------------------------------------------------------------

@pytest.mark.parametrize("url_name", ["portal_home", "notification_list"])
def test_a_patients_badge_counts_their_threads_with_unread_care_team_replies(client_for, patient, other_patient, front_desk, url_name):
    staff_thread(front_desk, patient, subject="Results")
    staff_thread(front_desk, patient, subject="Forms")
    patient_thread(patient, subject="My own question, not answered yet")
    for _ in range(3):
        staff_thread(front_desk, other_patient)

    response = client_for(patient.user).get(reverse(url_name))

    assert nav_badge(response) == (2, "Messages, 2 unread")


def test_a_patient_never_counts_another_patients_threads(client_for, patient, other_patient, front_desk):
    for _ in range(3):
        staff_thread(front_desk, other_patient)

    assert nav_badge(client_for(patient.user).get(reverse("portal_home"))) == (0, "Messages")
    assert nav_badge(client_for(other_patient.user).get(reverse("portal_home"))) == (3, "Messages, 3 unread")


def test_reading_the_thread_clears_the_patients_badge(client_for, patient, front_desk):
    thread = staff_thread(front_desk, patient)
    client = client_for(patient.user)
    assert nav_badge(client.get(reverse("portal_home"))) == (1, "Messages, 1 unread")

    client.get(reverse("portal_thread_detail", args=[thread.pk]))

    assert nav_badge(client.get(reverse("portal_home"))) == (0, "Messages")


# --- staff ----------------------------------------------------------------------------------

def test_a_staff_badge_counts_open_threads_unread_by_the_care_team(client_for, patient, other_patient, front_desk, nurse):
    read = patient_thread(patient, subject="Read by the nurse")
    patient_thread(patient, subject="Waiting")
    closed = patient_thread(other_patient, subject="Closed")
    patient_thread(other_patient, subject="Also waiting")
    staff_thread(nurse, other_patient, subject="Care team wrote last")
    services.thread_mark_read(thread=read, user=nurse)  # the shared inbox: read for the whole team
    services.thread_close(thread=closed, actor=nurse)

    response = client_for(front_desk).get(reverse("staff_home"))

    assert nav_badge(response) == (2, "Messages, 2 unread")
    assert staff_inbox_counts(front_desk)["unread"] == 2  # the inbox's "Unread" tab agrees


def test_a_staff_badge_is_hidden_when_nothing_is_unread(client_for, patient, front_desk, nurse):
    services.thread_mark_read(thread=patient_thread(patient), user=nurse)
    assert nav_badge(client_for(front_desk).get(reverse("staff_home"))) == (0, "Messages")


def test_staff_without_the_messaging_permission_get_no_badge_and_no_thread_query(client_for, patient, billing_user):
    patient_thread(patient)
    response, thread_queries = get_counting_thread_queries(client_for(billing_user), reverse("staff_home"))
    assert nav_badge(response) is None and thread_queries == []


def test_staff_without_a_verified_second_factor_run_no_thread_query(client_for, patient, front_desk):
    patient_thread(patient)
    client = client_for(front_desk, verified=False)

    response, thread_queries = get_counting_thread_queries(client, reverse("staff_mfa_verify"))

    assert nav_badge(response) is None and thread_queries == []


def test_anonymous_pages_run_no_thread_query(client, patient, front_desk):
    staff_thread(front_desk, patient)
    response, thread_queries = get_counting_thread_queries(client, reverse("account_login"))
    assert nav_badge(response) is None and thread_queries == []


# --- cost -----------------------------------------------------------------------------------

@pytest.mark.parametrize("side,url_name", [("patient", "portal_home"), ("patient", "notification_list"), ("staff", "staff_home")])
def test_the_badge_is_one_query_however_many_threads_there_are(client_for, patient, front_desk, side, url_name):
    user = patient.user if side == "patient" else front_desk

    def unread_thread():
        if side == "patient":
            return staff_thread(front_desk, patient)
        return patient_thread(PortalPatientFactory())

    unread_thread()
    client = client_for(user)
    client.get(reverse(url_name))  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        first = client.get(reverse(url_name))
    for _ in range(15):
        unread_thread()
    with CaptureQueriesContext(connection) as many:
        response, thread_queries = get_counting_thread_queries(client, reverse(url_name))

    assert nav_badge(first)[0] == 1 and nav_badge(response)[0] == 16
    assert len(thread_queries) == 1
    assert len(many.captured_queries) == len(few.captured_queries)
