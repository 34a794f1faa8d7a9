"""Default message templates (English, plus Spanish for the visit messages). Admins edit them
afterwards; this migration only creates missing ones and never overwrites an edit."""
from django.db import migrations

SIGN = "\n\n{{ clinic_name }} · {{ clinic_phone }}"

DEFAULTS = [
    # kind, language, subject, sms, email
    ("offer_made", "en", "Appointment times are waiting for you",
     "{{ clinic_name }}: we have appointment times for you. Choose one in your patient portal by {{ deadline }}.",
     "Hello {{ patient_first_name|default:'there' }},\n\nWe have offered you appointment times. Please sign in to your patient portal and choose one by {{ deadline }}." + SIGN),
    ("offer_expiring", "en", "Your appointment offer expires soon",
     "{{ clinic_name }}: the appointment times we offered expire at {{ deadline }}. Choose one in your patient portal.",
     "Hello {{ patient_first_name|default:'there' }},\n\nThe appointment times we offered you expire at {{ deadline }}. Sign in to your patient portal to choose one." + SIGN),
    ("offer_expired", "en", "Your appointment offer expired",
     "{{ clinic_name }}: the appointment times we offered have expired. We will be in touch, or call {{ clinic_phone }}.",
     "Hello {{ patient_first_name|default:'there' }},\n\nThe appointment times we offered have expired. Our team will contact you with new times, or call us." + SIGN),
    ("visit_booked", "en", "Your appointment is booked",
     "{{ clinic_name }}: your appointment is booked for {{ visit_time }}{% if location_name %} at {{ location_name }}{% endif %}.",
     "Hello {{ patient_first_name|default:'there' }},\n\nYour appointment is booked for {{ visit_time }}{% if location_name %} at {{ location_name }}{% endif %}. Details are in your patient portal." + SIGN),
    ("visit_reminder", "en", "Appointment reminder",
     "{{ clinic_name }}: reminder of your appointment on {{ visit_time }}{% if location_name %} at {{ location_name }}{% endif %}. Reply C to confirm, X to cancel.",
     "Hello {{ patient_first_name|default:'there' }},\n\nThis is a reminder of your appointment on {{ visit_time }}{% if location_name %} at {{ location_name }}{% endif %}. Manage it in your patient portal." + SIGN),
    ("visit_cancelled", "en", "Your appointment was cancelled",
     "{{ clinic_name }}: your appointment on {{ visit_time }} was cancelled. Call {{ clinic_phone }} to rebook.",
     "Hello {{ patient_first_name|default:'there' }},\n\nYour appointment on {{ visit_time }} was cancelled. Sign in to your patient portal or call us to book again." + SIGN),
    ("assigned_immediately", "en", "You can be seen now",
     "{{ clinic_name }}: a clinician can see you now{% if location_name %} at {{ location_name }}{% endif %}. Please come to the front desk.",
     "Hello {{ patient_first_name|default:'there' }},\n\nA clinician can see you now{% if location_name %} at {{ location_name }}{% endif %}. Please come to the front desk." + SIGN),
    ("follow_up", "en", "How are you feeling?",
     "{{ clinic_name }}: thank you for your visit. Questions? Message us in your patient portal or call {{ clinic_phone }}.",
     "Hello {{ patient_first_name|default:'there' }},\n\nThank you for your visit. If you have questions, message your care team in the patient portal." + SIGN),
    ("visit_booked", "es", "Su cita está reservada",
     "{{ clinic_name }}: su cita está reservada para {{ visit_time }}{% if location_name %} en {{ location_name }}{% endif %}.",
     "Hola {{ patient_first_name|default:'' }},\n\nSu cita está reservada para {{ visit_time }}{% if location_name %} en {{ location_name }}{% endif %}. Los detalles están en su portal de paciente." + SIGN),
    ("visit_reminder", "es", "Recordatorio de cita",
     "{{ clinic_name }}: recordatorio de su cita el {{ visit_time }}{% if location_name %} en {{ location_name }}{% endif %}. Responda C para confirmar, X para cancelar.",
     "Hola {{ patient_first_name|default:'' }},\n\nLe recordamos su cita el {{ visit_time }}{% if location_name %} en {{ location_name }}{% endif %}." + SIGN),
]


def seed(apps, schema_editor):
    MessageTemplate = apps.get_model("messaging", "MessageTemplate")
    for kind, language, subject, sms, email in DEFAULTS:
        MessageTemplate.objects.get_or_create(
            kind=kind, language=language, defaults={"subject": subject, "sms_body": sms, "email_body": email}
        )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0002_outbox")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
