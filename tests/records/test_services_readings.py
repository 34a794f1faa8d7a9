"""record_readings(): the patient's phone readings, stored patient-reported, all or nothing,
bounded (ranges, units, time, count), duplicates by type, source and time ignored; the
patient's sync permissions per type decide what may be stored."""
import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.core.exceptions import ValidationFailed
from apps.records import selectors, services
from apps.records.codes import loinc_check_digit
from apps.records.models import PatientReading, ReadingKind
from apps.records.services.readings import DIASTOLIC_LOINC, KINDS, MAX_READINGS, SYSTOLIC_LOINC

pytestmark = pytest.mark.django_db


def allow(patient, *kinds):
    services.reading_permissions_set(patient=patient, changes={k: True for k in kinds or ReadingKind.values},
                                     actor=patient.user)


def at(minutes_ago=60):
    return (timezone.now() - datetime.timedelta(minutes=minutes_ago)).replace(microsecond=0).isoformat()


def bp(systolic=128, diastolic=82, minutes_ago=60, source="Omron BP7000"):
    return {"kind": "blood_pressure", "value": systolic, "diastolic": diastolic, "unit": "mmHg",
            "measured_at": at(minutes_ago), "source": source}


def fields_of(excinfo):
    return excinfo.value.extra["fields"]


def test_readings_are_stored_patient_reported_in_their_stored_unit_and_audited(patient):
    allow(patient)
    result = services.record_readings(patient, [
        bp(),
        {"kind": "weight", "value": 176.4, "unit": "lb", "measured_at": at(), "source": "Withings"},
        {"kind": "glucose", "value": "5.5", "unit": "mmol/L", "measured_at": at(), "source": "Contour"},
        {"kind": "steps", "value": 8042, "unit": "steps", "measured_at": at(), "source": "iPhone"},
        {"kind": "heart_rate", "value": 64, "unit": "bpm", "measured_at": at(), "source": "Apple Watch"},
    ], patient.user)

    assert len(result.created) == 5 and result.duplicates == 0
    rows = {r.kind: r for r in PatientReading.objects.filter(patient=patient)}
    assert rows["blood_pressure"].value == 128 and rows["blood_pressure"].diastolic == 82
    assert rows["blood_pressure"].unit == "mm[Hg]" and rows["blood_pressure"].display_value == "128/82"
    assert rows["weight"].value == Decimal("80.01") and rows["weight"].unit == "kg"
    assert rows["glucose"].value == Decimal("99.10") and rows["glucose"].unit == "mg/dL"
    assert all(r.patient_reported and r.reported_by == patient.user for r in rows.values())
    assert AccessLog.objects.filter(action="create", object_type="records.patientreading", patient_id=patient.pk).count() == 5


def test_a_retried_upload_and_a_repeat_inside_one_call_are_ignored_not_doubled(patient):
    allow(patient)
    first = services.record_readings(patient, [bp(), bp()], patient.user)
    again = services.record_readings(patient, [bp(), bp(minutes_ago=30)], patient.user)

    assert (len(first.created), first.duplicates) == (1, 1)
    assert (len(again.created), again.duplicates) == (1, 1)
    assert PatientReading.objects.filter(patient=patient).count() == 2


def test_the_same_time_from_another_device_is_another_reading(patient):
    allow(patient)
    services.record_readings(patient, [bp(source="Omron"), bp(source="Withings BPM")], patient.user)

    assert PatientReading.objects.filter(patient=patient).count() == 2


def test_a_type_the_patient_has_not_turned_on_is_refused_and_nothing_is_written(patient):
    allow(patient, "weight")
    with pytest.raises(ValidationFailed) as excinfo:
        services.record_readings(patient, [
            {"kind": "weight", "value": 80, "unit": "kg", "measured_at": at(), "source": "Withings"}, bp()],
            patient.user)

    assert "turned off" in fields_of(excinfo)["readings.1.kind"][0]
    assert not PatientReading.objects.exists()


@pytest.mark.parametrize("reading, field, words", [
    ({"value": 400}, "value", "between 50 and 260"),
    ({"diastolic": 20}, "diastolic", "between 30 and 160"),
    ({"diastolic": 140, "value": 120}, "diastolic", "below the systolic"),
    ({"unit": "kPa"}, "unit", "mm[Hg], mmHg"),
    ({"value": True}, "value", "Give a number"),
    ({"value": "NaN"}, "value", "Give a number"),
    ({"value": "1" * 10000}, "value", "Give a number"),
    ({"value": 10**30}, "value", "between"),
    ({"value": 120.5}, "value", "whole number"),
    ({"measured_at": "2026-12-04T08:30:00"}, "measured_at", "offset"),
    ({"measured_at": "9999-12-31T23:59:59+14:00"}, "measured_at", "future"),
    ({"measured_at": "0001-01-01T00:00:00-05:00"}, "measured_at", "older than"),
    ({"measured_at": "yesterday"}, "measured_at", "ISO 8601"),
    ({"source": "Omron\x00"}, "source", "Null characters"),
    ({"source": "x" * 10000}, "source", "100 characters"),
    ({"source": ""}, "source", "device"),
    ({"kind": "mood"}, "kind", "Choose one of"),
])
def test_a_bad_field_is_a_400_naming_it(patient, reading, field, words):
    allow(patient)
    with pytest.raises(ValidationFailed) as excinfo:
        services.record_readings(patient, [bp(minutes_ago=5), {**bp(), **reading}], patient.user)

    assert words in " ".join(fields_of(excinfo)[f"readings.1.{field}"])
    assert not PatientReading.objects.exists()


def test_a_diastolic_value_on_another_type_is_refused(patient):
    allow(patient)
    with pytest.raises(ValidationFailed) as excinfo:
        services.record_readings(patient, [{"kind": "heart_rate", "value": 60, "diastolic": 40, "unit": "/min",
                                            "measured_at": at(), "source": "Watch"}], patient.user)

    assert "Only a blood pressure" in fields_of(excinfo)["readings.0.diastolic"][0]


@pytest.mark.parametrize("readings, words", [
    ([], "one or more"), (None, "one or more"), ({"kind": "steps"}, "one or more"),
    ([bp(minutes_ago=i) for i in range(MAX_READINGS + 1)], f"at most {MAX_READINGS}"),
    (["text"], None),
])
def test_the_batch_itself_is_bounded(patient, readings, words):
    allow(patient)
    with pytest.raises(ValidationFailed) as excinfo:
        services.record_readings(patient, readings, patient.user)

    fields = fields_of(excinfo)
    if words:
        assert words in fields["readings"][0]
    else:
        assert "Each reading is an object" in fields["readings.0"][0]


def test_the_database_refuses_a_second_row_for_the_same_source_and_time(patient):
    allow(patient)
    row = services.record_readings(patient, [bp()], patient.user).created[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientReading.objects.create(patient=patient, kind=row.kind, value=120, diastolic=80, unit=row.unit,
                                      measured_at=row.measured_at, source=row.source)
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientReading.objects.create(patient=patient, kind="weight", value=80, diastolic=80, unit="kg",
                                      measured_at=row.measured_at, source="Scale")


def test_permissions_default_off_and_are_set_per_type(patient):
    assert selectors.reading_permissions(patient) == {k: False for k in ReadingKind.values}

    answer = services.reading_permissions_set(patient=patient, changes={"steps": True, "weight": True},
                                              actor=patient.user)
    answer = services.reading_permissions_set(patient=patient, changes={"weight": False}, actor=patient.user)

    assert answer == {**{k: False for k in ReadingKind.values}, "steps": True}
    assert AccessLog.objects.filter(action="update", object_type="records.readingpermission").count() == 2


@pytest.mark.parametrize("changes, field", [({"mood": True}, "mood"), ({"steps": "yes"}, "steps"), ({}, "permissions"),
                                            ([], "permissions")])
def test_bad_permission_changes_are_a_400(patient, changes, field):
    with pytest.raises(ValidationFailed) as excinfo:
        services.reading_permissions_set(patient=patient, changes=changes, actor=patient.user)

    assert field in fields_of(excinfo)


def test_every_loinc_code_of_a_reading_is_well_formed():
    for code in [*(kind.loinc for kind in KINDS.values()), SYSTOLIC_LOINC, DIASTOLIC_LOINC]:
        number, check = code.split("-")
        assert loinc_check_digit(number) == int(check), code


def test_trends_group_each_type_oldest_first(patient):
    allow(patient)
    services.record_readings(patient, [bp(130, 85, 300), bp(120, 80, 100),
                                       {"kind": "steps", "value": 100, "unit": "steps", "measured_at": at(), "source": "x"}],
                             patient.user)

    trends = selectors.reading_trends(patient)

    assert list(trends) == ["steps", "blood_pressure"]
    assert [r.value for r in trends["blood_pressure"]] == [130, 120]
