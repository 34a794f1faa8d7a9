"""Times a patient reads are on their own clock (their timezone, else the clinic's: core's
zone_for), on the thread pages, the notification list and the live socket; staff read the
clinic's clock."""
import datetime
import zoneinfo

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse
from django.utils import dateformat

from apps.messaging.models import Notification
from apps.messaging.reminders import format_visit_time
from apps.messaging.threads import services
from apps.messaging.threads.models import Message, Thread
from tests import ws
from tests.messaging.thread_helpers import patient_thread, private_attachment_root  # noqa: F401
from tests.ws import own_channel_layer, run, session_cookie  # noqa: F401

UTC = datetime.timezone.utc
LA = zoneinfo.ZoneInfo("America/Los_Angeles")
CLINIC = zoneinfo.ZoneInfo("America/New_York")  # settings.TIME_ZONE, the clinic's
# 18:30 UTC on 2 March 2026: 10:30 a.m. in Los Angeles, 1:30 p.m. at the clinic.
AT = datetime.datetime(2026, 3, 2, 18, 30, tzinfo=UTC)


@pytest.fixture
def la_patient(patient):
    patient.timezone = "America/Los_Angeles"
    patient.save(update_fields=["timezone"])
    return patient


def reply_at(thread, staff, when, body="Your results are normal."):
    message = services.message_post(thread=thread, body=body, author=staff)
    Message.objects.filter(pk=message.pk).update(created_at=when)
    Thread.objects.filter(pk=thread.pk).update(last_message_at=when, last_staff_message_at=when)
    return message


@pytest.mark.django_db
def test_a_patient_in_los_angeles_sees_a_thread_message_at_their_time(client_for, la_patient, front_desk):
    thread = patient_thread(la_patient)
    reply_at(thread, front_desk, AT)

    page = client_for(la_patient.user).get(reverse("portal_thread_detail", args=[thread.pk]))
    inbox = client_for(la_patient.user).get(reverse("portal_thread_list"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Your results are normal." in html
    assert "Mar 2, 2026, 10:30 a.m." in html and "1:30 p.m." not in html
    assert 'datetime="2026-03-02T10:30:00-08:00"' in html
    assert inbox.status_code == 200 and "Mar 2, 10:30 a.m." in inbox.content.decode()


@pytest.mark.django_db
def test_staff_see_the_same_message_at_the_clinics_time(client_for, la_patient, front_desk):
    thread = patient_thread(la_patient)
    reply_at(thread, front_desk, AT)

    page = client_for(front_desk).get(reverse("staff_thread_detail", args=[thread.pk]))
    inbox = client_for(front_desk).get(reverse("staff_thread_list"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Your results are normal." in html
    assert "Mar 2, 2026, 1:30 p.m." in html and "10:30 a.m." not in html
    assert inbox.status_code == 200 and "Mar 2, 1:30 p.m." in inbox.content.decode()


@pytest.mark.django_db
def test_a_patient_without_a_usable_timezone_reads_the_clinics_clock(client_for, patient, front_desk):
    patient.timezone = ""
    patient.save(update_fields=["timezone"])
    thread = patient_thread(patient)
    reply_at(thread, front_desk, AT)

    html = client_for(patient.user).get(reverse("portal_thread_detail", args=[thread.pk])).content.decode()

    assert "Mar 2, 2026, 1:30 p.m." in html
    assert format_visit_time(patient, AT) == "Mon 2 Mar 2026, 13:30"


@pytest.mark.django_db
def test_a_patients_notification_list_is_on_their_clock(client_for, la_patient):
    Notification.objects.create(recipient=la_patient.user, kind="k", title="Your visit is booked", created_at=AT)

    response = client_for(la_patient.user).get(reverse("notification_list"))

    assert response.status_code == 200
    assert "Your visit is booked" in response.content.decode()
    assert 'datetime="2026-03-02T10:30:00-08:00"' in response.content.decode()


@pytest.mark.django_db
def test_visit_reminders_show_the_time_on_the_patients_clock(la_patient):
    assert format_visit_time(la_patient, AT) == "Mon 2 Mar 2026, 10:30"


def shown(dt, zone):
    return dateformat.format(dt.astimezone(zone), "M j, Y, g:i a")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_channel_layer")
def test_the_live_message_is_displayed_on_each_sides_clock(la_patient, front_desk):
    thread = patient_thread(la_patient)
    patient_cookie, staff_cookie = session_cookie(la_patient.user), session_cookie(front_desk)

    async def watching(cookie):
        comm = ws.communicator("/ws/messages/", cookie)
        accepted, _ = await comm.connect(timeout=5)
        assert accepted and (await comm.receive_json_from(timeout=5))["type"] == "hello"
        await comm.send_json_to({"action": "watch", "thread": str(thread.pk)})
        assert (await comm.receive_json_from(timeout=5))["type"] == "watching"
        return comm

    got = {}

    async def scenario():
        mine, staff = await watching(patient_cookie), await watching(staff_cookie)
        got["message"] = await database_sync_to_async(services.message_post)(thread=thread, body="See you Monday.", author=front_desk)
        got["patient"] = (await mine.receive_json_from(timeout=5))["message"]
        got["staff"] = (await staff.receive_json_from(timeout=5))["message"]
        await mine.disconnect()
        await staff.disconnect()

    run(scenario)
    message, for_patient, for_staff = got["message"], got["patient"], got["staff"]

    assert for_patient["body"] == for_staff["body"] == "See you Monday."
    assert for_patient["created_display"] == shown(message.created_at, LA)
    assert for_staff["created_display"] == shown(message.created_at, CLINIC)
    assert for_patient["created_display"] != for_staff["created_display"]
