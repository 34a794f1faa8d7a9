"""When PostgreSQL terminates the app's connections (a failover, a restart, an operator's
pg_terminate_backend), a real gunicorn worker with persistent connections answers the next
requests normally: Django health-checks a persistent connection at the start of each request
(CONN_HEALTH_CHECKS) and opens a new one. Measured before: the one request in flight may
answer 500, and everything after recovers within a second."""
import time
import urllib.request

import psycopg
import pytest
from django.db import connection

from tests.processes import BIN_DIR, Process, child_env, free_port, shared_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _terminate_app_backends():
    """Terminate every connection to the test database except this test's own."""
    own = connection.cursor().connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(host=params.get("host") or "127.0.0.1", port=params.get("port") or 5432, user=params.get("user"),
                         password=params.get("password") or None, dbname=params["dbname"], autocommit=True) as admin:
        return admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s", [own],
        ).fetchone()[0]


def _get(url, raw):
    request = urllib.request.Request(url, headers={"Authorization": f"Api-Key {raw}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_requests_after_postgres_dropped_the_connections_answer_normally(requires_postgres, api_key_factory, patient):
    _, raw = api_key_factory("patients:read")
    port = free_port()
    env = child_env(DATABASE_URL=shared_database_url(), CONN_MAX_AGE=600, DJANGO_SETTINGS_MODULE="clinic.settings.test")
    server = Process("gunicorn", [str(BIN_DIR / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "clinic.wsgi:application"], env)
    try:
        server.wait_for_port(port)
        url = f"http://127.0.0.1:{port}/api/v1/patients/"
        assert _get(url, raw) == 200  # the worker now holds a persistent connection

        assert _terminate_app_backends() >= 1
        started = time.monotonic()
        statuses = [_get(url, raw) for _ in range(5)]

        assert statuses == [200] * 5, statuses
        assert time.monotonic() - started < 5
    finally:
        server.stop()
