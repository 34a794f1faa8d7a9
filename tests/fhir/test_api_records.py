"""The records resources: Condition (ICD-10-CM), AllergyIntolerance, MedicationRequest and
Observation (laboratory, LOINC, released only), read and searched, validated by R4B models."""
import datetime

import pytest
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.records.models import Allergy, Medication, Problem
from tests.conftest import api_session
from tests.fhir.conftest import fhir_get
from tests.fhir.validation import validate
from tests.records import factories as records

pytestmark = pytest.mark.django_db


@pytest.fixture
def chart(clinic, provider_user):
    """The patient's chart, and one row of each kind for the other patient."""
    patient, other = clinic.patient, clinic.other_patient
    return {
        "problem": records.problem(patient, provider_user, code="E11.65", description="Type 2 diabetes with hyperglycemia"),
        "resolved": _resolved(records.problem(patient, provider_user, code="J06.9", description="Upper respiratory infection")),
        "allergy": records.allergy(patient, provider_user, severity=Allergy.Severity.SEVERE),
        "medication": records.medication(patient, provider_user, prescriber=clinic.provider,
                                         end_date=datetime.date(2026, 12, 31)),
        "released": records.lab(patient, provider_user, release=True, value="7.2", abnormal_flag="H", days_ago=3),
        "text_lab": records.lab(patient, provider_user, release=True, test_name="Strep A", loinc_code="6557-3",
                                value="Negative", reference_high=None, reference_text="Negative", days_ago=40),
        "unreleased": records.lab(patient, provider_user, release=False, days_ago=1),
        "other_problem": records.problem(other, provider_user),
        "other_lab": records.lab(other, provider_user, release=True),
    }


def _resolved(problem):
    """The problem, resolved (arrangement: the status is set directly)."""
    Problem.objects.filter(pk=problem.pk).update(status=Problem.Status.RESOLVED, resolved_date=datetime.date(2025, 1, 10))
    problem.refresh_from_db()
    return problem


def read(client, path):
    response = fhir_get(client, f"/fhir/R4/{path}")
    assert response.status_code == 200, response.content
    body = response.json()
    validate(body)
    return body


def search(client, path, params=None):
    response = fhir_get(client, f"/fhir/R4/{path}", params)
    assert response.status_code == 200, response.content
    body = response.json()
    validate(body)
    return body


def ids(bundle):
    return sorted(entry["resource"]["id"] for entry in bundle.get("entry", []))


def test_condition_has_its_icd10_cm_code_and_clinical_status(clinic, chart):
    problem = chart["problem"]

    body = read(clinic.fhir, f"Condition/{problem.pk}")

    assert body["code"]["coding"] == [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.65",
                                       "display": "Type 2 diabetes with hyperglycemia"}]
    assert body["clinicalStatus"]["coding"][0]["code"] == "active"
    assert body["category"][0]["coding"][0]["code"] == "problem-list-item"
    assert body["subject"] == {"reference": f"Patient/{clinic.patient.pk}"}
    assert body["onsetDateTime"] == "2020-03-01"


def test_a_resolved_condition_says_when(clinic, chart):
    body = read(clinic.fhir, f"Condition/{chart['resolved'].pk}")

    assert body["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert body["abatementDateTime"] == "2025-01-10"


def test_allergy_intolerance_with_reaction_and_criticality(clinic, chart):
    body = read(clinic.fhir, f"AllergyIntolerance/{chart['allergy'].pk}")

    assert body["code"] == {"text": "Penicillin"}
    assert body["patient"] == {"reference": f"Patient/{clinic.patient.pk}"}
    assert body["criticality"] == "high"
    assert body["reaction"] == [{"manifestation": [{"text": "Hives"}], "severity": "severe"}]


def test_medication_request_names_the_drug_dosage_and_prescriber(clinic, chart):
    body = read(clinic.fhir, f"MedicationRequest/{chart['medication'].pk}")

    assert body["status"] == "active" and body["intent"] == "order"
    assert body["medicationCodeableConcept"] == {"text": "Metformin"}
    assert body["requester"]["reference"] == f"Practitioner/{clinic.provider.pk}"
    assert body["dosageInstruction"][0]["text"] == "500 mg by mouth twice a day"
    assert body["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"] == {"start": "2024-01-01", "end": "2026-12-31"}


@pytest.mark.parametrize("ours, theirs", [(Medication.Status.ON_HOLD, "on-hold"), (Medication.Status.STOPPED, "stopped"),
                                          (Medication.Status.COMPLETED, "completed")])
def test_medication_request_status_follows_the_table(clinic, chart, ours, theirs):
    Medication.objects.filter(pk=chart["medication"].pk).update(status=ours)

    assert read(clinic.fhir, f"MedicationRequest/{chart['medication'].pk}")["status"] == theirs


def test_observation_is_a_final_laboratory_result_with_loinc_value_range_and_flag(clinic, chart):
    result = chart["released"]

    body = read(clinic.fhir, f"Observation/{result.pk}")

    assert body["status"] == "final"
    assert body["category"][0]["coding"][0]["code"] == "laboratory"
    assert body["code"]["coding"][0] == {"system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c"}
    assert body["valueQuantity"] == {"value": 7.2, "unit": "%"}
    assert body["referenceRange"] == [{"high": {"value": 5.6, "unit": "%"}}]
    assert body["interpretation"][0]["coding"][0]["code"] == "H"


def test_a_result_that_is_not_a_number_is_a_string_with_its_range_text(clinic, chart):
    body = read(clinic.fhir, f"Observation/{chart['text_lab'].pk}")

    assert body["valueString"] == "Negative" and "valueQuantity" not in body
    assert body["referenceRange"] == [{"text": "Negative"}]


@pytest.mark.parametrize("client_of", ["key", "staff", "patient"])
def test_an_unreleased_result_is_never_served(clinic, chart, provider_user, client_of):
    client = {"key": clinic.fhir, "staff": api_session(provider_user), "patient": api_session(clinic.patient.user)}[client_of]

    response = fhir_get(client, f"/fhir/R4/Observation/{chart['unreleased'].pk}")
    listed = search(client, "Observation", {"patient": str(clinic.patient.pk)})

    assert response.status_code == 404
    assert str(chart["unreleased"].pk) not in ids(listed)
    assert ids(listed) == sorted([str(chart["released"].pk), str(chart["text_lab"].pk)])


def test_observation_by_patient_code_and_date(clinic, chart):
    patient = clinic.patient
    day = timezone.localtime(chart["released"].collected_at).date()

    by_code = search(clinic.fhir, "Observation", {"patient": f"Patient/{patient.pk}", "code": "http://loinc.org|4548-4"})
    bare_code = search(clinic.fhir, "Observation", {"code": "6557-3"})
    other_system = search(clinic.fhir, "Observation", {"code": "http://snomed.info/sct|4548-4"})
    on_day = search(clinic.fhir, "Observation", {"patient": str(patient.pk), "date": day.isoformat()})
    recent = search(clinic.fhir, "Observation", {"patient": str(patient.pk), "date": f"ge{day - datetime.timedelta(days=7)}"})

    assert ids(by_code) == [str(chart["released"].pk)]
    assert ids(bare_code) == [str(chart["text_lab"].pk)]
    assert other_system["total"] == 0
    assert ids(on_day) == ids(recent) == [str(chart["released"].pk)]


@pytest.mark.parametrize("kind, key", [("Condition", "problem"), ("AllergyIntolerance", "allergy"),
                                       ("MedicationRequest", "medication")])
def test_chart_searches_by_patient(clinic, chart, kind, key):
    body = search(clinic.fhir, kind, {"patient": f"Patient/{clinic.patient.pk}"})

    assert str(chart[key].pk) in ids(body)
    assert all(e["resource"].get("subject", e["resource"].get("patient"))["reference"] == f"Patient/{clinic.patient.pk}"
               for e in body["entry"])


def test_a_patient_reads_their_chart_and_not_anothers(clinic, chart):
    client = api_session(clinic.patient.user)

    mine = search(client, "Condition")
    theirs = fhir_get(client, f"/fhir/R4/Condition/{chart['other_problem'].pk}")
    their_lab = fhir_get(client, f"/fhir/R4/Observation/{chart['other_lab'].pk}")

    assert ids(mine) == sorted([str(chart["problem"].pk), str(chart["resolved"].pk)])
    assert theirs.status_code == 404 and their_lab.status_code == 404


def test_chart_reads_are_audited_for_the_patient(clinic, chart):
    read(clinic.fhir, f"Observation/{chart['released'].pk}")
    search(clinic.fhir, "Condition", {"patient": str(clinic.patient.pk)})

    entries = AccessLog.objects.for_patient(clinic.patient.pk).filter(actor_api_key=clinic.key)
    assert sorted(e.detail["view"] for e in entries) == ["fhir_condition_search", "fhir_observation_read"]


def test_staff_without_the_records_permission_are_forbidden(clinic, chart, front_desk):
    client = api_session(front_desk)  # the front desk sees no clinical data

    for path in (f"Observation/{chart['released'].pk}", "Condition", "MedicationRequest", "AllergyIntolerance"):
        response = fhir_get(client, f"/fhir/R4/{path}")
        assert response.status_code == 403, path
        assert response.json()["issue"][0]["code"] == "forbidden"
