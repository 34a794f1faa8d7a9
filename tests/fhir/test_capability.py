"""GET /fhir/R4/metadata: a valid CapabilityStatement that lists exactly what the server serves."""
import pytest
from django.urls import get_resolver

from apps.fhir.registry import resource_types
from tests.fhir.conftest import fhir_get
from tests.fhir.validation import validate

pytestmark = pytest.mark.django_db

EXPECTED = {
    "Patient": {"identifier", "name", "birthdate"},
    "Practitioner": set(),
    "Location": set(),
    "Schedule": {"actor"},
    "Slot": {"schedule", "start", "status"},
    "Appointment": {"patient", "date", "status"},
    "Encounter": {"patient", "date"},
    "Condition": {"patient"},
    "AllergyIntolerance": {"patient"},
    "MedicationRequest": {"patient"},
    "Observation": {"patient", "category", "code", "date"},
}


@pytest.fixture
def statement(clinic):
    response = fhir_get(clinic.fhir, "/fhir/R4/metadata")
    assert response.status_code == 200
    body = response.json()
    validate(body)
    return body


def test_the_statement_is_r4_json_read_only(statement):
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    assert "application/fhir+json" in statement["format"]
    assert statement["implementation"]["url"] == "http://testserver/fhir/R4/"
    for resource in statement["rest"][0]["resource"]:
        assert [i["code"] for i in resource["interaction"]] == ["read", "search-type"]


def test_the_statement_lists_exactly_the_types_and_parameters_served(statement):
    listed = {r["type"]: {p["name"] for p in r.get("searchParam", [])} for r in statement["rest"][0]["resource"]}

    served = {name: set(t.params) for name, t in resource_types().items()}
    assert listed == served
    assert listed == EXPECTED


def test_every_listed_type_has_a_read_and_a_search_route(statement):
    names = {pattern.name for pattern in get_resolver("apps.fhir.urls").url_patterns}

    for resource in statement["rest"][0]["resource"]:
        assert {f"fhir-{resource['type'].lower()}-search", f"fhir-{resource['type'].lower()}-read"} <= names
