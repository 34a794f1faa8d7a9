"""Lab results: flags from the range, validation, release (and its notification)."""
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.exceptions import InvalidTransition, ValidationFailed
from apps.messaging.models import Notification, OutboundMessage
from apps.records import services
from apps.records.models import LabResult, LabResultEvent
from tests.records.factories import lab

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value, flag", [("5.2", "N"), ("7.9", "H"), ("3.0", "L"), ("Positive", "N")])
def test_the_flag_is_computed_from_the_range(patient, provider_user, value, flag):
    result = lab(patient, provider_user, value=value, reference_low=Decimal("4.0"), reference_high=Decimal("5.6"))
    assert result.abnormal_flag == flag
    assert result.reference_range == "4–5.6"


def test_the_labs_own_flag_wins(patient, provider_user):
    assert lab(patient, provider_user, value="Positive", abnormal_flag="A").is_abnormal


def test_a_bad_loinc_check_digit_is_refused(patient, provider_user):
    with pytest.raises(ValidationFailed) as exc:
        lab(patient, provider_user, loinc_code="4548-3")
    assert "loinc_code" in exc.value.extra["fields"]


def test_a_result_before_its_collection_and_an_upside_down_range_are_refused(patient, provider_user):
    now = timezone.now()
    with pytest.raises(ValidationFailed) as exc:
        lab(patient, provider_user, collected_at=now, resulted_at=now - datetime.timedelta(hours=1),
            reference_low=Decimal("9"), reference_high=Decimal("1"))
    assert set(exc.value.extra["fields"]) == {"resulted_at", "reference_high"}
    assert not LabResult.objects.exists()


def test_a_visit_of_another_patient_is_refused(patient, other_patient, provider_user, provider):
    from tests.records.factories import make_visit
    with pytest.raises(ValidationFailed):
        lab(patient, provider_user, visit=make_visit(other_patient, provider))


def test_release_moves_once_and_tells_the_patient(patient, provider_user):
    result = lab(patient, provider_user)
    assert result.status == "ENTERED"
    services.lab_result_release(result=result, actor=provider_user)
    result.refresh_from_db()
    assert result.status == "RELEASED" and result.released_by == provider_user and result.released_at
    assert LabResultEvent.objects.filter(result=result, to_status="RELEASED").count() == 1
    assert Notification.objects.filter(recipient=patient.user, kind="lab_result_released").count() == 1
    messages = OutboundMessage.objects.filter(patient=patient, kind="lab_result_released")
    assert messages.exists()
    assert all("6.1" not in m.body and "A1c" not in m.body for m in messages)
    with pytest.raises(InvalidTransition):
        services.lab_result_release(result=result, actor=provider_user)
