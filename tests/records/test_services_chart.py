"""Problems, allergies, medications and refill requests through the services."""
import datetime

import pytest

from apps.core.exceptions import InvalidTransition, ValidationFailed
from apps.messaging.models import Notification, OutboundMessage
from apps.records import services
from apps.records.exceptions import MedicationNotCurrent, RefillAlreadyOpen
from apps.records.models import Medication, MedicationEvent, Problem, ProblemEvent, RefillEvent, RefillRequest
from tests.records.factories import allergy, medication, problem

pytestmark = pytest.mark.django_db


def test_a_problem_is_resolved_and_comes_back_through_transitions(patient, provider_user):
    row = problem(patient, provider_user, code="e11.9")
    assert row.code == "E11.9"
    services.chart_entry_set_status(entry=row, actor=provider_user, status=Problem.Status.RESOLVED, reason="HbA1c normal")
    row.refresh_from_db()
    assert row.status == "RESOLVED" and row.resolved_date is not None
    services.chart_entry_set_status(entry=row, actor=provider_user, status=Problem.Status.ACTIVE)
    row.refresh_from_db()
    assert row.resolved_date is None
    assert list(ProblemEvent.objects.filter(problem=row).values_list("to_status", flat=True)) == ["RESOLVED", "ACTIVE"]


def test_a_bad_icd10_code_is_refused_naming_the_field(patient, provider_user):
    with pytest.raises(ValidationFailed) as exc:
        problem(patient, provider_user, code="XYZ")
    assert "code" in exc.value.extra["fields"]
    assert not Problem.objects.exists()


def test_long_text_is_refused_naming_the_field(patient, provider_user):
    with pytest.raises(ValidationFailed) as exc:
        allergy(patient, provider_user, substance="x" * 10_000)
    assert "substance" in exc.value.extra["fields"]


def test_a_stopped_medication_ends_today_and_cannot_restart(patient, provider_user, provider):
    med = medication(patient, provider_user, prescriber=provider)
    services.chart_entry_set_status(entry=med, actor=provider_user, status=Medication.Status.STOPPED)
    med.refresh_from_db()
    assert med.end_date is not None and not med.is_current
    with pytest.raises(InvalidTransition):
        services.chart_entry_set_status(entry=med, actor=provider_user, status=Medication.Status.ACTIVE)
    assert MedicationEvent.objects.filter(medication=med, to_status="STOPPED").count() == 1


def test_an_end_date_before_the_start_is_refused(patient, provider_user):
    with pytest.raises(ValidationFailed):
        medication(patient, provider_user, start_date=datetime.date(2024, 5, 1), end_date=datetime.date(2024, 4, 1))


def test_refill_goes_to_the_prescribers_queue_and_the_decision_reaches_the_patient(patient, provider_user, provider):
    med = medication(patient, provider_user, prescriber=provider)
    refill = services.refill_request_create(medication=med, actor=patient.user, pharmacy="Main St Pharmacy", note="Out on Friday")
    assert refill.prescriber == provider and refill.status == "REQUESTED"
    assert Notification.objects.filter(recipient=provider_user, kind="refill_requested").exists()
    services.refill_request_decide(refill=refill, actor=provider_user, approve=True, note="Sent to Main St.")
    refill.refresh_from_db()
    assert (refill.status, refill.decided_by, refill.decision_note) == ("APPROVED", provider_user, "Sent to Main St.")
    assert RefillEvent.objects.filter(refill=refill, to_status="APPROVED").exists()
    assert Notification.objects.filter(recipient=patient.user, kind="refill_decided").exists()
    assert OutboundMessage.objects.filter(patient=patient, kind="refill_decided").exists()
    with pytest.raises(InvalidTransition):
        services.refill_request_decide(refill=refill, actor=provider_user, approve=False)


def test_a_second_open_refill_of_the_same_medication_is_refused(patient, provider_user):
    med = medication(patient, provider_user)
    services.refill_request_create(medication=med, actor=patient.user, pharmacy="A")
    with pytest.raises(RefillAlreadyOpen):
        services.refill_request_create(medication=med, actor=patient.user, pharmacy="B")
    assert RefillRequest.objects.filter(medication=med).count() == 1


def test_after_a_decision_a_new_refill_may_be_asked(patient, provider_user):
    med = medication(patient, provider_user)
    first = services.refill_request_create(medication=med, actor=patient.user, pharmacy="A")
    services.refill_request_decide(refill=first, actor=provider_user, approve=False, note="Needs a visit")
    services.refill_request_create(medication=med, actor=patient.user, pharmacy="A")
    assert RefillRequest.objects.filter(medication=med, status="REQUESTED").count() == 1


def test_no_refill_of_a_stopped_medication_and_stopping_cancels_the_open_one(patient, provider_user):
    med = medication(patient, provider_user)
    open_refill = services.refill_request_create(medication=med, actor=patient.user, pharmacy="A")
    services.chart_entry_set_status(entry=med, actor=provider_user, status=Medication.Status.STOPPED)
    assert RefillRequest.objects.get(pk=open_refill.pk).status == "CANCELLED"
    with pytest.raises(MedicationNotCurrent):
        services.refill_request_create(medication=Medication.objects.get(pk=med.pk), actor=patient.user, pharmacy="A")
