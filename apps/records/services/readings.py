"""The patient's own readings from their phone (issue 14, "Health data from the phone").

record_readings() is the one write: the app's POST /api/v1/portal/readings/ and the offline
sync (queued readings replayed later) both call it, so both refuse the same input with the same
field errors. The patient turns syncing on and off per type (reading_permissions_set)."""
import dataclasses
import datetime
import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.audit.services import record, record_many
from apps.core.exceptions import ValidationFailed
from apps.core.validation import text_problem
from apps.records.models import PatientReading, ReadingKind, ReadingPermission
from apps.records.models.readings import DIASTOLIC_LOINC, KINDS, SYSTOLIC_LOINC  # noqa: F401 (re-exported)
from apps.records.selectors import reading_permissions
from apps.records.services._common import user_actor

MAX_READINGS = 200                        # per call: more is a 400, nothing written
MAX_AGE = datetime.timedelta(days=730)     # older readings are refused
CLOCK_SKEW = datetime.timedelta(minutes=5) # a phone's clock may run a little ahead
TWO_PLACES = Decimal("0.01")


FIELDS = {"kind", "value", "diastolic", "unit", "measured_at", "source"}


@dataclasses.dataclass
class ReadingsRecorded:
    created: list      # the PatientReading rows written, in the order given
    duplicates: int    # readings ignored: already stored (same type, source and time) or repeated in the call


def _number(raw, name, errors):
    """A finite Decimal from a JSON number or numeric text (not a bool), or None with an error."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        errors[name] = ["Give a number."]
        return None
    if isinstance(raw, str) and (len(raw) > 20 or text_problem(raw)):
        errors[name] = ["Give a number."]
        return None
    if isinstance(raw, float) and not math.isfinite(raw):
        errors[name] = ["Give a number."]
        return None
    try:
        value = Decimal(str(raw).strip()) if not isinstance(raw, int) else Decimal(raw)
    except (InvalidOperation, ValueError):
        errors[name] = ["Give a number."]
        return None
    if not value.is_finite():
        errors[name] = ["Give a number."]
        return None
    return value


def _in_range(value, low, high, unit, name, errors, *, whole):
    if value < low or value > high:
        errors[name] = [f"A plausible value is between {low} and {high} {unit}."]
        return None
    if whole and value != value.to_integral_value():
        errors[name] = ["Give a whole number."]
        return None
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def _measured_at(raw, name, errors, now):
    if isinstance(raw, datetime.datetime):
        when = raw
    elif isinstance(raw, str) and len(raw) <= 40 and not text_problem(raw):
        try:
            when = parse_datetime(raw.strip())
        except (ValueError, OverflowError):
            when = None
    else:
        when = None
    if when is None:
        errors[name] = ["Give the time as an ISO 8601 date and time with its offset, e.g. 2026-12-04T08:30:00Z."]
        return None
    if timezone.is_naive(when):
        errors[name] = ["Give the time with its offset (Z or +hh:mm): the phone knows its zone."]
        return None
    try:
        when = when.astimezone(datetime.timezone.utc)
    except (OverflowError, ValueError):
        errors[name] = ["This time is out of range."]
        return None
    if when > now + CLOCK_SKEW:
        errors[name] = ["This time is in the future."]
        return None
    if when < now - MAX_AGE:
        errors[name] = [f"Readings older than {MAX_AGE.days} days are not accepted."]
        return None
    return when


def _parse(index, raw, allowed, now):
    """(PatientReading fields, errors) for reading number `index` of a call."""
    prefix = f"readings.{index}"
    if not isinstance(raw, dict):
        return None, {prefix: ["Each reading is an object: kind, value, unit, measured_at, source."]}
    errors = {}
    unknown = sorted(str(key)[:40] for key in raw if key not in FIELDS)
    if unknown:
        errors[prefix] = [f"Unknown fields: {', '.join(unknown)}."]
    kind_name = raw.get("kind")
    kind = KINDS.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        errors[f"{prefix}.kind"] = [f"Choose one of {', '.join(KINDS)}."]
    elif kind_name not in allowed:
        errors[f"{prefix}.kind"] = [f"Syncing of {ReadingKind(kind_name).label.lower()} is turned off: "
                                    "turn it on in the app's settings first."]
    unit = raw.get("unit")
    factor = kind.units.get(unit) if kind and isinstance(unit, str) else None
    if kind and factor is None:
        errors[f"{prefix}.unit"] = [f"For {ReadingKind(kind_name).label.lower()} give one of {', '.join(kind.units)}."]
    value = _number(raw.get("value"), f"{prefix}.value", errors)
    diastolic = None
    if kind and kind.diastolic:
        diastolic = _number(raw.get("diastolic"), f"{prefix}.diastolic", errors)
    elif raw.get("diastolic") is not None:
        errors[f"{prefix}.diastolic"] = ["Only a blood pressure reading has a diastolic value."]
    if kind and factor is not None:
        if value is not None:
            value = _in_range(value * Decimal(factor), kind.low, kind.high, kind.unit, f"{prefix}.value", errors,
                              whole=kind.whole and factor == 1)
        if diastolic is not None:
            low, high = kind.diastolic
            diastolic = _in_range(diastolic, low, high, kind.unit, f"{prefix}.diastolic", errors, whole=True)
        if value is not None and diastolic is not None and diastolic >= value:
            errors[f"{prefix}.diastolic"] = ["The diastolic value is below the systolic one."]
    measured_at = _measured_at(raw.get("measured_at"), f"{prefix}.measured_at", errors, now)
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        errors[f"{prefix}.source"] = ["Name the device or app that measured it."]
    elif len(source) > 100 or text_problem(source):
        errors[f"{prefix}.source"] = [text_problem(source) or "Use at most 100 characters."]
    if errors:
        return None, errors
    return {"kind": kind_name, "value": value, "diastolic": diastolic, "unit": kind.unit,
            "measured_at": measured_at, "source": source.strip()}, {}


def record_readings(patient, readings, actor):
    """Store readings the patient's phone collected, as patient-reported observations.

    Stable signature (the offline sync calls it for queued readings):
      patient   the Patient they belong to (the caller has resolved who is asking);
      readings  a list (at most MAX_READINGS) of dicts as JSON gives them:
                {"kind": "steps" | "heart_rate" | "blood_pressure" | "weight" | "glucose",
                 "value": number (blood pressure: the systolic), "diastolic": number (blood
                 pressure only), "unit": one of the type's units (KINDS; lb and mmol/L are
                 converted to kg and mg/dL), "measured_at": ISO 8601 with an offset (or an
                 aware datetime), "source": the device or app, up to 100 characters};
      actor     who sends them (the patient's user; stored as reported_by).
    Requires the patient's sync permission for every type sent (reading_permissions_set).
    All or nothing: any bad reading raises ValidationFailed (400) naming each field as
    "readings.<index>.<field>", and nothing is written. A reading with the same type, source
    and time as one stored (or earlier in the same call) is ignored, not an error, so a retried
    upload is harmless. Returns ReadingsRecorded(created, duplicates); each row is audited as a
    create. Triggers nothing else (no notification: the care team sees them on the patient page)."""
    if not isinstance(readings, list) or not readings:
        raise ValidationFailed({"readings": ["Send a list of one or more readings."]})
    if len(readings) > MAX_READINGS:
        raise ValidationFailed({"readings": [f"Send at most {MAX_READINGS} readings at a time."]})
    allowed = reading_permissions(patient, allowed_only=True)
    now = timezone.now()
    parsed, errors = [], {}
    for index, raw in enumerate(readings):
        fields, problems = _parse(index, raw, allowed, now)
        errors.update(problems)
        parsed.append(fields)
    if errors:
        raise ValidationFailed(errors)
    seen, fresh = set(), []
    for fields in parsed:
        key = (fields["kind"], fields["source"], fields["measured_at"])
        if key not in seen:
            seen.add(key)
            fresh.append(fields)
    with transaction.atomic():
        stored = set(
            PatientReading.objects.filter(patient=patient, measured_at__in={f["measured_at"] for f in fresh})
            .values_list("kind", "source", "measured_at")
        )
        rows = [PatientReading(patient=patient, reported_by=user_actor(actor), **fields) for fields in fresh
                if (fields["kind"], fields["source"], fields["measured_at"]) not in stored]
        # A concurrent upload of the same readings: the unique constraint keeps one row and
        # ignore_conflicts skips ours; the ids that really landed are read back.
        PatientReading.objects.bulk_create(rows, ignore_conflicts=True)
        landed = set(PatientReading.objects.filter(pk__in=[row.pk for row in rows]).values_list("pk", flat=True))
        created = [row for row in rows if row.pk in landed]
        record_many("create", created, detail={"source": "patient_app"})
    return ReadingsRecorded(created=created, duplicates=len(readings) - len(created))


def reading_permissions_set(*, patient, changes, actor):
    """Turn syncing of some types on or off: `changes` maps kinds to true/false (400 naming an
    unknown type or a value that is not a boolean). Readings already stored stay. Audited.
    Returns the full {kind: bool}."""
    if not isinstance(changes, dict) or not changes:
        raise ValidationFailed({"permissions": ["Give one or more types with true or false."]})
    errors = {}
    for kind, allowed in changes.items():
        if kind not in ReadingKind.values:
            errors[str(kind)[:40]] = [f"Choose among {', '.join(ReadingKind.values)}."]
        elif not isinstance(allowed, bool):
            errors[kind] = ["Give true or false."]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        for kind, allowed in changes.items():
            ReadingPermission.objects.update_or_create(patient=patient, kind=kind, defaults={"allowed": allowed})
        record("update", object_type="records.readingpermission", patient_id=patient.pk,
               detail={"changes": {kind: changes[kind] for kind in sorted(changes)}})
    return reading_permissions(patient)
