"""Refill race on PostgreSQL with real threads and a barrier: 20 requests for the same
medication at once, over 10 trials; exactly one is REQUESTED each trial and the others get the
409 refill_already_open (the partial unique index decides)."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.records import services
from apps.records.exceptions import RefillAlreadyOpen
from apps.records.models import RefillRequest
from tests.factories import PortalPatientFactory, StaffFactory
from tests.records.factories import medication

pytestmark = pytest.mark.django_db(transaction=True)
THREADS, TRIALS = 20, 10


def test_twenty_refill_requests_for_one_medication_at_once_leave_exactly_one_open(requires_postgres, monkeypatch):
    monkeypatch.setattr("apps.messaging.events.get_channel_layer", lambda *a, **k: None, raising=False)
    staff = StaffFactory(role="provider")
    pool = ThreadPoolExecutor(max_workers=THREADS)
    try:
        for trial in range(TRIALS):
            patient = PortalPatientFactory()
            med = medication(patient, staff)
            barrier = threading.Barrier(THREADS)

            def ask(i):
                barrier.wait(timeout=30)
                try:
                    services.refill_request_create(medication=med, actor=patient.user, pharmacy=f"Pharmacy {i}")
                    return "ok"
                except RefillAlreadyOpen:
                    return "conflict"
                except Exception as exc:  # noqa: BLE001 - any other outcome fails the test below
                    return repr(exc)
                finally:
                    connection.close()

            outcomes = [f.result(timeout=60) for f in [pool.submit(ask, i) for i in range(THREADS)]]
            assert outcomes.count("ok") == 1, (trial, outcomes)
            assert outcomes.count("conflict") == THREADS - 1, (trial, outcomes)
            assert RefillRequest.objects.filter(medication=med, status="REQUESTED").count() == 1
    finally:
        pool.shutdown()
