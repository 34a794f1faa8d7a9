"""The hourly purge of saved Idempotency-Key answers (services/idempotency.py): records older
than SCHEDULING_IDEMPOTENCY_KEEP_HOURS go, younger ones stay and still replay; a key whose
answer was purged runs as a new request."""
import datetime

from django.utils import timezone

from apps.core.periodic import declared
from apps.scheduling import tasks
from apps.scheduling.models import IdempotencyRecord, Visit
from apps.scheduling.services import idempotency
from tests.scheduling.api_support import API, integrator  # noqa: F401

VISITS = f"{API}/visits/"


def book(client, patient, slot, visit_type, key):
    return client.post(VISITS, {"patient": str(patient.pk), "slot": str(slot.pk), "visit_type": str(visit_type.pk)},
                       format="json", HTTP_IDEMPOTENCY_KEY=key)


def age(key, hours):
    IdempotencyRecord.objects.filter(key=key).update(created_at=timezone.now() - datetime.timedelta(hours=hours))


def test_the_purge_is_declared_hourly():
    job = {job.name: job for job in declared()}["scheduling.purge_idempotency_records"]
    assert (job.task, job.every_seconds) == ("scheduling.purge_idempotency_records", 3600)


def test_answers_older_than_a_day_are_purged_and_younger_ones_still_replay(integrator, patient, make_slot, visit_type):
    old_slot, young_slot = make_slot(), make_slot(hours_from_now=30)
    assert book(integrator, patient, old_slot, visit_type, "old").status_code == 201
    assert book(integrator, patient, young_slot, visit_type, "young").status_code == 201
    age("old", 24.1)
    age("young", 23.9)

    assert tasks.purge_idempotency_records() == 1

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]
    replay = book(integrator, patient, young_slot, visit_type, "young")
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    # The purged key is a new request now: the slot it booked is taken, so it is refused.
    again = book(integrator, patient, old_slot, visit_type, "old")
    assert again.status_code == 409 and "Idempotent-Replayed" not in again.headers
    assert Visit.objects.filter(patient=patient).count() == 2
    assert tasks.purge_idempotency_records() == 0


def test_a_backlog_is_purged_in_chunks(integrator, patient, make_slot, visit_type, monkeypatch, settings):
    settings.SCHEDULING_IDEMPOTENCY_KEEP_HOURS = 1
    for i in range(5):
        assert book(integrator, patient, make_slot(hours_from_now=30 + i), visit_type, f"k{i}").status_code == 201
    IdempotencyRecord.objects.update(created_at=timezone.now() - datetime.timedelta(hours=2))
    monkeypatch.setattr(idempotency, "PURGE_CHUNK", 2)

    assert idempotency.idempotency_records_purge() == 5
    assert not IdempotencyRecord.objects.exists()
    assert Visit.objects.filter(patient=patient).count() == 5  # the visits themselves stay
