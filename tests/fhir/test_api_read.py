"""Read by id: each resource type as the server emits it, validated by fhir.resources' R4B
models, with the systems and status tables of apps/fhir/resources/."""
import pytest
from django.conf import settings

from apps.audit.models import AccessLog
from apps.fhir.resources.scheduling import schedule_id
from apps.scheduling.models import Visit, VisitSlot
from tests.fhir.conftest import fhir_get
from tests.fhir.validation import validate

pytestmark = pytest.mark.django_db


def read(clinic, path):
    response = fhir_get(clinic.fhir, f"/fhir/R4/{path}")
    assert response.status_code == 200, response.content
    body = response.json()
    validate(body)
    return body


def test_patient_carries_the_mrn_with_the_clinics_system_and_the_legal_name(clinic):
    patient = clinic.patient

    body = read(clinic, f"Patient/{patient.pk}")

    assert body["id"] == str(patient.pk)
    assert body["identifier"][0]["system"] == settings.FHIR_MRN_SYSTEM
    assert body["identifier"][0]["value"] == patient.mrn
    assert body["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert body["name"][0] == {"use": "official", "family": patient.last_name, "given": [patient.first_name]}
    assert body["birthDate"] == patient.date_of_birth.isoformat()
    assert body["gender"] == "unknown"  # the factory's sex at birth: U


def test_patient_with_a_preferred_name_and_address_lists_both_names(clinic):
    patient = clinic.patient
    patient.preferred_name, patient.middle_name, patient.sex_at_birth = "Bea", "Ann", "F"
    patient.address_line1, patient.city, patient.state, patient.postal_code = "2 Elm St", "Albany", "NY", "12207"
    patient.save()

    body = read(clinic, f"Patient/{patient.pk}")

    assert body["name"][0]["given"] == [patient.first_name, "Ann"]
    assert body["name"][1] == {"use": "usual", "family": patient.last_name, "given": ["Bea"]}
    assert body["gender"] == "female"
    assert body["address"] == [{"use": "home", "line": ["2 Elm St"], "city": "Albany", "state": "NY",
                                "postalCode": "12207", "country": "US"}]


def test_practitioner_has_family_given_prefix_and_credentials(clinic):
    body = read(clinic, f"Practitioner/{clinic.provider.pk}")

    assert body["name"] == [{"use": "official", "text": "Dr. Priya Shah", "family": "Shah", "given": ["Priya"], "prefix": ["Dr."]}]
    assert body["qualification"] == [{"code": {"text": "MD"}}]
    assert body["active"] is True


def test_location_reads_with_its_phone_and_address(clinic):
    body = read(clinic, f"Location/{clinic.location.pk}")

    assert body["name"] == "Riverside Main"
    assert body["status"] == "active"
    assert body["address"] == {"text": "1 River Rd, New York, NY"}


def test_schedule_is_a_providers_availability_at_a_location(clinic):
    sid = schedule_id(clinic.provider.pk, clinic.location.pk)

    body = read(clinic, f"Schedule/{sid}")

    assert body["id"] == sid
    assert [a["reference"] for a in body["actor"]] == [f"Practitioner/{clinic.provider.pk}", f"Location/{clinic.location.pk}"]


@pytest.mark.parametrize("ours, theirs", [
    (VisitSlot.Status.FREE, "free"), (VisitSlot.Status.BOOKED, "busy"), (VisitSlot.Status.BLOCKED, "busy-unavailable"),
])
def test_slot_status_follows_the_table(clinic, ours, theirs):
    VisitSlot.objects.filter(pk=clinic.free_slot.pk).update(status=ours)

    body = read(clinic, f"Slot/{clinic.free_slot.pk}")

    assert body["status"] == theirs
    assert body["schedule"] == {"reference": f"Schedule/{schedule_id(clinic.provider.pk, clinic.location.pk)}"}


def test_a_schedules_slot_reference_resolves(clinic):
    slot = read(clinic, f"Slot/{clinic.free_slot.pk}")

    read(clinic, slot["schedule"]["reference"])


def test_appointment_has_cpt_and_hcpcs_service_types_and_its_participants(clinic):
    visit = clinic.planned

    body = read(clinic, f"Appointment/{visit.pk}")

    assert body["status"] == "booked"
    assert body["serviceType"] == [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"},
                                               {"system": "urn:oid:2.16.840.1.113883.6.285", "code": "G2012"}],
                                    "text": "Follow-up"}]
    assert [p["actor"]["reference"] for p in body["participant"]] == [
        f"Patient/{visit.patient_id}", f"Practitioner/{visit.provider_id}", f"Location/{visit.location_id}"]
    assert body["slot"] == [{"reference": f"Slot/{visit.slot_id}"}]
    assert body["minutesDuration"] == 30


@pytest.mark.parametrize("ours, theirs", [
    (Visit.Status.PLANNED, "booked"), (Visit.Status.CHECKED_IN, "checked-in"), (Visit.Status.IN_PROGRESS, "checked-in"),
    (Visit.Status.COMPLETED, "fulfilled"), (Visit.Status.CANCELLED, "cancelled"), (Visit.Status.NO_SHOW, "noshow"),
])
def test_appointment_status_follows_the_table(clinic, ours, theirs):
    Visit.objects.filter(pk=clinic.planned.pk).update(status=ours, cancel_reason="Unwell")

    body = read(clinic, f"Appointment/{clinic.planned.pk}")

    assert body["status"] == theirs
    assert ("cancelationReason" in body) == (ours == Visit.Status.CANCELLED)


def test_encounter_of_a_completed_visit_is_finished_with_its_period(clinic):
    visit = clinic.completed

    body = read(clinic, f"Encounter/{visit.pk}")

    assert body["status"] == "finished"
    assert body["class"]["code"] == "AMB"
    assert body["subject"]["reference"] == f"Patient/{visit.patient_id}"
    assert body["appointment"] == [{"reference": f"Appointment/{visit.pk}"}]
    assert body["period"]["start"] == visit.checked_in_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["period"]["end"] == visit.completed_at.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("ours, theirs", [(Visit.Status.CHECKED_IN, "arrived"), (Visit.Status.IN_PROGRESS, "in-progress")])
def test_encounter_status_follows_the_table_and_a_virtual_visit_is_vr(clinic, ours, theirs):
    Visit.objects.filter(pk=clinic.planned.pk).update(status=ours, mode="VIRTUAL")

    body = read(clinic, f"Encounter/{clinic.planned.pk}")

    assert body["status"] == theirs
    assert body["class"]["code"] == "VR"
    assert "end" not in body["period"]


def test_a_planned_visit_is_no_encounter_yet(clinic):
    response = fhir_get(clinic.fhir, f"/fhir/R4/Encounter/{clinic.planned.pk}")

    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-found"


def test_a_read_of_patient_data_is_audited_with_the_keys_name(clinic):
    read(clinic, f"Appointment/{clinic.planned.pk}")

    entry = AccessLog.objects.get(object_type="scheduling.visit", object_id=str(clinic.planned.pk))
    assert entry.action == "read"
    assert entry.patient_id == clinic.patient.pk
    assert entry.actor_label == "api-key:fhir-integrator"
    assert entry.detail == {"view": "fhir_appointment_read"}


def test_directory_reads_write_no_access_log_entry(clinic):
    before = AccessLog.objects.count()

    read(clinic, f"Practitioner/{clinic.provider.pk}")
    read(clinic, f"Slot/{clinic.free_slot.pk}")

    assert AccessLog.objects.count() == before
