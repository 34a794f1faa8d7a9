"""The periodic jobs: waiting-room timeout, no-show after the grace period, sessions left
open. Called directly; a second run does nothing."""
import datetime

import pytest
from django.utils import timezone

from apps.core.periodic import declared
from apps.scheduling.models import Visit
from apps.telehealth import services, tasks
from apps.telehealth.models import TelehealthSession, WaitingRoomEntry
from tests.telehealth.factories import in_call, session_for, waiting

pytestmark = pytest.mark.django_db
S = TelehealthSession.Status


def test_the_jobs_are_declared_for_beat():
    names = {job.name for job in declared()}
    assert {"telehealth.waiting_room_timeouts", "telehealth.no_shows", "telehealth.end_left_open"} <= names


def test_a_patient_waiting_too_long_is_timed_out_once(patient, settings):
    settings.TELEHEALTH_WAITING_TIMEOUT_MINUTES = 30
    session = session_for(patient)
    entry = waiting(session)
    assert services.waiting_room_timeouts(now=timezone.now() + datetime.timedelta(minutes=20)) == 0
    assert services.waiting_room_timeouts(now=timezone.now() + datetime.timedelta(minutes=31)) == 1
    assert services.waiting_room_timeouts(now=timezone.now() + datetime.timedelta(minutes=31)) == 0
    entry.refresh_from_db()
    session.refresh_from_db()
    assert entry.status == WaitingRoomEntry.Status.TIMED_OUT and session.status == S.SCHEDULED
    assert entry.events.filter(to_status="TIMED_OUT", actor_label="system").exists()


def test_a_patient_who_never_joined_is_a_no_show_after_the_grace_with_the_visit(patient, settings):
    settings.TELEHEALTH_NO_SHOW_GRACE_MINUTES = 15
    session = session_for(patient, minutes_ahead=1)
    after_grace = session.scheduled_start + datetime.timedelta(minutes=16)
    assert services.sessions_no_show(now=session.scheduled_start + datetime.timedelta(minutes=10)) == 0
    assert tasks.no_shows.run() == 0  # the task, now: still inside the grace
    assert services.sessions_no_show(now=after_grace) == 1
    assert services.sessions_no_show(now=after_grace) == 0
    session.refresh_from_db()
    assert session.status == S.NO_SHOW
    assert Visit.objects.get(pk=session.visit_id).status == Visit.Status.NO_SHOW


def test_a_patient_in_the_waiting_room_is_not_a_no_show(patient):
    session = session_for(patient, minutes_ahead=1)
    waiting(session)
    assert services.sessions_no_show(now=session.scheduled_start + datetime.timedelta(hours=1)) == 0


def test_a_call_left_open_is_completed_by_the_job_with_its_visit(patient, settings):
    settings.TELEHEALTH_END_OPEN_AFTER_MINUTES = 60
    session = in_call(session_for(patient))
    late = session.scheduled_end + datetime.timedelta(minutes=61)
    assert services.sessions_end_left_open(now=session.scheduled_end) == 0
    assert services.sessions_end_left_open(now=late) == 1
    assert services.sessions_end_left_open(now=late) == 0
    session.refresh_from_db()
    assert session.status == S.COMPLETED and session.end_reason.startswith("Ended by the system")
    assert Visit.objects.get(pk=session.visit_id).status == Visit.Status.COMPLETED


def test_a_waiting_patient_never_admitted_is_technical_issues_after_the_end(patient, settings):
    settings.TELEHEALTH_END_OPEN_AFTER_MINUTES = 60
    settings.TELEHEALTH_WAITING_TIMEOUT_MINUTES = 600
    session = session_for(patient)
    waiting(session)
    assert services.sessions_end_left_open(now=session.scheduled_end + datetime.timedelta(minutes=61)) == 1
    session.refresh_from_db()
    assert session.status == S.TECHNICAL_ISSUES
    assert WaitingRoomEntry.objects.get(session=session).status == WaitingRoomEntry.Status.LEFT
