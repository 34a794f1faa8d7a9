"""The words of the consents app's patient messages (SMS and email through messaging's outbox).
PHI-free on purpose: no procedure, no diagnosis, no fee; only that something waits in the
portal, and for a scheduled surgery its date and place. Creates missing ones, never overwrites
an admin's edit."""
from django.db import migrations

SIGN = "\n\n{{ clinic_name }} · {{ clinic_phone }}"
HELLO = "Hello {{ patient_first_name|default:'there' }},\n\n"

DEFAULTS = [
    # kind, language, subject, sms, email
    ("consent_to_sign", "en", "A form is waiting for your signature",
     "{{ clinic_name }}: a form is waiting for your signature in your patient portal. Questions? Call {{ clinic_phone }}.",
     HELLO + "A form is waiting for you to read and sign in your patient portal: {{ portal_url }}" + SIGN),
    ("consent_reminder", "en", "Reminder: a form still needs your signature",
     "{{ clinic_name }}: a reminder that a form still needs your signature. Sign in to your patient portal.",
     HELLO + "A form in your patient portal still needs your signature: {{ portal_url }}" + SIGN),
    ("plan_approved", "en", "Your treatment plan is ready",
     "{{ clinic_name }}: your treatment plan is ready to read in your patient portal.",
     HELLO + "Your treatment plan is ready to read in your patient portal: {{ portal_url }}" + SIGN),
    ("case_scheduled", "en", "Your procedure date",
     "{{ clinic_name }}: your procedure is booked for {{ visit_time }}{% if location_name %} at {{ location_name }}{% endif %}. "
     "Instructions are in your patient portal.",
     HELLO + "Your procedure is booked for {{ visit_time }}{% if location_name %} at {{ location_name }}{% endif %}. "
     "Your pre-op instructions are in your patient portal: {{ portal_url }}" + SIGN),
]


def seed(apps, schema_editor):
    MessageTemplate = apps.get_model("messaging", "MessageTemplate")
    for kind, language, subject, sms, email in DEFAULTS:
        MessageTemplate.objects.get_or_create(
            kind=kind, language=language, defaults={"subject": subject, "sms_body": sms, "email_body": email}
        )


class Migration(migrations.Migration):
    dependencies = [("consents", "0002_database_guards"), ("messaging", "0007_threadevent_on_transition_event")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
