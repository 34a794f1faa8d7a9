"""Core's periodic job (the worker heartbeat) and the liveness of worker processes.

Process liveness
----------------
Every Celery worker process that runs tasks (each prefork child, or the solo pool's one
process) keeps a Heartbeat row of its own, named ``process:<host>:<pid>:<random>``, written
every PROCESS_BEAT_SECONDS by a daemon thread that starts with the process
(``worker_process_init``). Work a process claims carries that name (the outbox's
``claimed_by``), so a reaper can tell a dead claimer from a busy one in seconds instead of
waiting out a fixed timeout: a process whose row is older than PROCESS_STALE_SECONDS is gone.
The beat thread lives and dies with the process that does the work (SIGKILL, OOM, a hard
time limit), and prefork children die with their main process (Celery gives them SIGKILL as
their parent-death signal), so a killed worker's rows go stale at once.

A process whose own beats keep failing (database down) stops naming itself on new claims
(current_process_id() answers ""): such claims fall back to the caller's fixed timeout.
Outside a worker (web, shell, tests) there is no beat thread and the name is "" too.
"""
import logging
import os
import socket
import threading
import time
import uuid
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.core.models import Heartbeat
from apps.core.periodic import Periodic

log = logging.getLogger(__name__)

PERIODIC_TASKS = [
    Periodic(name="core.heartbeat", task="core.heartbeat", every_seconds=60),
]

PROCESS_PREFIX = "process:"
# A beat every few seconds; a process silent for PROCESS_STALE_SECONDS is presumed dead. The
# stale time must exceed the longest single provider call (MESSAGING_PROVIDER_TIMEOUT_SECONDS,
# 15 s by default): a reaper also waits that long after the claim's last refresh.
PROCESS_BEAT_SECONDS = settings.WORKER_PROCESS_BEAT_SECONDS
PROCESS_STALE_SECONDS = settings.WORKER_PROCESS_STALE_SECONDS
# Rows of processes gone this long are deleted by the periodic heartbeat.
PROCESS_FORGET_AFTER = timedelta(hours=1)


@shared_task(name="core.heartbeat", ignore_result=False)
def heartbeat(name="worker"):
    """Record that a worker ran a job now; forget the rows of processes gone for an hour.
    Returns the time as ISO text."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name=name, defaults={"at": now})
    Heartbeat.objects.filter(name__startswith=PROCESS_PREFIX, at__lt=now - PROCESS_FORGET_AFTER).delete()
    return now.isoformat()


# --- process liveness -----------------------------------------------------------------------

class ProcessBeat:
    """The heartbeat of this process: a daemon thread that writes its row every
    PROCESS_BEAT_SECONDS on the thread's own database connection."""

    def __init__(self):
        self.pid = os.getpid()
        self.name = f"{PROCESS_PREFIX}{socket.gethostname()[:24]}:{self.pid}:{uuid.uuid4().hex[:8]}"
        self.last_ok = None  # monotonic time of the last beat written
        self.first = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="process-beat", daemon=True)

    def beat(self):
        now = timezone.now()
        if not Heartbeat.objects.filter(name=self.name).update(at=now):
            Heartbeat.objects.create(name=self.name, at=now)
        self.last_ok = time.monotonic()

    def _run(self):
        while not self.stop.is_set():
            try:
                self.beat()
            except Exception:  # the database is away: try again next beat on a new connection
                log.warning("process heartbeat %s not written", self.name, exc_info=True)
                connection.close()
            finally:
                self.first.set()
            self.stop.wait(PROCESS_BEAT_SECONDS)
        connection.close()

    def alive(self):
        """Have our own beats been written lately (so a reaper sees us alive)?"""
        return self.last_ok is not None and time.monotonic() - self.last_ok < PROCESS_STALE_SECONDS / 2


_beat = None


def process_beat_start():
    """Start this process's heartbeat (once per process; a forked child starts its own) and
    wait briefly for its first row. Returns the ProcessBeat."""
    global _beat
    if _beat is None or _beat.pid != os.getpid():
        _beat = ProcessBeat()
        _beat.thread.start()
        _beat.first.wait(PROCESS_BEAT_SECONDS)
    return _beat


def process_beat_stop():
    global _beat
    if _beat is not None and _beat.pid == os.getpid():
        _beat.stop.set()
        _beat.thread.join(PROCESS_BEAT_SECONDS + 1)
    _beat = None


def current_process_id():
    """This process's heartbeat name while its beats are being written, else "" (not a worker
    process, or a process that cannot reach the database to prove it is alive)."""
    beat = _beat
    if beat is None or beat.pid != os.getpid() or not beat.alive():
        return ""
    return beat.name


def fresh_process_beats(now=None):
    """Heartbeat rows of processes alive now (beat within PROCESS_STALE_SECONDS)."""
    now = now or timezone.now()
    return Heartbeat.objects.filter(name__startswith=PROCESS_PREFIX, at__gte=now - timedelta(seconds=PROCESS_STALE_SECONDS))


@worker_process_init.connect(dispatch_uid="core.process_beat_start")
def _start_beat_in_worker_process(**kwargs):
    # Sent in every prefork child after the fork, and once by the solo pool.
    process_beat_start()
