"""A procedure plan's planned surgery date, and the reminder before it of a consent still
unsigned: the date it was sent for (one reminder per consent and date), with its words
(PHI-free: the date only; created when missing, never overwriting an admin's edit).

And the database's own guard of a frozen plan (the model's is ProcedurePlan.save and
ProcedureLine.save/delete): once a plan is out of DRAFT, a trigger refuses an UPDATE of its
clinical content (patient, consultation, surgeon, notes, quote, version, previous version) and
any INSERT or UPDATE of its procedure lines (on PostgreSQL their DELETE too; SQLite's flush
between transactional tests empties tables with DELETE, see 0002). Status moves, the
timestamps and the planned date stay writable. Refusals raise IntegrityError."""
from django.db import migrations, models

from apps.core.dbguards import vendor_sql

_PLAN_CONTENT = ("patient_id", "consultation_id", "surgeon_id", "notes", "quote_total", "version",
                 "previous_version_id")
_PLAN_CHANGED = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _PLAN_CONTENT)
_PLAN_CHANGED_SQLITE = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _PLAN_CONTENT)
PG_FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION consents_plan_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status <> 'DRAFT' AND ({_PLAN_CHANGED}) THEN
            RAISE EXCEPTION 'procedure plan % is frozen: its content changes only in a new version', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER consents_plan_frozen BEFORE UPDATE ON consents_procedureplan
        FOR EACH ROW EXECUTE FUNCTION consents_plan_frozen()
    """,
    """
    CREATE OR REPLACE FUNCTION consents_plan_lines_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM consents_procedureplan p
                                          WHERE p.id = OLD.plan_id AND p.status <> 'DRAFT'))
           OR (TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM consents_procedureplan p
                                             WHERE p.id = NEW.plan_id AND p.status <> 'DRAFT')) THEN
            RAISE EXCEPTION 'the procedure lines of a plan out of draft are frozen'
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
    CREATE TRIGGER consents_plan_lines_frozen BEFORE INSERT OR UPDATE OR DELETE ON consents_procedureline
        FOR EACH ROW EXECUTE FUNCTION consents_plan_lines_frozen()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS consents_plan_lines_frozen ON consents_procedureline",
    "DROP FUNCTION IF EXISTS consents_plan_lines_frozen()",
    "DROP TRIGGER IF EXISTS consents_plan_frozen ON consents_procedureplan",
    "DROP FUNCTION IF EXISTS consents_plan_frozen()",
]
_LINE_PLAN_OPEN = "(SELECT status FROM consents_procedureplan WHERE id = {}.plan_id) <> 'DRAFT'"
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER consents_plan_frozen_update BEFORE UPDATE ON consents_procedureplan
    FOR EACH ROW WHEN OLD.status <> 'DRAFT' AND ({_PLAN_CHANGED_SQLITE})
    BEGIN SELECT RAISE(ABORT, 'procedure plan is frozen: its content changes only in a new version'); END
    """,
    f"""
    CREATE TRIGGER consents_plan_lines_frozen_insert BEFORE INSERT ON consents_procedureline
    FOR EACH ROW WHEN {_LINE_PLAN_OPEN.format("NEW")}
    BEGIN SELECT RAISE(ABORT, 'the procedure lines of a plan out of draft are frozen'); END
    """,
    f"""
    CREATE TRIGGER consents_plan_lines_frozen_update BEFORE UPDATE ON consents_procedureline
    FOR EACH ROW WHEN {_LINE_PLAN_OPEN.format("OLD")} OR {_LINE_PLAN_OPEN.format("NEW")}
    BEGIN SELECT RAISE(ABORT, 'the procedure lines of a plan out of draft are frozen'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS consents_plan_lines_frozen_update",
    "DROP TRIGGER IF EXISTS consents_plan_lines_frozen_insert",
    "DROP TRIGGER IF EXISTS consents_plan_frozen_update",
]
GUARDS = vendor_sql("consents 0005", postgresql=(PG_FORWARD, PG_BACKWARD), sqlite=(SQLITE_FORWARD, SQLITE_BACKWARD))

SIGN = "\n\n{{ clinic_name }} · {{ clinic_phone }}"
HELLO = "Hello {{ patient_first_name|default:'there' }},\n\n"
BEFORE_DATE = (
    "consent_reminder_before_date", "en", "Please sign your form before your procedure",
    "{{ clinic_name }}: a form still needs your signature before your procedure on {{ deadline }}. "
    "Sign in to your patient portal.",
    HELLO + "A form in your patient portal still needs your signature before your procedure on {{ deadline }}: "
    "{{ portal_url }}" + SIGN,
)


def seed(apps, schema_editor):
    MessageTemplate = apps.get_model("messaging", "MessageTemplate")
    kind, language, subject, sms, email = BEFORE_DATE
    MessageTemplate.objects.get_or_create(kind=kind, language=language,
                                          defaults={"subject": subject, "sms_body": sms, "email_body": email})


class Migration(migrations.Migration):

    dependencies = [
        ('consents', '0004_consent_pdf'),
    ]

    operations = [
        migrations.AddField(
            model_name='consentform',
            name='reminded_before_date',
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='procedureplan',
            name='planned_date',
            field=models.DateField(blank=True, null=True, verbose_name='planned surgery date'),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
        GUARDS,
    ]
