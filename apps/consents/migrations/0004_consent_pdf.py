"""The signed consent's PDF (stored privately, with its SHA-256), and the words of the
reminder before a surgical case (PHI-free: its date and place only; created when missing,
never overwriting an admin's edit)."""
import apps.core.storage
from django.db import migrations, models

SIGN = "\n\n{{ clinic_name }} · {{ clinic_phone }}"
HELLO = "Hello {{ patient_first_name|default:'there' }},\n\n"
CASE_REMINDER = (
    "case_reminder", "en", "Reminder: your procedure",
    "{{ clinic_name }}: a reminder that your procedure is on {{ visit_time }}{% if location_name %} at {{ location_name }}"
    "{% endif %}. Please follow your pre-op instructions in your patient portal.",
    HELLO + "A reminder that your procedure is on {{ visit_time }}{% if location_name %} at {{ location_name }}{% endif %}. "
    "Please follow your pre-op instructions (fasting, medicines) in your patient portal: {{ portal_url }}" + SIGN,
)


def seed(apps, schema_editor):
    MessageTemplate = apps.get_model("messaging", "MessageTemplate")
    kind, language, subject, sms, email = CASE_REMINDER
    MessageTemplate.objects.get_or_create(kind=kind, language=language,
                                          defaults={"subject": subject, "sms_body": sms, "email_body": email})


class Migration(migrations.Migration):

    dependencies = [
        ('consents', '0003_message_templates'),
    ]


    operations = [
        migrations.AddField(
            model_name='consentform',
            name='pdf',
            field=models.FileField(blank=True, editable=False, max_length=200, storage=apps.core.storage.PrivateFiles('consents'), upload_to=''),
        ),
        migrations.AddField(
            model_name='consentform',
            name='pdf_rendered_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='consentform',
            name='pdf_sha256',
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
