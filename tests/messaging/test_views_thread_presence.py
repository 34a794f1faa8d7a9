"""Live presence on the staff thread page: the page carries the ids the messages socket's
presence frames name (the patient's, and the assigned colleague's when it is someone else),
and static/js/messages.js turns them into "Online"/"Offline" pills. The patient's own page
carries none (patients never watch presence). The socket side is tests/portal_api/
test_consumers_presence.py."""
import re

import pytest
from django.urls import reverse

from apps.messaging.threads import services
from tests.messaging.thread_helpers import patient_thread

pytestmark = pytest.mark.django_db


def pills(html):
    return re.findall(r'data-presence-kind="(\w+)" data-presence-id="([^"]+)"', html)


def test_the_staff_thread_page_names_the_patient_for_presence(client_for, front_desk, patient):
    thread = patient_thread(patient)
    html = client_for(front_desk).get(reverse("staff_thread_detail", args=[thread.pk])).content.decode()
    assert pills(html) == [("patient", str(patient.pk))]
    assert "js/messages.js" in html


def test_an_assigned_colleague_is_shown_too_but_not_oneself(client_for, front_desk, nurse, patient):
    thread = patient_thread(patient)
    services.thread_assign(thread=thread, actor=front_desk, assignee=nurse)
    url = reverse("staff_thread_detail", args=[thread.pk])
    assert pills(client_for(front_desk).get(url).content.decode()) == [
        ("patient", str(patient.pk)), ("staff", str(nurse.pk))]
    assert pills(client_for(nurse).get(url).content.decode()) == [("patient", str(patient.pk))]


def test_the_patients_own_thread_page_shows_no_presence(client_for, patient):
    thread = patient_thread(patient)
    html = client_for(patient.user).get(reverse("portal_thread_detail", args=[thread.pk])).content.decode()
    assert pills(html) == []
