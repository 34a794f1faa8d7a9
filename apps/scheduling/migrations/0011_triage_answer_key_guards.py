"""The database keeps the triage rule answer-key invariant as well as the model
(TriageRule.clean and TriageQuestion.clean in apps/scheduling/models.py):

- an active rule's answer key (trimmed, lower-case) is a built-in key (temperature_c,
  pain_scale) or the key of an active TriageQuestion: a trigger refuses the INSERT or UPDATE
  of a rule that would read an answer no question asks;
- a question that an active rule reads is not deactivated, renamed or (on PostgreSQL) deleted:
  a trigger refuses that UPDATE or DELETE.

On PostgreSQL the rule's trigger reads the question FOR SHARE, so a rule written while the
question is being deactivated waits for that and then sees it (and the reverse: the
question's update waits for the rule's commit and its check sees the rule). SQLite refuses
the UPDATE only, not DELETE: Django empties SQLite tables with DELETE between transactional
tests (PostgreSQL's flush is a TRUNCATE, which row triggers do not see), and the model refuses
deleting a question in use anyway. Refusals raise IntegrityError. On SQLite a table that Django
remakes in a later migration loses its triggers: such a migration must create them again
(tests/scheduling/test_triage_database_guards.py checks they hold)."""
from django.db import migrations

from apps.core.dbguards import vendor_sql

# Frozen copy of apps.scheduling.models.BUILTIN_ANSWER_KEYS as of this migration.
BUILTIN = ("pain_scale", "temperature_c")
_BUILTIN_SQL = ", ".join(f"'{k}'" for k in BUILTIN)
_WS = r"E' \t\n\r'"

PG_FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION scheduling_triage_rule_answer_key() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        k text := lower(btrim(NEW.answer_key, {_WS}));
    BEGIN
        IF NEW.is_active AND k <> '' AND k NOT IN ({_BUILTIN_SQL}) AND NOT EXISTS (
            SELECT 1 FROM scheduling_triagequestion q WHERE q.key = k AND q.is_active FOR SHARE
        ) THEN
            RAISE EXCEPTION 'triage_rule_answer_key: no active question asks %', k
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER scheduling_triage_rule_answer_key BEFORE INSERT OR UPDATE ON scheduling_triagerule
        FOR EACH ROW EXECUTE FUNCTION scheduling_triage_rule_answer_key()
    """,
    f"""
    CREATE OR REPLACE FUNCTION scheduling_triage_question_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.is_active AND (TG_OP = 'DELETE' OR NOT NEW.is_active OR NEW.key <> OLD.key) AND EXISTS (
            SELECT 1 FROM scheduling_triagerule r WHERE r.is_active AND lower(btrim(r.answer_key, {_WS})) = OLD.key
        ) THEN
            RAISE EXCEPTION 'triage_question_in_use: active triage rules read the answer to %', OLD.key
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
    CREATE TRIGGER scheduling_triage_question_in_use BEFORE UPDATE OR DELETE ON scheduling_triagequestion
        FOR EACH ROW EXECUTE FUNCTION scheduling_triage_question_in_use()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS scheduling_triage_question_in_use ON scheduling_triagequestion",
    "DROP FUNCTION IF EXISTS scheduling_triage_question_in_use()",
    "DROP TRIGGER IF EXISTS scheduling_triage_rule_answer_key ON scheduling_triagerule",
    "DROP FUNCTION IF EXISTS scheduling_triage_rule_answer_key()",
]

# SQLite's trim() strips spaces only unless told which characters: char(9, 10, 13) adds tab, LF, CR.
_KEY = "lower(trim(NEW.answer_key, ' ' || char(9, 10, 13)))"
_RULE_READS_NO_QUESTION = f"""
    NEW.is_active AND {_KEY} <> '' AND {_KEY} NOT IN ({_BUILTIN_SQL})
    AND NOT EXISTS (SELECT 1 FROM scheduling_triagequestion q WHERE q.key = {_KEY} AND q.is_active)
"""
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER scheduling_triage_rule_answer_key_insert BEFORE INSERT ON scheduling_triagerule
    FOR EACH ROW WHEN {_RULE_READS_NO_QUESTION}
    BEGIN SELECT RAISE(ABORT, 'triage_rule_answer_key: no active question asks this answer key'); END
    """,
    f"""
    CREATE TRIGGER scheduling_triage_rule_answer_key_update BEFORE UPDATE ON scheduling_triagerule
    FOR EACH ROW WHEN {_RULE_READS_NO_QUESTION}
    BEGIN SELECT RAISE(ABORT, 'triage_rule_answer_key: no active question asks this answer key'); END
    """,
    """
    CREATE TRIGGER scheduling_triage_question_in_use_update BEFORE UPDATE ON scheduling_triagequestion
    FOR EACH ROW WHEN OLD.is_active AND (NOT NEW.is_active OR NEW.key <> OLD.key) AND EXISTS (
        SELECT 1 FROM scheduling_triagerule r
        WHERE r.is_active AND lower(trim(r.answer_key, ' ' || char(9, 10, 13))) = OLD.key
    )
    BEGIN SELECT RAISE(ABORT, 'triage_question_in_use: active triage rules read this answer'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS scheduling_triage_question_in_use_update",
    "DROP TRIGGER IF EXISTS scheduling_triage_rule_answer_key_update",
    "DROP TRIGGER IF EXISTS scheduling_triage_rule_answer_key_insert",
]
GUARDS = vendor_sql("scheduling 0011", postgresql=(PG_FORWARD, PG_BACKWARD), sqlite=(SQLITE_FORWARD, SQLITE_BACKWARD))


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0010_slot_event_retirement_marker")]

    operations = [GUARDS]
