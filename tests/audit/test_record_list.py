"""record_list: a list page is one access-log entry naming every patient it showed, found by
"who viewed this patient" (AccessLog.objects.for_patient) like a single read, in one indexed
query on PostgreSQL (patient_id's b-tree OR patient_ids' GIN). Rows written before migration
0004 are kept and still found."""
import uuid
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from apps.audit import context as audit_context
from apps.audit.models import AccessLog
from apps.audit.services import record, record_list, record_many
from apps.patients.models import Patient
from tests.factories import PatientFactory


@pytest.fixture
def request_context(db):
    token = audit_context.activate(audit_context.AuditContext(
        ip="203.0.113.7", user_agent="Integrator/2.0", request_id="req-42", path="/api/v1/patients/",
    ))
    yield audit_context.current()
    audit_context.deactivate(token)


def test_a_page_is_one_entry_with_every_patient_shown_in_one_query(request_context, api_key_factory):
    key, _ = api_key_factory("patients:read", name="acme")
    audit_context.set_actor_api_key(key)
    patients = PatientFactory.create_batch(5)
    rows = list(Patient.objects.filter(pk__in=[p.pk for p in patients]).order_by("last_name", "id").values("id", "mrn"))

    with CaptureQueriesContext(connection) as queries:
        entry_id = record_list("read", rows, model=Patient, detail={"view": "api_patient_list"})

    assert len(queries) == 1
    entry = AccessLog.objects.get()
    assert entry.pk == entry_id
    assert entry.patient_ids == [r["id"] for r in rows]  # in page order
    assert (entry.action, entry.object_type, entry.object_id, entry.patient_id) == ("read", "patients.patient", "", None)
    assert (entry.actor_api_key, entry.actor_user, entry.actor_label, entry.role) == (key, None, "api-key:acme", "integrator")
    assert (entry.ip, entry.user_agent, entry.request_id, entry.path) == ("203.0.113.7", "Integrator/2.0", "req-42",
                                                                          "/api/v1/patients/")
    assert entry.detail == {"view": "api_patient_list"} and entry.at is not None


def test_objects_of_another_model_name_their_patients_once_each(db):
    alice, bob = PatientFactory.create_batch(2)
    visits = [SimpleNamespace(pk=uuid.uuid4(), patient_id=pid, _meta=SimpleNamespace(label_lower="scheduling.visit"))
              for pid in (alice.pk, bob.pk, alice.pk)]

    entry = AccessLog.objects.get(pk=record_list("read", visits))

    assert entry.object_type == "scheduling.visit"
    assert entry.patient_ids == [alice.pk, bob.pk]
    assert entry.actor_label == "system"


def test_an_empty_page_writes_nothing(db):
    assert record_list("read", []) is None
    assert not AccessLog.objects.exists()


def test_who_viewed_a_patient_finds_single_reads_list_pages_and_older_per_row_reads(db):
    alice, bob, carol = PatientFactory.create_batch(3)
    single = record("read", alice)
    per_row = record_many("read", [alice, bob])  # how list pages were logged before
    listing = AccessLog.objects.get(pk=record_list("read", [bob, alice]))
    record("read", carol)

    with CaptureQueriesContext(connection) as queries:
        found = set(AccessLog.objects.for_patient(alice.pk))

    assert len(queries) == 1
    assert found == {single, listing, *AccessLog.objects.filter(pk__in=per_row, patient_id=alice.pk)}
    assert set(AccessLog.objects.for_patient(carol.pk).values_list("patient_id", flat=True)) == {carol.pk}
    assert set(AccessLog.objects.for_patient(uuid.uuid4())) == set()


def test_who_viewed_a_patient_is_answered_by_the_two_indexes(requires_postgres):
    patient = PatientFactory()
    record("read", patient)
    record_list("read", [patient, PatientFactory()])
    query = AccessLog.objects.for_patient(patient.pk).only("id")

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the planner show its indexes
        sql, params = query.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "audit_accesslog_patient_ids_gin" in plan, plan
    assert "audit_accesslog_patient_id" in plan, plan
    assert "BitmapOr" in plan, plan


def test_the_column_is_an_array_on_postgresql(requires_postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT data_type FROM information_schema.columns WHERE table_name = 'audit_accesslog' "
                       "AND column_name = 'patient_ids'")
        assert cursor.fetchone() == ("ARRAY",)


BEFORE = [("audit", "0003_lean_indexes")]
AFTER = [("audit", "0004_list_entries")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_0004_are_kept_and_found(db):
    alice, bob = PatientFactory.create_batch(2)
    try:
        old = _migrate(BEFORE)
        OldLog = old.get_model("audit", "AccessLog")
        old_rows = [OldLog.objects.create(action="read", object_type="patients.patient", object_id=str(p.pk), patient_id=p.pk,
                                          actor_label="nurse@example.test", detail={"view": "staff_patient_list"})
                    for p in (alice, bob)]
        _migrate(AFTER)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    kept = AccessLog.objects.filter(pk__in=[r.pk for r in old_rows]).order_by("id")
    assert [(r.patient_id, r.object_id, r.patient_ids, r.actor_label, r.detail) for r in kept] == [
        (p.pk, str(p.pk), None, "nurse@example.test", {"view": "staff_patient_list"}) for p in (alice, bob)]
    listing = AccessLog.objects.get(pk=record_list("read", [alice]))
    assert set(AccessLog.objects.for_patient(alice.pk)) == {kept[0], listing}
