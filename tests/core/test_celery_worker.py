"""A real Celery worker process against Redis (broker and result backend), not eager mode:
eager mode hides acknowledgement and serialization problems (NOTES.md)."""
import pytest

from apps.core.models import Heartbeat
from apps.core.tasks import heartbeat
from clinic.celery import app
from tests.processes import child_env, shared_database_url, start_celery_worker, unique


def test_tasks_are_acknowledged_late_and_requeued_when_the_worker_dies():
    """NOTES.md: acks_late alone still acknowledges when the child process is killed."""
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_always_eager is False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_heartbeat_sent_to_its_queue(redis_url):
    database_url = shared_database_url()
    # Our own queue and worker name: others may run workers against the same Redis.
    queue = unique("test-queue")
    name = unique("heartbeat")
    env = child_env(REDIS_URL=redis_url, DATABASE_URL=database_url, CHANNELS_PREFIX=queue, CACHE_PREFIX=queue)
    assert app.conf.broker_url.startswith("redis://") and app.conf.result_backend.startswith("redis://")

    worker = start_celery_worker(env, queue)
    try:
        worker.wait_for_output(" ready.", timeout=90)

        result = heartbeat.apply_async(kwargs={"name": name}, queue=queue)
        returned = result.get(timeout=60)

        assert result.successful()
        row = Heartbeat.objects.get(name=name)
        assert row.at.isoformat() == returned
    finally:
        worker.stop()
