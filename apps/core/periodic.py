"""Periodic jobs are declared in code, next to their task, as PERIODIC_TASKS in an app's
tasks.py, and written into django-celery-beat by `manage.py sync_periodic_tasks` (run at
release). The command is idempotent: update_or_create by name, never delete-all."""
import importlib
import json
from dataclasses import dataclass, field

from django.apps import apps as django_apps
from django.db import transaction

PREFIX = "clinic:"


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    every_seconds: int | None = None
    crontab: dict = field(default_factory=dict)  # minute, hour, day_of_week, ... (UTC)
    kwargs: dict = field(default_factory=dict)


def declared():
    found = []
    for config in django_apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name == f"{config.name}.tasks":
                continue
            raise
        found.extend(getattr(module, "PERIODIC_TASKS", []))
    return found


@transaction.atomic
def sync_periodic_tasks():
    """Write every declared job into django-celery-beat; disable (not delete) ours that are no
    longer declared. Returns (created, updated, disabled) names."""
    # django-celery-beat's models, imported here because this module is imported by apps'
    # tasks.py files, which may load before the app registry is ready.
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    created, updated = [], []
    names = set()
    for job in declared():
        name = PREFIX + job.name
        names.add(name)
        defaults = {"task": job.task, "kwargs": json.dumps(job.kwargs), "enabled": True, "interval": None, "crontab": None}
        if job.every_seconds:
            defaults["interval"], _ = IntervalSchedule.objects.get_or_create(every=job.every_seconds, period=IntervalSchedule.SECONDS)
        else:
            spec = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*", **job.crontab}
            defaults["crontab"], _ = CrontabSchedule.objects.get_or_create(timezone="UTC", **spec)
        _, was_created = PeriodicTask.objects.update_or_create(name=name, defaults=defaults)
        (created if was_created else updated).append(name)
    stale = PeriodicTask.objects.filter(name__startswith=PREFIX, enabled=True).exclude(name__in=names)
    disabled = list(stale.values_list("name", flat=True))
    stale.update(enabled=False)
    return created, updated, disabled
