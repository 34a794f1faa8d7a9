"""Helpers for tests that start real server and worker processes (daphne, celery).

Every wait is bounded, every process is started in its own process group and killed in
teardown, and its output goes to a file that is shown when a wait fails.
"""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.services import missing

BASE_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shared_database_url():
    """A DATABASE_URL for the test database pytest-django created, for child processes.

    Only a database another process can open will do: PostgreSQL, or a SQLite file. With an
    in-memory SQLite test database (the default without DATABASE_URL) the test is skipped
    locally and fails in CI.
    """
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(settings_dict.get("USER") or "", safe="")
        password = settings_dict.get("PASSWORD") or ""
        auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return f"sqlite:///{settings_dict['NAME']}"
    missing("child processes need a shared test database (PostgreSQL or a SQLite file)")


class Process:
    """A child process with its output in a temporary file."""

    def __init__(self, name, argv, env):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)
        self.popen = subprocess.Popen(
            argv, env=env, cwd=BASE_DIR, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self):
        return Path(self.log.name).read_text(errors="replace")

    def fail(self, message):
        pytest.fail(f"{self.name}: {message}\n--- output (end) ---\n{self.output()[-4000:]}", pytrace=False)

    def wait_for_port(self, port, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                self.fail(f"exited with {self.popen.returncode} before listening on {port}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
            time.sleep(0.1)
        self.fail(f"not listening on {port} after {timeout}s")

    def wait_for_output(self, text, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.popen.poll() is not None:
                self.fail(f"exited with {self.popen.returncode} before printing {text!r}")
            time.sleep(0.2)
        self.fail(f"did not print {text!r} within {timeout}s")

    def stop(self, timeout=10):
        """SIGTERM the whole process group, then SIGKILL what is left."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout)
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)


def child_env(**extra):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.test",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_daphne(env, name="daphne"):
    """daphne on a free port; returns (Process, port). Call process.wait_for_port(port)."""
    port = free_port()
    argv = [str(BIN_DIR / "daphne"), "-b", "127.0.0.1", "-p", str(port), "clinic.asgi:application"]
    return Process(name, argv, env), port


def start_celery_worker(env, queue, name="celery"):
    """A celery worker consuming only `queue` (solo pool, one task at a time). Call
    process.wait_for_output(" ready.") before sending it work."""
    argv = [
        str(BIN_DIR / "celery"), "-A", "clinic", "worker",
        "--pool=solo", "--concurrency=1", "-Q", queue, "-n", f"{queue}@%h",
        "--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel=INFO",
    ]
    return Process(name, argv, env)


def require_redis_url():
    """Like the redis_url fixture, for module-scoped fixtures."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        missing("needs Redis (set REDIS_URL)")
    return url
