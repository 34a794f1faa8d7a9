"""The guards the database keeps beyond Django's constraints: a signed visit note never changes,
and an addendum is never rewritten.

- records_visitnote: a trigger refuses UPDATE of a row whose status is SIGNED (the DRAFT ->
  SIGNED move itself updates a DRAFT row, so it passes), and on PostgreSQL DELETE of one too;
- records_noteaddendum: a trigger refuses every UPDATE (and DELETE on PostgreSQL).

SQLite refuses the UPDATE only: Django empties SQLite tables with DELETE between transactional
tests (PostgreSQL's flush is a TRUNCATE, which row triggers do not see), and the notes are held
anyway (on_delete=PROTECT from summaries and addenda). Both raise IntegrityError. On SQLite a
table that a later migration remakes (an altered column) loses its triggers: such a migration
must create them again (tests/records/test_database_guards.py checks they are there)."""
from django.db import migrations

from apps.core.dbguards import vendor_sql

PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION records_note_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status = 'SIGNED' THEN
            RAISE EXCEPTION 'visit note % is signed and cannot change', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER records_note_immutable BEFORE UPDATE OR DELETE ON records_visitnote
        FOR EACH ROW EXECUTE FUNCTION records_note_immutable()
    """,
    """
    CREATE OR REPLACE FUNCTION records_addendum_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'addendum % cannot change', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER records_addendum_immutable BEFORE UPDATE OR DELETE ON records_noteaddendum
        FOR EACH ROW EXECUTE FUNCTION records_addendum_immutable()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS records_addendum_immutable ON records_noteaddendum",
    "DROP FUNCTION IF EXISTS records_addendum_immutable()",
    "DROP TRIGGER IF EXISTS records_note_immutable ON records_visitnote",
    "DROP FUNCTION IF EXISTS records_note_immutable()",
]
SQLITE_FORWARD = [
    """
    CREATE TRIGGER records_note_immutable_update BEFORE UPDATE ON records_visitnote
    FOR EACH ROW WHEN OLD.status = 'SIGNED'
    BEGIN SELECT RAISE(ABORT, 'visit note is signed and cannot change'); END
    """,
    """
    CREATE TRIGGER records_addendum_immutable_update BEFORE UPDATE ON records_noteaddendum
    FOR EACH ROW
    BEGIN SELECT RAISE(ABORT, 'addendum cannot change'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS records_addendum_immutable_update",
    "DROP TRIGGER IF EXISTS records_note_immutable_update",
]
GUARDS = vendor_sql("records 0002", postgresql=(PG_FORWARD, PG_BACKWARD), sqlite=(SQLITE_FORWARD, SQLITE_BACKWARD))


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]

    operations = [GUARDS]
