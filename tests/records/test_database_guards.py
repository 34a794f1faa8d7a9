"""The database's own guards (migration 0002) are in place on this database, and a raw UPDATE
of a signed note is refused on PostgreSQL by its trigger."""
import pytest
from django.db import IntegrityError, connection, transaction

from tests.records.factories import make_visit, write_note

pytestmark = pytest.mark.django_db


def _triggers():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


def test_the_note_and_addendum_triggers_exist():
    names = _triggers()
    if connection.vendor == "postgresql":
        assert {"records_note_immutable", "records_addendum_immutable"} <= names
    else:
        assert {"records_note_immutable_update", "records_addendum_immutable_update"} <= names


def test_a_raw_update_of_a_signed_note_is_refused_on_postgresql(requires_postgres, patient, provider, provider_user):
    note = write_note(make_visit(patient, provider), provider_user, sign=True)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE records_visitnote SET plan = 'rewritten', status = 'DRAFT' WHERE id = %s", [note.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM records_visitnote WHERE id = %s", [note.pk])
    note.refresh_from_db()
    assert (note.status, note.plan) == ("SIGNED", "Fluids, rest, paracetamol.")
