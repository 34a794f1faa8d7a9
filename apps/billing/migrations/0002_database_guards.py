"""The guard the database keeps beyond Django's constraints: an invoice's lines change only
while the invoice is a DRAFT. A trigger refuses INSERT, UPDATE (and on PostgreSQL DELETE) of a
line whose invoice has left DRAFT; corrections are a void and a new invoice. SQLite refuses
INSERT and UPDATE only: Django empties SQLite tables with DELETE between transactional tests
(PostgreSQL's flush is a TRUNCATE, which row triggers do not see), and invoices themselves are
never deleted (on_delete=PROTECT from payments and charges). Both refusals raise
IntegrityError. A later migration that remakes billing_invoiceline on SQLite must create the
triggers again (tests/billing/test_database_guards.py checks they are there)."""
from django.db import migrations

from apps.core.dbguards import vendor_sql

PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION billing_invoice_line_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        invoice_status text;
    BEGIN
        SELECT status INTO invoice_status FROM billing_invoice
            WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.invoice_id ELSE NEW.invoice_id END);
        IF invoice_status IS DISTINCT FROM 'DRAFT' THEN
            RAISE EXCEPTION 'invoice_line_frozen: the lines of an issued invoice never change'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.invoice_id <> NEW.invoice_id THEN
            RAISE EXCEPTION 'invoice_line_frozen: a line never moves to another invoice'
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
    CREATE TRIGGER billing_invoice_line_frozen BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
        FOR EACH ROW EXECUTE FUNCTION billing_invoice_line_frozen()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS billing_invoice_line_frozen ON billing_invoiceline",
    "DROP FUNCTION IF EXISTS billing_invoice_line_frozen()",
]
_NOT_DRAFT = "(SELECT status FROM billing_invoice WHERE id = {row}.invoice_id) IS NOT 'DRAFT'"
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER billing_invoice_line_frozen_insert BEFORE INSERT ON billing_invoiceline
    FOR EACH ROW WHEN {_NOT_DRAFT.format(row="NEW")}
    BEGIN SELECT RAISE(ABORT, 'invoice_line_frozen: the lines of an issued invoice never change'); END
    """,
    f"""
    CREATE TRIGGER billing_invoice_line_frozen_update BEFORE UPDATE ON billing_invoiceline
    FOR EACH ROW WHEN {_NOT_DRAFT.format(row="OLD")} OR {_NOT_DRAFT.format(row="NEW")}
    BEGIN SELECT RAISE(ABORT, 'invoice_line_frozen: the lines of an issued invoice never change'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS billing_invoice_line_frozen_update",
    "DROP TRIGGER IF EXISTS billing_invoice_line_frozen_insert",
]
GUARDS = vendor_sql("billing 0002", postgresql=(PG_FORWARD, PG_BACKWARD), sqlite=(SQLITE_FORWARD, SQLITE_BACKWARD))


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [GUARDS]
