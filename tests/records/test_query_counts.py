"""Lists cost a fixed number of queries whatever their length: the API lists, the portal's labs
and medications, and "Who viewed my record"."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AccessLog
from apps.records import services
from tests.conftest import api_keyed_client
from tests.records.factories import lab, medication

pytestmark = pytest.mark.django_db


def _count(fn):
    fn()  # once first: a key's last_used_at and a session's first save happen on the first request only
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(patient, user, n):
    for i in range(n):
        med = medication(patient, user, name=f"Med {i}")
        services.refill_request_create(medication=med, actor=patient.user, pharmacy="A")
        lab(patient, user, release=True, days_ago=i + 1)


@pytest.mark.parametrize("url", ["/api/v1/records/lab-results/", "/api/v1/records/medications/",
                                 "/api/v1/records/refill-requests/"])
def test_api_lists_cost_the_same_for_2_and_12_rows(url, patient, provider_user, api_key_factory):
    client = api_keyed_client(api_key_factory("records:read")[1])
    _grow(patient, provider_user, 2)
    small = _count(lambda: client.get(url))
    _grow(patient, provider_user, 10)
    assert _count(lambda: client.get(url)) == small


@pytest.mark.parametrize("url", ["/portal/records/labs/", "/portal/records/medications/", "/portal/records/viewers/"])
def test_portal_lists_cost_the_same_for_2_and_12_rows(url, client_for, patient, provider_user):
    client = client_for(patient.user)

    def staff_reads(n):
        AccessLog.objects.bulk_create([AccessLog(actor_user=provider_user, role="provider", action="read",
                                                 object_type="records.labresult", object_id=str(i), patient_id=patient.pk)
                                       for i in range(n)])

    _grow(patient, provider_user, 2)
    staff_reads(2)
    small = _count(lambda: client.get(url))
    _grow(patient, provider_user, 10)
    staff_reads(10)
    assert _count(lambda: client.get(url)) == small
