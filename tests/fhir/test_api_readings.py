"""Observation from the patient's own readings (category vital-signs or activity, LOINC, blood
pressure as components, patient-reported), searched together with released labs by patient,
category, code and date; and the RxNorm / SNOMED CT codes of medications and allergies. Every
resource validated by the R4B models."""
import datetime

import pytest
from django.utils import timezone

from apps.audit.models import AccessLog
from tests.conftest import api_session
from tests.fhir.conftest import fhir_get
from tests.fhir.test_api_records import ids, read, search
from tests.records import factories as records

pytestmark = pytest.mark.django_db


def at(hours_ago):
    return (timezone.now() - datetime.timedelta(hours=hours_ago)).isoformat()


@pytest.fixture
def phone(clinic, provider_user):
    patient = clinic.patient
    rows = records.readings(patient, [
        records.bp_reading(134, 86, hours_ago=5),
        {"kind": "steps", "value": 9120, "unit": "steps", "measured_at": at(3), "source": "iPhone"},
        {"kind": "heart_rate", "value": 62, "unit": "bpm", "measured_at": at(4), "source": "Apple Watch"},
        {"kind": "weight", "value": 80.5, "unit": "kg", "measured_at": at(30 * 24), "source": "Withings"},
        {"kind": "glucose", "value": 104, "unit": "mg/dL", "measured_at": at(6), "source": "Contour"},
    ])
    other = records.readings(clinic.other_patient, [records.bp_reading(150, 95)])
    lab = records.lab(patient, provider_user, release=True, days_ago=1)
    return {"bp": rows[0], "steps": rows[1], "heart": rows[2], "weight": rows[3], "glucose": rows[4],
            "other": other[0], "lab": lab}


def test_a_blood_pressure_reading_is_a_vital_signs_panel_with_two_components(clinic, phone):
    body = read(clinic.fhir, f"Observation/{phone['bp'].pk}")

    assert body["category"][0]["coding"][0]["code"] == "vital-signs"
    assert body["code"]["coding"][0] == {"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}
    assert "valueQuantity" not in body
    systolic, diastolic = body["component"]
    assert systolic["code"]["coding"][0]["code"] == "8480-6" and systolic["valueQuantity"]["value"] == 134
    assert diastolic["code"]["coding"][0]["code"] == "8462-4" and diastolic["valueQuantity"]["value"] == 86
    assert systolic["valueQuantity"]["system"] == "http://unitsofmeasure.org" and systolic["valueQuantity"]["code"] == "mm[Hg]"
    assert body["performer"] == [{"reference": f"Patient/{clinic.patient.pk}"}]
    assert "Patient-reported" in body["note"][0]["text"] and body["device"]["display"] == "Omron BP7000"


def test_steps_are_activity_and_the_others_vital_signs_with_ucum_units(clinic, phone):
    steps = read(clinic.fhir, f"Observation/{phone['steps'].pk}")
    heart = read(clinic.fhir, f"Observation/{phone['heart'].pk}")
    weight = read(clinic.fhir, f"Observation/{phone['weight'].pk}")
    glucose = read(clinic.fhir, f"Observation/{phone['glucose'].pk}")

    assert steps["category"][0]["coding"][0]["code"] == "activity" and steps["code"]["coding"][0]["code"] == "55423-8"
    assert steps["valueQuantity"] == {"value": 9120, "unit": "steps", "system": "http://unitsofmeasure.org", "code": "{steps}"}
    assert heart["code"]["coding"][0]["code"] == "8867-4" and heart["valueQuantity"]["code"] == "/min"
    assert weight["code"]["coding"][0]["code"] == "29463-7" and weight["valueQuantity"]["value"] == 80.5
    assert glucose["code"]["coding"][0]["code"] == "41653-7" and glucose["valueQuantity"]["code"] == "mg/dL"


def test_search_by_category_code_and_date_mixes_labs_and_readings(clinic, phone):
    patient = clinic.patient
    everything = search(clinic.fhir, "Observation", {"patient": str(patient.pk)})
    vitals = search(clinic.fhir, "Observation", {"patient": str(patient.pk), "category": "vital-signs"})
    activity = search(clinic.fhir, "Observation",
                      {"patient": str(patient.pk),
                       "category": "http://terminology.hl7.org/CodeSystem/observation-category|activity"})
    labs = search(clinic.fhir, "Observation", {"patient": str(patient.pk), "category": "laboratory"})
    systolic = search(clinic.fhir, "Observation", {"code": "http://loinc.org|8480-6"})
    recent = search(clinic.fhir, "Observation", {"patient": str(patient.pk), "date": f"ge{datetime.date.today() - datetime.timedelta(days=7)}"})

    assert everything["total"] == 6
    # Newest first across both sources: steps (3 h), heart rate (4 h), BP (5 h), glucose (6 h), lab (1 day), weight (30 days).
    assert [e["resource"]["id"] for e in everything["entry"]] == [
        str(phone[k].pk) for k in ("steps", "heart", "bp", "glucose", "lab", "weight")]
    assert set(ids(vitals)) == {str(phone[k].pk) for k in ("bp", "heart", "weight", "glucose")}
    assert ids(activity) == [str(phone["steps"].pk)] and ids(labs) == [str(phone["lab"].pk)]
    assert set(ids(systolic)) == {str(phone["bp"].pk), str(phone["other"].pk)}
    assert str(phone["weight"].pk) not in ids(recent) and len(ids(recent)) == 5


def test_paging_walks_both_sources_without_gaps(clinic, phone):
    seen, offset = [], 0
    while True:
        page = search(clinic.fhir, "Observation", {"patient": str(clinic.patient.pk), "_count": 4, "_offset": offset})
        seen += ids(page)
        if not any(link["relation"] == "next" for link in page["link"]):
            break
        offset += 4

    assert len(seen) == len(set(seen)) == 6


def test_an_unknown_category_is_a_400_outcome(clinic, phone):
    response = fhir_get(clinic.fhir, "/fhir/R4/Observation", {"category": "imaging"})

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["category"]


def test_a_patient_reads_their_own_readings_and_never_anothers(clinic, phone):
    client = api_session(clinic.patient.user)

    mine = search(client, "Observation", {"category": "vital-signs"})
    theirs = fhir_get(client, f"/fhir/R4/Observation/{phone['other'].pk}")

    assert str(phone["other"].pk) not in ids(mine) and len(ids(mine)) == 4
    assert theirs.status_code == 404


def test_reads_and_searches_of_readings_are_audited(clinic, phone, provider_user):
    read(api_session(provider_user), f"Observation/{phone['bp'].pk}")
    search(clinic.fhir, "Observation", {"patient": str(clinic.patient.pk)})

    assert AccessLog.objects.filter(actor_user=provider_user, object_type="records.patientreading",
                                    object_id=str(phone["bp"].pk)).exists()
    listed = AccessLog.objects.filter(actor_api_key=clinic.key, object_type="records.patientreading", object_id="")
    assert [str(pk) for pk in listed.get().patient_ids] == [str(clinic.patient.pk)]


def test_staff_who_may_read_labs_but_not_readings_see_only_the_labs(clinic, phone, provider_user):
    from django.contrib.auth.models import Permission

    provider_user.groups.first().permissions.remove(Permission.objects.get(codename="view_patientreading"))
    provider_user.user_permissions.remove(Permission.objects.get(codename="view_patientreading"))
    provider_user = type(provider_user).objects.get(pk=provider_user.pk)

    body = search(api_session(provider_user), "Observation", {"patient": str(clinic.patient.pk)})

    assert ids(body) == [str(phone["lab"].pk)]


def test_medications_and_allergies_carry_rxnorm_and_snomed_codes(clinic, provider_user):
    med = records.medication(clinic.patient, provider_user, rxnorm_code="860975")
    drug = records.allergy(clinic.patient, provider_user, substance="Penicillin V", substance_system="rxnorm",
                           substance_code="7984")
    food = records.allergy(clinic.patient, provider_user, substance="Peanut", substance_system="snomed",
                           substance_code="256349002")
    plain = records.allergy(clinic.patient, provider_user, substance="Latex")

    medication = read(clinic.fhir, f"MedicationRequest/{med.pk}")
    assert medication["medicationCodeableConcept"]["coding"] == [
        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "860975", "display": "Metformin"}]
    assert read(clinic.fhir, f"AllergyIntolerance/{drug.pk}")["code"]["coding"][0]["system"] == \
        "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert read(clinic.fhir, f"AllergyIntolerance/{food.pk}")["code"]["coding"][0] == {
        "system": "http://snomed.info/sct", "code": "256349002", "display": "Peanut"}
    assert read(clinic.fhir, f"AllergyIntolerance/{plain.pk}")["code"] == {"text": "Latex"}
