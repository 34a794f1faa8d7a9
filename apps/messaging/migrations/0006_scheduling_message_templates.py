"""Message templates for the scheduling events that had none under the kind scheduling sends:
offer_expiring_soon (0003 named it offer_expiring), visit_assigned (0003: assigned_immediately),
visit_rescheduled and offer_withdrawn, plus Spanish for the visit messages. Only PHI-free
context: the visit time, the location, the deadline. Creates missing ones, never overwrites;
an admin's edit of the older kind is carried over to the new one."""
from django.db import migrations

SIGN = "\n\n{{ clinic_name }} · {{ clinic_phone }}"
HELLO = "Hello {{ patient_first_name|default:'there' }},\n\n"
HOLA = "Hola {{ patient_first_name|default:'' }},\n\n"
AT = "{% if location_name %} at {{ location_name }}{% endif %}"
EN = "{% if location_name %} en {{ location_name }}{% endif %}"

DEFAULTS = [
    # kind, language, subject, sms, email
    ("offer_expiring_soon", "en", "Your appointment offer expires soon",
     "{{ clinic_name }}: the appointment times we are holding for you are released at {{ deadline }}. Choose one in your patient portal or call {{ clinic_phone }}.",
     HELLO + "The appointment times we are holding for you are released at {{ deadline }}. Sign in to your patient portal to choose one, or call us." + SIGN),
    ("visit_assigned", "en", "You can be seen now",
     "{{ clinic_name }}: a clinician can see you now" + AT + ". Please come to the front desk.",
     HELLO + "A clinician can see you now" + AT + ". Please come to the front desk." + SIGN),
    ("visit_rescheduled", "en", "Your appointment has moved",
     "{{ clinic_name }}: your appointment has moved to {{ visit_time }}" + AT + ". Reply C to confirm, or call {{ clinic_phone }}.",
     HELLO + "Your appointment has moved to {{ visit_time }}" + AT + ". Details are in your patient portal." + SIGN),
    ("offer_withdrawn", "en", "An offered appointment time is no longer available",
     "{{ clinic_name }}: an appointment time we offered is no longer available. We will offer you new times, or call {{ clinic_phone }}.",
     HELLO + "An appointment time we offered you is no longer available. Our team will offer you new times, or call us." + SIGN),
    ("offer_made", "es", "Tiene horarios de cita disponibles",
     "{{ clinic_name }}: tenemos horarios de cita para usted. Elija uno en su portal de paciente antes de {{ deadline }}.",
     HOLA + "Le hemos ofrecido horarios de cita. Entre en su portal de paciente y elija uno antes de {{ deadline }}." + SIGN),
    ("visit_cancelled", "es", "Su cita fue cancelada",
     "{{ clinic_name }}: su cita del {{ visit_time }} fue cancelada. Llame al {{ clinic_phone }} para reservar otra.",
     HOLA + "Su cita del {{ visit_time }} fue cancelada. Entre en su portal de paciente o llámenos para reservar otra." + SIGN),
    ("visit_rescheduled", "es", "Su cita cambió de hora",
     "{{ clinic_name }}: su cita ahora es el {{ visit_time }}" + EN + ". Responda C para confirmar o llame al {{ clinic_phone }}.",
     HOLA + "Su cita ahora es el {{ visit_time }}" + EN + ". Los detalles están en su portal de paciente." + SIGN),
]
# New kind -> the older kind whose (possibly admin-edited) words it starts from.
CARRIED_OVER = {"offer_expiring_soon": "offer_expiring", "visit_assigned": "assigned_immediately"}


def _original(kind, language):
    import importlib

    first = importlib.import_module("apps.messaging.migrations.0003_default_message_templates")
    for k, lang, subject, sms, email in first.DEFAULTS:
        if (k, lang) == (kind, language):
            return subject, sms, email
    return None


def seed(apps, schema_editor):
    MessageTemplate = apps.get_model("messaging", "MessageTemplate")
    for kind, language, subject, sms, email in DEFAULTS:
        words = (subject, sms, email)
        older_kind = CARRIED_OVER.get(kind)
        older = MessageTemplate.objects.filter(kind=older_kind, language=language).first() if older_kind else None
        if older is not None and (older.subject, older.sms_body, older.email_body) != _original(older_kind, language):
            words = (older.subject, older.sms_body, older.email_body)  # an admin edited it: keep their words
        MessageTemplate.objects.get_or_create(
            kind=kind, language=language, defaults=dict(zip(("subject", "sms_body", "email_body"), words))
        )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0005_secure_message_templates")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
