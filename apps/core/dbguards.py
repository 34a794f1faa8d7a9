"""Database guards written in raw SQL per database vendor (triggers, exclusion constraints),
for the migrations that add them:

    operations = [vendor_sql("consents 0002", postgresql=(PG_FORWARD, PG_BACKWARD),
                             sqlite=(SQLITE_FORWARD, SQLITE_BACKWARD))]

Each side is (statements forward, statements backward), run in order. A database with no
statements written refuses to migrate (RuntimeError naming the migration) rather than running
without its guards."""
from django.db import migrations


def vendor_sql(label, *, postgresql, sqlite):
    statements = {"postgresql": postgresql, "sqlite": sqlite}

    def runner(which):
        def run(apps, schema_editor):
            vendor = schema_editor.connection.vendor
            if vendor not in statements:
                raise RuntimeError(f"{label}: no database guards written for {vendor}")
            for sql in statements[vendor][which]:
                schema_editor.execute(sql, params=None)
        return run

    return migrations.RunPython(runner(0), runner(1))
