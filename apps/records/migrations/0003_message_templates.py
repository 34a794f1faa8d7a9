"""The words of the records app's patient messages (SMS and email through messaging's outbox).
PHI-free on purpose: no test, no value, no diagnosis, no medication name; only that something
new waits in the portal. Creates missing ones, never overwrites an admin's edit."""
from django.db import migrations

SIGN = "\n\n{{ clinic_name }} · {{ clinic_phone }}"
HELLO = "Hello {{ patient_first_name|default:'there' }},\n\n"

DEFAULTS = [
    # kind, language, subject, sms, email
    ("visit_summary_ready", "en", "Your visit summary is ready",
     "{{ clinic_name }}: the summary of your recent visit is ready in your patient portal.",
     HELLO + "The summary of your recent visit is ready to read in your patient portal: {{ portal_url }}" + SIGN),
    ("lab_result_released", "en", "A new test result is in your portal",
     "{{ clinic_name }}: a new test result is ready in your patient portal. Questions? Call {{ clinic_phone }}.",
     HELLO + "A new test result is ready to read in your patient portal: {{ portal_url }}\n\n"
     "If you have questions about it, message us from the portal or call {{ clinic_phone }}." + SIGN),
    ("refill_decided", "en", "News about your refill request",
     "{{ clinic_name }}: there is news about your refill request in your patient portal.",
     HELLO + "Your provider has answered your refill request. Read the answer in your patient portal: "
     "{{ portal_url }}" + SIGN),
    ("document_shared", "en", "A new document is in your portal",
     "{{ clinic_name }}: a new document has been shared with you in your patient portal.",
     HELLO + "A new document has been shared with you in your patient portal: {{ portal_url }}" + SIGN),
]


def seed(apps, schema_editor):
    MessageTemplate = apps.get_model("messaging", "MessageTemplate")
    for kind, language, subject, sms, email in DEFAULTS:
        MessageTemplate.objects.get_or_create(
            kind=kind, language=language, defaults={"subject": subject, "sms_body": sms, "email_body": email}
        )


class Migration(migrations.Migration):
    dependencies = [("records", "0002_database_guards"), ("messaging", "0007_threadevent_on_transition_event")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
