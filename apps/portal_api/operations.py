"""The app's writes that can also be queued offline: each one parses the live endpoint's input,
calls the same service, and answers the same (status, body). The live views
(api.py, api_care.py) and the offline sync (offline.py) both go through these functions, so a
queued action refused meanwhile gets exactly the error the live call gives."""
from django.utils import timezone
from rest_framework import status

from apps.messaging import rules as thread_rules
from apps.messaging.threads import selectors as thread_selectors
from apps.messaging.threads import services as thread_services
from apps.portal_api import serializers as s
from apps.records import rules as records_rules
from apps.records import selectors as records_selectors
from apps.records import services as records_services
from apps.records.models import Medication
from apps.records.serializers import RefillOutput
from apps.scheduling import selectors, services


def parse(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def appointment_body(visit, now):
    """A visit as the app shows it, with whether it may still change online."""
    visit.change_deadline = selectors.visit_change_deadline(visit)
    visit.can_change = visit.status == visit.Status.PLANNED and now < visit.change_deadline
    return s.AppAppointmentOutput(visit).data


def appointment_book(request, data):
    """Book a free time (POST portal/appointments/ without an Idempotency-Key)."""
    data = parse(s.AppBookInput, data)
    visit = services.booking_create(patient=request.patient, slot=data["slot"], visit_type=data["visit_type"],
                                    request=None, actor=request.user)
    visit = selectors.access_visit_for_patient(request.user, visit.pk)
    return status.HTTP_201_CREATED, appointment_body(visit, timezone.now())


def thread_start(request, data):
    """A new thread to the care team (POST portal/threads/)."""
    data = parse(s.AppThreadStartInput, data)
    thread = thread_services.thread_create(patient=request.patient, subject=data["subject"], body=data["body"],
                                           author=request.user)
    thread = thread_selectors.threads_for_patient(request.patient).get(pk=thread.pk)
    return status.HTTP_201_CREATED, s.AppThreadOutput(thread).data


def thread_reply(request, thread_id, data):
    """A reply in one of the patient's threads (POST portal/threads/<id>/messages/)."""
    thread = thread_selectors.access_thread(request.user, thread_id, thread_rules.REPLY)
    data = parse(s.AppReplyInput, data)
    message = thread_services.message_post(thread=thread, body=data["body"], author=request.user)
    message = thread_selectors.thread_messages(thread).get(pk=message.pk)
    return status.HTTP_201_CREATED, s.AppMessageOutput(message).data


def refill_request(request, medication_id, data):
    """A refill request for a current medication (POST portal/records/medications/<id>/refill/)."""
    medication = records_selectors.access_entry(request.user, Medication, medication_id, records_rules.REFILL)
    data = parse(s.AppRefillInput, data)
    refill = records_services.refill_request_create(medication=medication, actor=request.user, **data)
    return status.HTTP_201_CREATED, RefillOutput(refill).data
