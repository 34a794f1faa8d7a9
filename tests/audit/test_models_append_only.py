"""The access log is append-only: the model and its querysets refuse changes, and on
PostgreSQL a trigger refuses them even from raw SQL."""
import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit.models import AccessLog, AuditLogImmutable
from apps.audit.services import record


@pytest.fixture
def entry(db):
    return record("login", object_type="accounts.user", object_id="42")


def test_a_saved_entry_cannot_be_changed(entry):
    entry.action = "logout"

    with pytest.raises(AuditLogImmutable):
        entry.save()

    assert AccessLog.objects.get(pk=entry.pk).action == "login"


def test_an_entry_cannot_be_deleted(entry):
    with pytest.raises(AuditLogImmutable):
        entry.delete()

    assert AccessLog.objects.filter(pk=entry.pk).exists()


def test_the_queryset_refuses_update(entry):
    with pytest.raises(AuditLogImmutable):
        AccessLog.objects.filter(pk=entry.pk).update(action="logout")

    assert AccessLog.objects.get(pk=entry.pk).action == "login"


def test_the_queryset_refuses_delete(entry):
    with pytest.raises(AuditLogImmutable):
        AccessLog.objects.all().delete()

    assert AccessLog.objects.count() == 1


def test_the_manager_refuses_update_and_delete_too(entry):
    with pytest.raises(AuditLogImmutable):
        AccessLog.objects.update(action="logout")
    with pytest.raises(AuditLogImmutable):
        AccessLog.objects.delete()


def test_new_entries_can_still_be_added(entry):
    record("read", object_type="patients.patient", object_id="7")

    assert AccessLog.objects.count() == 2


def test_postgres_refuses_a_raw_update(requires_postgres, entry):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_accesslog SET action = 'logout' WHERE id = %s", [entry.pk])

    assert AccessLog.objects.get(pk=entry.pk).action == "login"


def test_postgres_refuses_a_raw_delete(requires_postgres, entry):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_accesslog WHERE id = %s", [entry.pk])

    assert AccessLog.objects.filter(pk=entry.pk).exists()


def test_postgres_still_accepts_a_raw_insert(requires_postgres, entry):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_accesslog (at, actor_label, role, action, object_type, object_id, user_agent, request_id, path, detail)"
            " VALUES (now(), 'system', 'system', 'read', '', '', '', '', '', '{}')"
        )

    assert AccessLog.objects.count() == 2
