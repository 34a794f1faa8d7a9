"""Message templates for secure-message notifications. The SMS and email say only that there
is a message to read: never its subject or words. Creates missing ones, never overwrites."""
from django.db import migrations

SIGN = "\n\n{{ clinic_name }} · {{ clinic_phone }}"

DEFAULTS = [
    ("secure_message", "en", "New message from your care team",
     "{{ clinic_name }}: you have a new message from your care team. Sign in to your patient portal to read it.",
     "Hello {{ patient_first_name|default:'there' }},\n\nYou have a new message from your care team. Sign in to your patient portal to read it." + SIGN),
    ("secure_message", "es", "Nuevo mensaje de su equipo de atención",
     "{{ clinic_name }}: tiene un nuevo mensaje de su equipo de atención. Entre en su portal de paciente para leerlo.",
     "Hola {{ patient_first_name|default:'' }},\n\nTiene un nuevo mensaje de su equipo de atención. Entre en su portal de paciente para leerlo." + SIGN),
]


def seed(apps, schema_editor):
    MessageTemplate = apps.get_model("messaging", "MessageTemplate")
    for kind, language, subject, sms, email in DEFAULTS:
        MessageTemplate.objects.get_or_create(
            kind=kind, language=language, defaults={"subject": subject, "sms_body": sms, "email_body": email}
        )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0004_threads")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
