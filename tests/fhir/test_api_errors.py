"""Errors are OperationOutcome resources with the right status, and hostile search values are a
400 naming the parameter, never a 500 (on SQLite and PostgreSQL alike)."""
import pytest

from apps.audit.models import AccessLog
from tests.fhir.conftest import fhir_get
from tests.fhir.validation import validate
from tests.hardening.walk_table import HUGE, LONG, dst_gap

pytestmark = pytest.mark.django_db


def outcome(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    validate(body)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == code
    return body["issue"][0]


def test_an_unknown_id_is_404(clinic):
    issue = outcome(fhir_get(clinic.fhir, "/fhir/R4/Patient/0b7c4e4e-59a5-4c29-8e0c-2a0f4b0b0b0b"), 404, "not-found")

    assert "Patient" in issue["diagnostics"]


@pytest.mark.parametrize("resource_id", ["not-a-uuid", HUGE, "9" * 5000, "a.b"])
def test_an_id_that_is_none_of_ours_is_404(clinic, resource_id):
    outcome(fhir_get(clinic.fhir, f"/fhir/R4/Appointment/{resource_id}"), 404, "not-found")
    outcome(fhir_get(clinic.fhir, f"/fhir/R4/Schedule/{resource_id}"), 404, "not-found")


def test_an_unknown_resource_type_or_path_is_404(clinic):
    outcome(fhir_get(clinic.fhir, "/fhir/R4/Medication"), 404, "not-supported")
    outcome(fhir_get(clinic.fhir, "/fhir/R4/Patient/x/_history"), 404, "not-found")
    outcome(fhir_get(clinic.fhir, "/fhir/R4/"), 404, "not-found")
    outcome(fhir_get(clinic.fhir, "/fhir/elsewhere"), 404, "not-found")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_are_405(clinic, method):
    response = getattr(clinic.fhir, method)("/fhir/R4/Patient", {"resourceType": "Patient"}, format="json")

    assert response["Content-Type"].startswith("application/fhir+json")
    outcome(response, 405, "not-supported")
    assert AccessLog.objects.count() == 0


def test_a_write_to_an_unknown_path_is_405_too(clinic):
    response = clinic.fhir.post("/fhir/R4/Bogus", {}, format="json")

    outcome(response, 405, "not-supported")


def test_xml_is_not_acceptable(clinic):
    outcome(fhir_get(clinic.fhir, "/fhir/R4/Patient", HTTP_ACCEPT="application/fhir+xml"), 406, "not-supported")
    outcome(fhir_get(clinic.fhir, "/fhir/R4/Patient", {"_format": "xml"}), 406, "not-supported")


@pytest.mark.parametrize("accept", ["application/json", "application/fhir+json", "*/*",
                                    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"])
def test_json_answers_whatever_json_accept_header_is_sent(clinic, accept):
    response = fhir_get(clinic.fhir, "/fhir/R4/Patient", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"


@pytest.mark.parametrize("params, parameter, code", [
    ({"family": "Smith"}, "family", "not-supported"),
    ({"name:fuzzy": "Smith"}, "name:fuzzy", "not-supported"),
    ({"_sort": "name"}, "_sort", "not-supported"),
    ({"birthdate": ""}, "birthdate", "invalid"),
    ({"birthdate": "1990-02-30"}, "birthdate", "invalid"),
    ({"birthdate": "sa1990"}, "birthdate", "invalid"),
    ({"birthdate": "yesterday"}, "birthdate", "invalid"),
    ({"identifier": "|"}, "identifier", "invalid"),
    ({"_count": "-1"}, "_count", "invalid"),
    ({"_count": "ten"}, "_count", "invalid"),
    ({"_count": ["1", "2"]}, "_count", "invalid"),
    ({"_offset": "1.5"}, "_offset", "invalid"),
])
def test_a_bad_search_parameter_is_400_naming_it(clinic, params, parameter, code):
    issue = outcome(fhir_get(clinic.fhir, "/fhir/R4/Patient", params), 400, code)

    assert issue["expression"] == [parameter]
    assert f"“{parameter}”" in issue["diagnostics"]


@pytest.mark.parametrize("path, params, parameter", [
    ("Slot", {"status": "open"}, "status"),
    ("Slot", {"schedule": "Practitioner/abc"}, "schedule"),
    ("Slot", {"schedule": "nonsense"}, "schedule"),
    ("Appointment", {"patient": "Patient/not-a-uuid"}, "patient"),
    ("Appointment", {"patient": "Practitioner/0b7c4e4e-59a5-4c29-8e0c-2a0f4b0b0b0b"}, "patient"),
    ("Appointment", {"status": "booked,"}, "status"),
    ("Encounter", {"date": "2026-13"}, "date"),
    ("Schedule", {"actor": "Patient/0b7c4e4e-59a5-4c29-8e0c-2a0f4b0b0b0b"}, "actor"),
])
def test_bad_values_of_other_types_parameters_are_400(clinic, path, params, parameter):
    issue = outcome(fhir_get(clinic.fhir, f"/fhir/R4/{path}", params), 400, "invalid")

    assert issue["expression"] == [parameter]


# --- hostile values (tests/hardening's classes) -----------------------------------------------

HOSTILE = [
    ("NUL", "a\x00b"), ("past 64 bits", HUGE), ("below -2**63", "-" + HUGE), ("10,000 characters", LONG),
    ("year 1", "0001-01-01"), ("year 9999", "9999-12-31"), ("year 9999 with an offset", "9999-12-31T23:00:00-05:00"),
    ("year 1 with an offset", "0001-01-01T00:00:00+05:00"), ("max datetime", "9999-12-31T23:59:59+14:00"),
]
SEARCHES = [
    ("Patient", "identifier"), ("Patient", "birthdate"), ("Patient", "_count"), ("Patient", "_offset"),
    ("Slot", "schedule"), ("Slot", "start"), ("Slot", "status"),
    ("Appointment", "patient"), ("Appointment", "date"), ("Appointment", "status"),
    ("Encounter", "patient"), ("Encounter", "date"), ("Schedule", "actor"),
    ("Condition", "patient"), ("AllergyIntolerance", "patient"), ("MedicationRequest", "patient"),
    ("Observation", "patient"), ("Observation", "code"), ("Observation", "date"),
]
# Token search text: any value but NUL may be asked for (it matches nothing).
FREE_TEXT = {("Patient", "identifier"), ("Observation", "code")}


@pytest.mark.parametrize("resource_type, parameter", SEARCHES)
@pytest.mark.parametrize("label, value", HOSTILE, ids=[label for label, _ in HOSTILE])
def test_hostile_values_are_400_operation_outcomes_naming_the_parameter(clinic, resource_type, parameter, label, value):
    response = fhir_get(clinic.fhir, f"/fhir/R4/{resource_type}", {parameter: value})

    if (resource_type, parameter) in FREE_TEXT and label != "NUL":
        assert response.status_code == 200  # any text may be asked for: no MRN is like these
        assert response.json()["total"] == 0
        return
    issue = outcome(response, 400, "invalid")
    assert issue["expression"] == [parameter]


@pytest.mark.parametrize("resource_type, parameter", [("Slot", "start"), ("Appointment", "date"), ("Encounter", "date")])
def test_a_time_inside_the_clinics_dst_gap_is_400(clinic, resource_type, parameter):
    issue = outcome(fhir_get(clinic.fhir, f"/fhir/R4/{resource_type}", {parameter: dst_gap()}), 400, "invalid")

    assert "does not exist" in issue["diagnostics"]


def test_a_nul_in_a_parameter_name_or_the_path_is_refused_as_fhir(clinic):
    issue = outcome(fhir_get(clinic.fhir, "/fhir/R4/Patient", {"na\x00me": "x"}), 400, "invalid")
    assert issue["expression"] == ["na\\x00me"]

    outcome(fhir_get(clinic.fhir, "/fhir/R4/Patient/%00"), 404, "not-found")


def test_names_are_searched_as_text_whatever_their_length(clinic):
    response = fhir_get(clinic.fhir, "/fhir/R4/Patient", {"name": LONG})

    assert response.status_code == 200 and response.json()["total"] == 0
