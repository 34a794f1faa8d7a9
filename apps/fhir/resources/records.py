"""Condition, AllergyIntolerance, MedicationRequest and Observation, from apps.records (read
through its selectors; core's access layer applies the records rules, so a patient sees only
their own rows).

- Condition: a Problem (problem-list-item), code ICD-10-CM (http://hl7.org/fhir/sid/icd-10-cm).
- AllergyIntolerance: an Allergy; the substance as text (no coded substance is kept).
- MedicationRequest: a Medication (intent order); the drug, dose, route and frequency as text;
  start and end as the dosage's bounds; the prescriber as requester.
- Observation: a LabResult, laboratory, RELEASED only (for every caller: an unreleased result is
  never served), code LOINC (http://loinc.org), status final; valueQuantity when the value is a
  number, else valueString; the flag as a v3 ObservationInterpretation code (N, L, H, LL, HH, A).

Condition.clinicalStatus (Problem.Status): ACTIVE active, RESOLVED resolved; verificationStatus
confirmed (staff keep the list).

AllergyIntolerance.clinicalStatus (Allergy.Status): ACTIVE active, INACTIVE inactive, RESOLVED
resolved; verificationStatus confirmed. Allergy.severity is the reaction's severity (MILD mild,
MODERATE moderate, SEVERE severe) and sets criticality: SEVERE high, else low.

MedicationRequest.status (Medication.Status): ACTIVE active, ON_HOLD on-hold, STOPPED stopped,
COMPLETED completed."""
from decimal import Decimal

from django.db.models import Q

from apps.fhir.registry import ResourceType, register
from apps.fhir.resources.common import clean, instant, meta, patient_reference, reference
from apps.fhir.search import NOTHING, date_param, token_param
from apps.records import selectors
from apps.records.codes import ICD10_SYSTEM, LOINC_SYSTEM
from apps.records.models import Allergy, LabResult, Medication, Problem

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

PROBLEM_STATUS = {Problem.Status.ACTIVE: "active", Problem.Status.RESOLVED: "resolved"}
ALLERGY_STATUS = {Allergy.Status.ACTIVE: "active", Allergy.Status.INACTIVE: "inactive", Allergy.Status.RESOLVED: "resolved"}
ALLERGY_SEVERITY = {Allergy.Severity.MILD: "mild", Allergy.Severity.MODERATE: "moderate", Allergy.Severity.SEVERE: "severe"}
MEDICATION_STATUS = {
    Medication.Status.ACTIVE: "active", Medication.Status.ON_HOLD: "on-hold",
    Medication.Status.STOPPED: "stopped", Medication.Status.COMPLETED: "completed",
}


def _coded(system, code):
    return {"coding": [{"system": system, "code": code}]}


def _number(value):
    """A Decimal as a JSON number without the column's trailing zeros (5.6000 -> 5.6)."""
    value = Decimal(value).normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def _chart_type(name, rows, render, documentation):
    """A chart type: searched by patient, in the order rows were recorded."""
    return register(ResourceType(name=name, rows=rows, render=render, order=("created_at", "id"),
                                 params={"patient": patient_reference("patient")}, documentation=documentation))


# --- Condition ------------------------------------------------------------------------------

def render_condition(problem):
    return clean({
        "resourceType": "Condition",
        "id": str(problem.pk),
        "meta": meta(problem.updated_at),
        "clinicalStatus": _coded(CONDITION_CLINICAL, PROBLEM_STATUS[problem.status]),
        "verificationStatus": _coded(CONDITION_VERIFICATION, "confirmed"),
        "category": [_coded(CONDITION_CATEGORY, "problem-list-item")],
        "code": {"coding": [{"system": ICD10_SYSTEM, "code": problem.code, "display": problem.description}],
                 "text": problem.description},
        "subject": reference("Patient", problem.patient_id),
        "onsetDateTime": problem.onset_date.isoformat() if problem.onset_date else None,
        "abatementDateTime": problem.resolved_date.isoformat() if problem.resolved_date else None,
        "recordedDate": instant(problem.created_at),
        "note": [{"text": problem.note}] if problem.note else [],
    })


CONDITION = _chart_type("Condition", selectors.problems, render_condition, "The problem list (ICD-10-CM).")


# --- AllergyIntolerance ---------------------------------------------------------------------

def render_allergy(allergy):
    reaction = {"manifestation": [{"text": allergy.reaction}], "severity": ALLERGY_SEVERITY[allergy.severity]}
    return clean({
        "resourceType": "AllergyIntolerance",
        "id": str(allergy.pk),
        "meta": meta(allergy.updated_at),
        "clinicalStatus": _coded(ALLERGY_CLINICAL, ALLERGY_STATUS[allergy.status]),
        "verificationStatus": _coded(ALLERGY_VERIFICATION, "confirmed"),
        "criticality": "high" if allergy.severity == Allergy.Severity.SEVERE else "low",
        "code": {"text": allergy.substance},
        "patient": reference("Patient", allergy.patient_id),
        "recordedDate": instant(allergy.created_at),
        "reaction": [reaction] if allergy.reaction else [],
    })


ALLERGY_INTOLERANCE = _chart_type("AllergyIntolerance", selectors.allergies, render_allergy, "Allergies and intolerances.")


# --- MedicationRequest ----------------------------------------------------------------------

def render_medication(medication):
    route = medication.get_route_display()
    bounds = clean({"start": medication.start_date.isoformat(),
                    "end": medication.end_date.isoformat() if medication.end_date else None})
    prescriber = medication.prescriber
    return clean({
        "resourceType": "MedicationRequest",
        "id": str(medication.pk),
        "meta": meta(medication.updated_at),
        "status": MEDICATION_STATUS[medication.status],
        "intent": "order",
        "medicationCodeableConcept": {"text": medication.name},
        "subject": reference("Patient", medication.patient_id),
        "authoredOn": instant(medication.created_at),
        "requester": reference("Practitioner", prescriber.pk, prescriber.user.get_full_name()) if prescriber else None,
        "dosageInstruction": [clean({
            "text": " ".join(part for part in (medication.dose, route.lower(), medication.frequency) if part),
            "route": {"text": route},
            "timing": {"repeat": {"boundsPeriod": bounds}},
        })],
    })


MEDICATION_REQUEST = _chart_type("MedicationRequest", selectors.medications, render_medication, "Medications the clinic keeps on the chart.")


# --- Observation (laboratory, released) -----------------------------------------------------

def _quantity(value, unit):
    return clean({"value": _number(value), "unit": unit}) if value is not None else None


def render_observation(result):
    reference_range = clean({
        "low": _quantity(result.reference_low, result.unit),
        "high": _quantity(result.reference_high, result.unit),
        "text": result.reference_text,
    })
    return clean({
        "resourceType": "Observation",
        "id": str(result.pk),
        "meta": meta(result.updated_at),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
        "code": {"coding": [{"system": LOINC_SYSTEM, "code": result.loinc_code, "display": result.test_name}],
                 "text": result.test_name},
        "subject": reference("Patient", result.patient_id),
        "effectiveDateTime": instant(result.collected_at),
        "issued": instant(result.resulted_at),
        "valueQuantity": _quantity(result.value_numeric, result.unit),
        "valueString": result.value if result.value_numeric is None else None,
        "interpretation": [_coded(INTERPRETATION, result.abnormal_flag)],
        "referenceRange": [reference_range] if reference_range else [],
    })


def _loinc(system, code):
    if system not in (None, LOINC_SYSTEM):
        return NOTHING
    return Q(loinc_code=code)


OBSERVATION = register(ResourceType(
    name="Observation",
    rows=lambda: selectors.labs().filter(status=LabResult.Status.RELEASED),
    render=render_observation,
    order=("-collected_at", "id"),
    params={p.name: p for p in (
        patient_reference("patient"),
        token_param("code", "The LOINC code: code, or http://loinc.org|code.", _loinc),
        date_param("date", "collected_at", "When the specimen was collected (eq, ne, lt, le, gt, ge)."),
    )},
    documentation="Laboratory results, once staff have released them (LOINC).",
))
