"""A patient's notification preferences (SMS and email opt-in, quiet hours): the fields live on
the Patient; this is the messaging side's read and write of them."""
from django.db import transaction

from apps.messaging.outbox import sms_opted_out
from apps.patients.services import patient_update

PREFERENCE_FIELDS = ["sms_opt_in", "email_opt_in", "quiet_hours_start", "quiet_hours_end"]


def notification_preferences(patient):
    return {
        "sms_opt_in": patient.sms_opt_in,
        "email_opt_in": patient.email_opt_in,
        "quiet_hours_start": patient.quiet_hours_start,
        "quiet_hours_end": patient.quiet_hours_end,
        "timezone": patient.timezone,
        "sms_stopped": sms_opted_out(patient.phone),
    }


@transaction.atomic
def notification_preferences_update(*, patient, data):
    """Change some of PREFERENCE_FIELDS (validated by the patients service: quiet hours need
    both ends or neither). Records which fields changed. A number that texted STOP stays
    stopped whatever sms_opt_in says, until the patient texts START."""
    return patient_update(patient=patient, data=data, allowed=PREFERENCE_FIELDS)
