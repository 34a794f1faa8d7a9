"""The guards the database itself keeps, beyond the constraints Django declares:

- a published consent template never changes: a trigger refuses UPDATE (and on PostgreSQL
  DELETE) of a row whose published_at is set. SQLite refuses the UPDATE only: Django empties
  SQLite tables with DELETE between transactional tests (PostgreSQL's flush is a TRUNCATE,
  which row triggers do not see), and a consent that used the template holds it anyway
  (on_delete=PROTECT; the model refuses deleting a published one);
- a room and a surgeon are never double-booked: on PostgreSQL two exclusion constraints over
  tstzrange(start, end) for BOOKED rows (btree_gist gives the uuid equality in the GiST index);
  on SQLite, triggers refusing an INSERT or UPDATE that would overlap a BOOKED row.

Both refusals raise IntegrityError (SQLSTATE 23P01 / 23000 on PostgreSQL, RAISE(ABORT) on
SQLite), which the services turn into their 409s. On SQLite a table that Django remakes in a later
migration (an altered column) loses its triggers: such a migration must create them again
(tests/consents/test_database_guards.py checks they are there)."""
from django.db import migrations

from apps.core.dbguards import vendor_sql

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """
    ALTER TABLE consents_theatrebooking ADD CONSTRAINT theatre_room_no_overlap
        EXCLUDE USING gist (room_id WITH =, tstzrange(start, "end", '[)') WITH &&) WHERE (status = 'BOOKED')
    """,
    """
    ALTER TABLE consents_theatrebooking ADD CONSTRAINT theatre_surgeon_no_overlap
        EXCLUDE USING gist (surgeon_id WITH =, tstzrange(start, "end", '[)') WITH &&) WHERE (status = 'BOOKED')
    """,
    """
    CREATE OR REPLACE FUNCTION consents_template_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.published_at IS NOT NULL THEN
            RAISE EXCEPTION 'consent template % is published and cannot change', OLD.id
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
    CREATE TRIGGER consents_template_immutable BEFORE UPDATE OR DELETE ON consents_consenttemplate
        FOR EACH ROW EXECUTE FUNCTION consents_template_immutable()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS consents_template_immutable ON consents_consenttemplate",
    "DROP FUNCTION IF EXISTS consents_template_immutable()",
    "ALTER TABLE consents_theatrebooking DROP CONSTRAINT IF EXISTS theatre_surgeon_no_overlap",
    "ALTER TABLE consents_theatrebooking DROP CONSTRAINT IF EXISTS theatre_room_no_overlap",
    # btree_gist stays: other tables may use it, and it holds no data.
]

_OVERLAP = """
    EXISTS (SELECT 1 FROM consents_theatrebooking b
            WHERE b.status = 'BOOKED' AND b.id <> NEW.id
              AND (b.room_id = NEW.room_id OR b.surgeon_id = NEW.surgeon_id)
              AND julianday(b.start) < julianday(NEW."end") AND julianday(NEW.start) < julianday(b."end"))
"""
SQLITE_FORWARD = [
    """
    CREATE TRIGGER consents_template_immutable_update BEFORE UPDATE ON consents_consenttemplate
    FOR EACH ROW WHEN OLD.published_at IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'consent template is published and cannot change'); END
    """,
    f"""
    CREATE TRIGGER consents_theatre_no_overlap_insert BEFORE INSERT ON consents_theatrebooking
    FOR EACH ROW WHEN NEW.status = 'BOOKED' AND {_OVERLAP}
    BEGIN SELECT RAISE(ABORT, 'theatre_booking_overlap: the room or the surgeon is already booked'); END
    """,
    f"""
    CREATE TRIGGER consents_theatre_no_overlap_update BEFORE UPDATE ON consents_theatrebooking
    FOR EACH ROW WHEN NEW.status = 'BOOKED' AND {_OVERLAP}
    BEGIN SELECT RAISE(ABORT, 'theatre_booking_overlap: the room or the surgeon is already booked'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS consents_theatre_no_overlap_update",
    "DROP TRIGGER IF EXISTS consents_theatre_no_overlap_insert",
    "DROP TRIGGER IF EXISTS consents_template_immutable_update",
]
GUARDS = vendor_sql("consents 0002", postgresql=(PG_FORWARD, PG_BACKWARD), sqlite=(SQLITE_FORWARD, SQLITE_BACKWARD))


class Migration(migrations.Migration):
    dependencies = [("consents", "0001_initial")]

    operations = [GUARDS]
