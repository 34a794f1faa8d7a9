"""record_many: one row per object, in one statement, with the request's actor and context, on
PostgreSQL (INSERT ... SELECT FROM unnest) and SQLite (bulk_create) alike."""
import uuid
from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.audit import context as audit_context
from apps.audit.models import AccessLog
from apps.audit.services import record_many
from tests.factories import PatientFactory


@pytest.fixture
def request_context(db):
    token = audit_context.activate(audit_context.AuditContext(
        ip="203.0.113.7", user_agent="Integrator/2.0", request_id="req-42", path="/api/v1/patients/",
    ))
    yield audit_context.current()
    audit_context.deactivate(token)


def test_one_row_per_object_with_the_key_as_actor_in_one_query(request_context, api_key_factory):
    key, _ = api_key_factory("patients:read", name="acme")
    audit_context.set_actor_api_key(key)
    patients = PatientFactory.create_batch(5)

    with CaptureQueriesContext(connection) as queries:
        ids = record_many("read", patients, detail={"view": "api_patient_list"})

    assert len(queries) == 1
    assert len(ids) == 5
    rows = AccessLog.objects.filter(pk__in=ids).order_by("id")
    assert sorted(r.patient_id for r in rows) == sorted(p.pk for p in patients)
    for row in rows:
        assert row.action == "read"
        assert row.object_type == "patients.patient" and row.object_id == str(row.patient_id)
        assert row.actor_api_key == key and row.actor_user is None
        assert row.actor_label == "api-key:acme" and row.role == "integrator"
        assert row.ip == "203.0.113.7" and row.user_agent == "Integrator/2.0"
        assert row.request_id == "req-42" and row.path == "/api/v1/patients/"
        assert row.detail == {"view": "api_patient_list"}
        assert row.at is not None


def test_a_staff_actor_is_recorded(request_context, nurse):
    request_context.user = nurse

    ids = record_many("read", [PatientFactory()])

    row = AccessLog.objects.get(pk=ids[0])
    assert row.actor_user == nurse and row.actor_api_key is None
    assert row.actor_label == nurse.email and row.role == "nurse"
    assert row.detail == {}


def test_objects_other_than_patients_carry_their_patient_id(db):
    patient = PatientFactory()
    other = SimpleNamespace(pk=uuid.uuid4(), patient_id=patient.pk, _meta=SimpleNamespace(label_lower="scheduling.visit"))

    ids = record_many("read", [patient, other])

    rows = {r.object_type: r for r in AccessLog.objects.filter(pk__in=ids)}
    assert rows["scheduling.visit"].patient_id == patient.pk
    assert rows["scheduling.visit"].object_id == str(other.pk)
    assert rows["scheduling.visit"].actor_label == "system"


def test_without_a_request_the_system_is_the_actor(db):
    ids = record_many("read", PatientFactory.create_batch(2))

    assert {(r.actor_label, r.role) for r in AccessLog.objects.filter(pk__in=ids)} == {("system", "system")}


def test_a_value_too_long_for_its_column_is_refused_not_cut(requires_postgres):
    # An explicit cast to varchar(64) would cut silently; the column's own check refuses.
    too_long = SimpleNamespace(pk=1, _meta=SimpleNamespace(label_lower="x" * 65))

    with pytest.raises(DatabaseError), transaction.atomic():
        record_many("read", [too_long])


def test_the_access_log_keeps_only_the_indexes_its_searches_need(requires_postgres):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, AccessLog._meta.db_table)
    indexed = sorted(tuple(c["columns"]) for c in constraints.values() if c["index"] or c["primary_key"])

    assert indexed == sorted([
        ("id",), ("at",), ("patient_id",), ("patient_ids",), ("request_id",), ("actor_user_id", "at"),
        ("actor_api_key_id", "at"),
    ])
    gin = [c for c in constraints.values() if c["columns"] == ["patient_ids"]]
    assert [c["type"] for c in gin] == ["gin"]
