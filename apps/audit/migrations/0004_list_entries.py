"""One access-log entry per list page: `patient_ids` names every patient the page showed.

A new nullable column, so no existing row is touched (the append-only trigger of 0002 refuses
UPDATE, and nothing here updates): old list reads keep their one row per patient in
`patient_id`, and AccessLog.objects.for_patient finds both kinds. On PostgreSQL the column is
`uuid[]` with a GIN index, so "who viewed this patient" stays one indexed query
(patient_id = X OR patient_ids @> ARRAY[X]); SQLite stores a JSON list and has no GIN."""
from django.db import migrations

import apps.audit.fields

INDEX = "audit_accesslog_patient_ids_gin"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON audit_accesslog USING gin (patient_ids)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_lean_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslog",
            name="patient_ids",
            field=apps.audit.fields.PatientIdsField(blank=True, null=True),
        ),
        migrations.RunPython(forward, backward),
    ]
