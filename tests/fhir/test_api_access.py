"""Who reads what: integrator keys by scope, staff with their second factor and the model
permission, a patient their own compartment only (another patient's data: 404, and never in a
search), nobody else."""
import pytest
from rest_framework.test import APIClient

from apps.fhir.resources.scheduling import schedule_id
from tests.conftest import api_keyed_client, api_session
from tests.factories import UserFactory
from tests.fhir.conftest import fhir_get

pytestmark = pytest.mark.django_db

# (resource type, the clinic attribute whose pk is its id: patient data of clinic.patient)
OWN = [("Patient", "patient"), ("Appointment", "planned"), ("Encounter", "completed")]
OTHERS = [("Patient", "other_patient"), ("Appointment", "other_visit")]
DIRECTORY = [("Practitioner", "provider"), ("Location", "location"), ("Slot", "free_slot")]


def url(clinic, kind, attr):
    return f"/fhir/R4/{kind}/{getattr(clinic, attr).pk}"


def schedule_url(clinic):
    return f"/fhir/R4/Schedule/{schedule_id(clinic.provider.pk, clinic.location.pk)}"


def assert_outcome(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == code


@pytest.mark.parametrize("kind, attr", OWN + OTHERS + DIRECTORY)
def test_a_key_with_fhir_read_reads_everything(clinic, kind, attr):
    response = fhir_get(clinic.fhir, url(clinic, kind, attr))

    assert response.status_code == 200
    assert response.json()["id"] == str(getattr(clinic, attr).pk)


@pytest.mark.parametrize("path", ["/fhir/R4/Patient", "/fhir/R4/Slot"])
def test_a_key_without_the_fhir_scope_is_forbidden(clinic, api_key_factory, path):
    _, raw = api_key_factory("patients:read", "scheduling:read")

    response = fhir_get(api_keyed_client(raw), path)

    assert_outcome(response, 403, "forbidden")
    assert "fhir:read" in response.json()["issue"][0]["diagnostics"]


def test_a_revoked_or_unknown_key_is_401(clinic):
    response = fhir_get(api_keyed_client("not-a-key"), "/fhir/R4/Patient")

    assert_outcome(response, 401, "login")


@pytest.mark.parametrize("path", ["/fhir/R4/Patient", "/fhir/R4/Appointment", "/fhir/R4/Slot"])
def test_anonymous_is_401_with_the_scheme_to_use(clinic, path):
    response = fhir_get(APIClient(), path)

    assert_outcome(response, 401, "login")
    assert response["WWW-Authenticate"] == "Api-Key"


def test_staff_without_their_second_factor_get_a_401_outcome_and_read_nothing(clinic, provider_user):
    # A FHIR client is no browser: no redirect to the MFA page, an OperationOutcome instead.
    response = fhir_get(api_session(provider_user, verified=False), url(clinic, "Patient", "patient"))

    assert_outcome(response, 401, "login")
    assert clinic.patient.mrn.encode() not in response.content
    assert clinic.patient.last_name.encode() not in response.content


def test_staff_without_their_second_factor_still_reach_no_staff_page(clinic, provider_user):
    response = api_session(provider_user, verified=False).get("/staff/")

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/mfa/")


@pytest.mark.parametrize("kind, attr", OWN + OTHERS + DIRECTORY)
def test_staff_with_the_permission_read_any_patient(clinic, provider_user, kind, attr):
    response = fhir_get(api_session(provider_user), url(clinic, kind, attr))

    assert response.status_code == 200
    assert response.json()["resourceType"] == kind


def test_staff_without_the_models_permission_are_forbidden(clinic, billing_user):
    client = api_session(billing_user)  # billing: patients and visits, not slots or availability

    assert fhir_get(client, url(clinic, "Appointment", "planned")).status_code == 200
    assert_outcome(fhir_get(client, url(clinic, "Slot", "free_slot")), 403, "forbidden")
    assert_outcome(fhir_get(client, schedule_url(clinic)), 403, "forbidden")
    assert_outcome(fhir_get(client, "/fhir/R4/Slot"), 403, "forbidden")


@pytest.mark.parametrize("kind, attr", OWN + DIRECTORY)
def test_a_patient_reads_their_own_compartment_and_the_directory(clinic, kind, attr):
    response = fhir_get(api_session(clinic.patient.user), url(clinic, kind, attr))

    assert response.status_code == 200
    assert response.json()["id"] == str(getattr(clinic, attr).pk)


@pytest.mark.parametrize("kind, attr", OTHERS)
def test_another_patients_data_is_not_found_for_a_patient(clinic, kind, attr):
    response = fhir_get(api_session(clinic.patient.user), url(clinic, kind, attr))

    assert_outcome(response, 404, "not-found")


@pytest.mark.parametrize("kind", ["Patient", "Appointment", "Encounter"])
def test_a_patients_search_lists_only_their_own_rows(clinic, kind):
    client = api_session(clinic.patient.user)

    every = fhir_get(client, f"/fhir/R4/{kind}").json()
    asked_for_other = fhir_get(client, f"/fhir/R4/{kind}", {"patient" if kind != "Patient" else "identifier":
                                                            clinic.other_patient.pk if kind != "Patient" else clinic.other_patient.mrn}).json()

    subjects = {entry["resource"]["id"] if kind == "Patient" else
                next(p["actor"]["reference"] for p in entry["resource"].get("participant", []) if "actor" in p)
                if kind == "Appointment" else entry["resource"]["subject"]["reference"]
                for entry in every["entry"]}
    assert subjects == ({str(clinic.patient.pk)} if kind == "Patient" else {f"Patient/{clinic.patient.pk}"})
    assert asked_for_other["total"] == 0


def test_a_signed_in_user_without_a_patient_record_is_forbidden(clinic):
    response = fhir_get(api_session(UserFactory()), "/fhir/R4/Patient")

    assert_outcome(response, 403, "forbidden")


def test_the_capability_statement_is_public(clinic):
    response = fhir_get(APIClient(), "/fhir/R4/metadata")

    assert response.status_code == 200
    assert response.json()["resourceType"] == "CapabilityStatement"
