"""The patients list's cost guards (bench/http.py measures the rest): a fixed number of queries
whatever the page size, one audit entry naming every patient shown, and PatientOutput's fast
representations (of a patient, and of a row for the list) identical to DRF's generic one."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from apps.audit.models import AccessLog
from apps.patients.models import Patient
from apps.patients.serializers import PatientOutput
from tests.factories import PatientFactory, PortalPatientFactory

# API key lookup, the page with its total (RowsPagination), and the one audit entry's INSERT.
LIST_QUERIES = 3


def _list(api_client, raw, page_size):
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(f"/api/v1/patients/?page_size={page_size}", HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return response, queries


@pytest.mark.django_db
def test_patient_list_costs_the_same_number_of_queries_whatever_the_page_size(api_client, api_key_factory):
    PatientFactory.create_batch(30)
    _, raw = api_key_factory("patients:read")
    _list(api_client, raw, 1)  # first use writes last_used_at once; keep it out of the counts

    counts = {}
    for page_size in (1, 10, 30):
        response, queries = _list(api_client, raw, page_size)
        assert response.status_code == 200
        assert len(response.json()["results"]) == page_size
        counts[page_size] = len(queries)

    assert counts == {1: LIST_QUERIES, 10: LIST_QUERIES, 30: LIST_QUERIES}


@pytest.mark.django_db
def test_patient_list_writes_one_audit_entry_naming_every_patient_shown(api_client, api_key_factory):
    PatientFactory.create_batch(12)
    key, raw = api_key_factory("patients:read")

    response, _ = _list(api_client, raw, 10)

    shown = [row["id"] for row in response.json()["results"]]
    entry = AccessLog.objects.get(action="read", actor_api_key=key)
    assert [str(pid) for pid in entry.patient_ids] == shown  # in the order shown
    assert entry.detail == {"view": "api_patient_list"}
    for patient_id in shown:
        assert list(AccessLog.objects.for_patient(patient_id)) == [entry]


@pytest.mark.django_db
def test_fast_patient_output_matches_drf_generic_representation():
    full = PatientFactory(
        middle_name="Q", preferred_name="Pat", gender_identity="woman", email="p@example.test",
        phone="+12125550123", address_line1="1 Main St", address_line2="Apt 2", city="Springfield",
        state="NY", postal_code="10001", emergency_contact_name="Sam", emergency_contact_relationship="sibling",
        emergency_contact_phone="+12125550124", preferred_language="es", timezone="America/Chicago",
        sms_opt_in=False, quiet_hours_start=datetime.time(21, 0), quiet_hours_end=datetime.time(7, 30),
    )
    sparse = PatientFactory()
    with_login = PortalPatientFactory()

    for patient in (full, sparse, with_login):
        generic = serializers.ModelSerializer.to_representation(PatientOutput(), patient)
        assert PatientOutput(patient).data == dict(generic)
        assert list(PatientOutput(patient).data) == list(generic)
    assert PatientOutput(with_login).data["has_portal_login"] is True

    rows = {row["id"]: row for row in Patient.objects.for_rows().values(*PatientOutput.row_columns())}
    for patient in (full, sparse, with_login):
        generic = serializers.ModelSerializer.to_representation(PatientOutput(), patient)
        from_row = PatientOutput(rows[patient.pk]).data
        assert from_row == dict(generic)
        assert list(from_row) == list(generic)


@pytest.mark.django_db
def test_patient_list_shows_each_patient_as_retrieve_does(api_client, api_key_factory):
    PatientFactory(middle_name="Q", quiet_hours_start=datetime.time(21, 0), quiet_hours_end=datetime.time(7, 30))
    PortalPatientFactory()
    _, raw = api_key_factory("patients:read")

    response, _ = _list(api_client, raw, 10)

    assert response.json()["count"] == 2
    for item in response.json()["results"]:
        one = api_client.get(f"/api/v1/patients/{item['id']}/", HTTP_AUTHORIZATION=f"Api-Key {raw}")
        assert one.json() == item
    assert sorted(item["has_portal_login"] for item in response.json()["results"]) == [False, True]
