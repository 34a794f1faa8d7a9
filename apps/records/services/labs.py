"""Lab results: entered by staff or received from a lab interface (an API key), ENTERED until
staff (or that interface) release them; releasing (-> RELEASED, core's transition()) tells the
patient. The abnormal flag is computed from the numeric value and the reference range unless
the lab sent one."""
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from apps.audit.services import record
from apps.core.exceptions import ValidationFailed
from apps.core.transitions import lock
from apps.records.models import LabResult
from apps.records.services._common import move, notify_patient, user_actor, validated

F = LabResult.Flag
MAX_ABS = Decimal("99999999")


def numeric_value(text):
    """The number a result states ("5.4", " 120 "), or None ("Positive", "<5", "NaN")."""
    try:
        number = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) > MAX_ABS:
        return None
    return number.quantize(Decimal("0.0001"))


def flag_for(value, low, high):
    """N, L or H from the range (no range or no number: N; the lab's own flag wins when sent)."""
    if value is None:
        return F.NORMAL
    if low is not None and value < low:
        return F.LOW
    if high is not None and value > high:
        return F.HIGH
    return F.NORMAL


def lab_result_create(*, patient, actor, test_name, loinc_code, value, collected_at, resulted_at, unit="",
                      reference_low=None, reference_high=None, reference_text="", abnormal_flag=None, visit=None,
                      ordering_provider=None):
    """A new ENTERED result (the patient does not see it until it is released). Requires:
    a LOINC code with a valid check digit, resulted at or after collected, a range whose low
    is at most its high, a visit of the same patient (400 naming the field otherwise)."""
    if visit is not None and visit.patient_id != patient.pk:
        raise ValidationFailed({"visit": ["That visit belongs to another patient."]})
    errors = {}
    for name, bound in (("reference_low", reference_low), ("reference_high", reference_high)):
        if bound is not None and (not Decimal(bound).is_finite() or abs(Decimal(bound)) > MAX_ABS):
            errors[name] = ["Give a number within ±99,999,999."]
    if reference_low is not None and reference_high is not None and not errors and reference_low > reference_high:
        errors["reference_high"] = ["The high end of the range is below the low end."]
    if collected_at and resulted_at and resulted_at < collected_at:
        errors["resulted_at"] = ["A result comes after its sample was collected."]
    if errors:
        raise ValidationFailed(errors)
    number = numeric_value(value)
    result = LabResult(
        patient=patient, visit=visit, ordering_provider=ordering_provider, test_name=(test_name or "").strip(),
        loinc_code=(loinc_code or "").strip(), value=str(value).strip(), value_numeric=number, unit=(unit or "").strip(),
        reference_low=reference_low, reference_high=reference_high, reference_text=(reference_text or "").strip(),
        abnormal_flag=abnormal_flag or flag_for(number, reference_low, reference_high),
        collected_at=collected_at, resulted_at=resulted_at, entered_by=user_actor(actor),
        source=getattr(actor, "name", "") if hasattr(actor, "has_scope") else "",
    )
    with transaction.atomic():
        validated(result)
        result.save()
        record("create", result)
    return result


def lab_result_release(*, result, actor):
    """Release an ENTERED result to the patient (-> RELEASED, released_at/by; 409 when it was
    released already). Triggers: the patient is told (in-app, SMS/email through the outbox,
    once per result, with no result in the words)."""
    with transaction.atomic():
        result = lock(LabResult, result.pk, related=("patient",))
        move(result, LabResult.Status.RELEASED, actor=actor, reason="Released to the patient",
             released_at=timezone.now(), released_by=user_actor(actor))
        notify_patient(result.patient, kind="lab_result_released", title="A new test result is in your portal",
                       link=f"/portal/records/labs/{result.pk}/", outbox_key=f"lab_released:{result.pk}")
    return result
