"""Visit times in texts and emails are in the timezone the patient lives the visit in: the
clinic's for a visit in person, the patient's own for a video visit."""
import pytest

from apps.messaging.models import Channel, OutboundMessage
from apps.scheduling import services
from apps.scheduling.models import Mode
from apps.scheduling.services._common import local_text, patient_local_text
from tests.messaging.outbox_helpers import no_kick  # noqa: F401
from tests.scheduling.factories import VisitTypeFactory

pytestmark = pytest.mark.usefixtures("no_kick")


def booked_sms(patient):
    return OutboundMessage.objects.get(kind="visit_booked", patient=patient, channel=Channel.SMS)


def reminder_sms(patient):
    return OutboundMessage.objects.filter(kind="visit_reminder", patient=patient, channel=Channel.SMS).first()


def test_a_video_visit_is_texted_in_the_patients_own_timezone(patient, provider, make_slot, location):
    patient.timezone = "America/Los_Angeles"
    patient.save(update_fields=["timezone"])
    video = VisitTypeFactory(mode=Mode.VIRTUAL, self_bookable=True)
    provider.visit_types.add(video)
    slot = make_slot(mode=Mode.VIRTUAL)

    visit = services.booking_create(patient=patient, slot=slot, visit_type=video)

    pacific = patient_local_text(visit.start, patient)
    assert pacific.endswith(("PST", "PDT"))
    assert pacific in booked_sms(patient).body
    assert local_text(visit.start, location) not in booked_sms(patient).body
    assert pacific in reminder_sms(patient).body


def test_a_visit_in_person_is_texted_in_the_clinics_timezone(patient, make_slot, visit_type, location):
    patient.timezone = "America/Los_Angeles"
    patient.save(update_fields=["timezone"])

    visit = services.booking_create(patient=patient, slot=make_slot(), visit_type=visit_type)

    clinic_time = local_text(visit.start, location)
    assert clinic_time in booked_sms(patient).body
    assert clinic_time in reminder_sms(patient).body
