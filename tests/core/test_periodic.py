"""sync_periodic_tasks: the jobs declared in code (PERIODIC_TASKS in each app's tasks.py) are
written into django-celery-beat, idempotently, and a job no longer declared is disabled."""
import io
import json

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.core import periodic
from apps.core.periodic import PREFIX, Periodic

pytestmark = pytest.mark.django_db


def sync():
    out = io.StringIO()
    call_command("sync_periodic_tasks", stdout=out)
    return out.getvalue()


def ours():
    return PeriodicTask.objects.filter(name__startswith=PREFIX)


def snapshot():
    return sorted(
        ours().values_list("name", "task", "kwargs", "enabled", "interval_id", "crontab_id", "last_run_at")
    )


def test_every_declared_job_gets_exactly_one_periodic_task():
    declared = periodic.declared()
    assert any(job.name == "core.heartbeat" for job in declared)

    output = sync()

    assert output.strip() == f"periodic tasks: {len(declared)} created, 0 updated, 0 disabled"

    assert sorted(ours().values_list("name", flat=True)) == sorted(PREFIX + job.name for job in declared)
    heartbeat = PeriodicTask.objects.get(name=PREFIX + "core.heartbeat")
    assert heartbeat.task == "core.heartbeat"
    assert heartbeat.enabled
    assert heartbeat.interval.every == 60
    assert heartbeat.interval.period == IntervalSchedule.SECONDS
    assert heartbeat.crontab is None


def test_declared_tasks_are_registered_celery_tasks():
    from clinic.celery import app

    app.loader.import_default_modules()
    for job in periodic.declared():
        assert job.task in app.tasks, job.task


def test_running_the_command_twice_changes_nothing():
    sync()
    before = snapshot()
    schedules = (IntervalSchedule.objects.count(), CrontabSchedule.objects.count())

    sync()

    assert snapshot() == before
    assert (IntervalSchedule.objects.count(), CrontabSchedule.objects.count()) == schedules


def test_a_second_run_reports_updates_not_creations():
    created, updated, disabled = periodic.sync_periodic_tasks()
    assert created and not updated and not disabled

    created, updated, disabled = periodic.sync_periodic_tasks()
    assert not created and not disabled
    assert sorted(updated) == sorted(PREFIX + job.name for job in periodic.declared())


def test_a_job_removed_from_the_declarations_is_disabled_not_deleted(monkeypatch):
    extra = Periodic(name="test.nightly", task="core.heartbeat", crontab={"minute": "15", "hour": "3"}, kwargs={"name": "nightly"})
    real = periodic.declared()
    monkeypatch.setattr(periodic, "declared", lambda: [*real, extra])
    sync()
    nightly = PeriodicTask.objects.get(name=PREFIX + "test.nightly")
    assert nightly.enabled
    assert (nightly.crontab.minute, nightly.crontab.hour, str(nightly.crontab.timezone)) == ("15", "3", "UTC")
    assert json.loads(nightly.kwargs) == {"name": "nightly"}

    monkeypatch.setattr(periodic, "declared", lambda: real)
    created, updated, disabled = periodic.sync_periodic_tasks()

    assert disabled == [PREFIX + "test.nightly"]
    nightly.refresh_from_db()
    assert not nightly.enabled
    assert PeriodicTask.objects.get(name=PREFIX + "core.heartbeat").enabled
    # Declared again (a rollback), it is enabled again: the same row, not a second one.
    monkeypatch.setattr(periodic, "declared", lambda: [*real, extra])
    sync()
    assert PeriodicTask.objects.filter(name=PREFIX + "test.nightly").count() == 1
    nightly.refresh_from_db()
    assert nightly.enabled


def test_a_changed_schedule_updates_the_same_row(monkeypatch):
    sync()
    row = PeriodicTask.objects.get(name=PREFIX + "core.heartbeat")

    monkeypatch.setattr(periodic, "declared", lambda: [Periodic(name="core.heartbeat", task="core.heartbeat", every_seconds=30)])
    sync()

    changed = PeriodicTask.objects.get(name=PREFIX + "core.heartbeat")
    assert changed.pk == row.pk
    assert changed.interval.every == 30


def test_jobs_created_by_hand_in_the_admin_are_left_alone():
    schedule = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.create(name="hand-made report", task="core.heartbeat", interval=schedule)

    sync()
    sync()

    assert PeriodicTask.objects.get(name="hand-made report").enabled
