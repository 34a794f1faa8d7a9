"""Condition, AllergyIntolerance, MedicationRequest and Observation, from apps.records (read
through its selectors; core's access layer applies the records rules, so a patient sees only
their own rows).

- Condition: a Problem (problem-list-item), code ICD-10-CM (http://hl7.org/fhir/sid/icd-10-cm).
- AllergyIntolerance: an Allergy; the substance as text, coded when staff gave a code: RxNorm
  (http://www.nlm.nih.gov/research/umls/rxnorm) for a drug, SNOMED CT (http://snomed.info/sct)
  for anything else.
- MedicationRequest: a Medication (intent order); the drug as text and, when known, its RxNorm
  code; dose, route and frequency as text; start and end as the dosage's bounds; the prescriber
  as requester.
- Observation, from two sources searched together (apps/fhir/registry.py `parts`):
  - a LabResult, laboratory, RELEASED only (for every caller: an unreleased result is never
    served), code LOINC (http://loinc.org), status final; valueQuantity when the value is a
    number, else valueString; the flag as a v3 ObservationInterpretation code (N, L, H, LL, HH, A);
  - a PatientReading (the patient's phone): category activity (steps 55423-8) or vital-signs
    (heart rate 8867-4, body weight 29463-7, glucose by glucometer 41653-7, blood pressure panel
    85354-9 with components systolic 8480-6 and diastolic 8462-4), UCUM units, performer the
    Patient and a note saying it is patient-reported, the device by name.

Condition.clinicalStatus (Problem.Status): ACTIVE active, RESOLVED resolved; verificationStatus
confirmed (staff keep the list).

AllergyIntolerance.clinicalStatus (Allergy.Status): ACTIVE active, INACTIVE inactive, RESOLVED
resolved; verificationStatus confirmed. Allergy.severity is the reaction's severity (MILD mild,
MODERATE moderate, SEVERE severe) and sets criticality: SEVERE high, else low.

MedicationRequest.status (Medication.Status): ACTIVE active, ON_HOLD on-hold, STOPPED stopped,
COMPLETED completed."""
from decimal import Decimal

from django.db.models import Case, CharField, F, Q, Value, When

from apps.fhir.registry import ResourceType, register
from apps.fhir.resources.common import clean, instant, meta, patient_reference, reference
from apps.fhir.search import NOTHING, date_param, token_param
from apps.records import selectors
from apps.records.codes import ICD10_SYSTEM, LOINC_SYSTEM, RXNORM_SYSTEM, SNOMED_SYSTEM
from apps.records.models import Allergy, LabResult, Medication, PatientReading, Problem, ReadingKind
from apps.records.models.readings import DIASTOLIC_LOINC, KINDS as READING_KINDS, SYSTOLIC_LOINC

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

_SUBSTANCE_SYSTEMS = {Allergy.CodeSystem.RXNORM: RXNORM_SYSTEM, Allergy.CodeSystem.SNOMED: SNOMED_SYSTEM}


def _substance(allergy):
    concept = {"text": allergy.substance}
    if allergy.substance_code:
        concept["coding"] = [{"system": _SUBSTANCE_SYSTEMS[allergy.substance_system], "code": allergy.substance_code,
                              "display": allergy.substance}]
    return concept


def render_allergy(allergy):
    reaction = {"manifestation": [{"text": allergy.reaction}], "severity": ALLERGY_SEVERITY[allergy.severity]}
    return clean({
        "resourceType": "AllergyIntolerance",
        "id": str(allergy.pk),
        "meta": meta(allergy.updated_at),
        "clinicalStatus": _coded(ALLERGY_CLINICAL, ALLERGY_STATUS[allergy.status]),
        "verificationStatus": _coded(ALLERGY_VERIFICATION, "confirmed"),
        "criticality": "high" if allergy.severity == Allergy.Severity.SEVERE else "low",
        "code": _substance(allergy),
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
        "medicationCodeableConcept": clean({
            "coding": [{"system": RXNORM_SYSTEM, "code": medication.rxnorm_code, "display": medication.name}]
            if medication.rxnorm_code else None,
            "text": medication.name,
        }),
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


# --- Observation (patient-reported readings from the patient's phone) ----------------------

UCUM = "http://unitsofmeasure.org"
_UCUM_CODES = {"steps": "{steps}"}  # the stored unit -> its UCUM code, where they differ


def _ucum(value, unit):
    return {"value": _number(value), "unit": unit, "system": UCUM, "code": _UCUM_CODES.get(unit, unit)}


def _loinc_concept(code, display):
    return {"coding": [{"system": LOINC_SYSTEM, "code": code, "display": display}], "text": display}


def render_reading(reading):
    """A PatientReading: category vital-signs or activity, LOINC, performer the patient
    (patient-reported, said again in the note), the measuring device by name; blood pressure
    as the panel with systolic and diastolic components."""
    kind = READING_KINDS[reading.kind]
    category = kind.category
    resource = {
        "resourceType": "Observation",
        "id": str(reading.pk),
        "meta": meta(reading.created_at),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category,
                                  "display": "Vital Signs" if category == "vital-signs" else "Activity"}]}],
        "code": _loinc_concept(kind.loinc, kind.display),
        "subject": reference("Patient", reading.patient_id),
        "effectiveDateTime": instant(reading.measured_at),
        "issued": instant(reading.created_at),
        "performer": [reference("Patient", reading.patient_id)],
        "device": {"display": reading.source},
        "note": [{"text": f"Patient-reported: sent by the patient's app from {reading.source}."}],
    }
    if reading.diastolic is not None:
        resource["component"] = [
            {"code": _loinc_concept(SYSTOLIC_LOINC, "Systolic blood pressure"),
             "valueQuantity": _ucum(reading.value, reading.unit)},
            {"code": _loinc_concept(DIASTOLIC_LOINC, "Diastolic blood pressure"),
             "valueQuantity": _ucum(reading.diastolic, reading.unit)},
        ]
    else:
        resource["valueQuantity"] = _ucum(reading.value, reading.unit)
    return clean(resource)


def render_any_observation(obj):
    return render_reading(obj) if isinstance(obj, PatientReading) else render_observation(obj)


# Both sources carry the same names for what Observation searches and orders by.
def _released_labs():
    return selectors.labs().filter(status=LabResult.Status.RELEASED).annotate(
        obs_date=F("collected_at"), obs_code=F("loinc_code"),
        obs_category=Value("laboratory", output_field=CharField()))


def _readings():
    def by_kind(attribute):
        return Case(*(When(kind=kind, then=Value(getattr(spec, attribute))) for kind, spec in READING_KINDS.items()),
                    output_field=CharField())

    return selectors.readings().annotate(obs_date=F("measured_at"), obs_code=by_kind("loinc"),
                                         obs_category=by_kind("category"))


def _loinc(system, code):
    if system not in (None, LOINC_SYSTEM):
        return NOTHING
    if code in (SYSTOLIC_LOINC, DIASTOLIC_LOINC):
        # A blood pressure component: the panels that hold it.
        return Q(obs_code=code) | Q(obs_code=READING_KINDS[ReadingKind.BLOOD_PRESSURE].loinc)
    return Q(obs_code=code)


def _category(system, code):
    if system not in (None, OBSERVATION_CATEGORY):
        return NOTHING
    if code not in CATEGORIES:
        raise ValueError(f"the categories are {', '.join(CATEGORIES)}.")
    return Q(obs_category=code)


CATEGORIES = ("laboratory", "vital-signs", "activity")

OBSERVATION = register(ResourceType(
    name="Observation",
    rows=_released_labs,
    parts=(_readings,),
    render=render_any_observation,
    order=("-obs_date", "id"),
    params={p.name: p for p in (
        patient_reference("patient"),
        token_param("category", "laboratory, vital-signs or activity (system "
                    "http://terminology.hl7.org/CodeSystem/observation-category).", _category),
        token_param("code", "The LOINC code: code, or http://loinc.org|code (a blood pressure component code "
                    "finds the panels that hold it).", _loinc),
        date_param("date", "obs_date", "When the specimen was collected or the reading taken (eq, ne, lt, le, gt, ge)."),
    )},
    documentation="Laboratory results once staff have released them (category laboratory), and the patient's own "
                  "readings from their phone (vital-signs, activity; patient-reported, performer the Patient). LOINC.",
))
