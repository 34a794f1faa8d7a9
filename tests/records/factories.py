"""Records test data: a visit of the cast's patient with the cast's provider, and chart rows
made through the services (the way the app makes them)."""
import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.records import services
from apps.records.models import Allergy, Medication, Problem
from apps.scheduling.models import Provider, Visit
from tests.scheduling.factories import LocationFactory, VisitTypeFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def provider_for(user):
    provider, _ = Provider.objects.get_or_create(user=user, defaults={"specialty": "Family medicine", "credentials": "MD"})
    return provider


def make_visit(patient, provider, *, status=Visit.Status.IN_PROGRESS, hours_ago=1):
    now = timezone.now()
    return Visit.objects.create(
        patient=patient, provider=provider, visit_type=VisitTypeFactory(), location=LocationFactory(), mode="IN_PERSON",
        start=now - datetime.timedelta(hours=hours_ago), end=now - datetime.timedelta(hours=hours_ago) + datetime.timedelta(minutes=30),
        is_walk_in=True, status=status,
    )


def write_note(visit, user, *, sign=False, **fields):
    note = services.visit_note_start(visit=visit, actor=user)
    values = {"subjective": "Sore throat for three days.", "objective": "Temp 38.1 C, red pharynx.",
              "assessment": "Viral pharyngitis.", "plan": "Fluids, rest, paracetamol.",
              "diagnosis_codes": ["J02.9"], "summary_assessment": "A throat infection caused by a virus.",
              "follow_up": "Come back if not better in a week.", "medications_changed": ""}
    values.update(fields)
    note = services.visit_note_update(note=note, actor=user, **values)
    if sign:
        note = services.visit_note_sign(note=note, actor=user)
    return note


def problem(patient, actor, **fields):
    values = {"code": "E11.9", "description": "Type 2 diabetes", "onset_date": datetime.date(2020, 3, 1)}
    values.update(fields)
    return services.chart_entry_create(model=Problem, patient=patient, actor=actor, **values)


def allergy(patient, actor, **fields):
    values = {"substance": "Penicillin", "reaction": "Hives", "severity": Allergy.Severity.MODERATE}
    values.update(fields)
    return services.chart_entry_create(model=Allergy, patient=patient, actor=actor, **values)


def medication(patient, actor, *, prescriber=None, **fields):
    values = {"name": "Metformin", "dose": "500 mg", "route": Medication.Route.ORAL, "frequency": "twice a day",
              "prescriber": prescriber, "start_date": datetime.date(2024, 1, 1)}
    values.update(fields)
    return services.chart_entry_create(model=Medication, patient=patient, actor=actor, **values)


def lab(patient, actor, *, release=False, value="6.1", days_ago=2, **fields):
    collected = timezone.now() - datetime.timedelta(days=days_ago)
    values = {"test_name": "Hemoglobin A1c", "loinc_code": "4548-4", "value": value, "unit": "%",
              "reference_low": None, "reference_high": 5.6, "collected_at": collected,
              "resulted_at": collected + datetime.timedelta(hours=6)}
    values.update(fields)
    if values["reference_high"] is not None:
        from decimal import Decimal
        values["reference_high"] = Decimal(str(values["reference_high"]))
    result = services.lab_result_create(patient=patient, actor=actor, **values)
    if release:
        result = services.lab_result_release(result=result, actor=actor)
    return result


def upload(name="card.png", content=PNG, content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def readings(patient, rows, *, kinds=None):
    """Store `rows` (dicts as the phone app sends them) for `patient`, with syncing of their
    types (or `kinds`) turned on first."""
    kinds = kinds or {row["kind"] for row in rows}
    services.reading_permissions_set(patient=patient, changes={kind: True for kind in kinds}, actor=patient.user)
    return services.record_readings(patient, rows, patient.user).created


def bp_reading(systolic=128, diastolic=82, *, hours_ago=2, source="Omron BP7000"):
    return {"kind": "blood_pressure", "value": systolic, "diastolic": diastolic, "unit": "mmHg", "source": source,
            "measured_at": (timezone.now() - datetime.timedelta(hours=hours_ago)).isoformat()}
