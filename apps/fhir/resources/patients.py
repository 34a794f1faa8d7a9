"""Patient, from apps.patients (active records only: a merged record is not served).

| ours (Patient.sex_at_birth) | FHIR Patient.gender |
|-----------------------------|---------------------|
| F                           | female              |
| M                           | male                |
| X                           | other               |
| U                           | unknown             |

identifier: the MRN, system settings.FHIR_MRN_SYSTEM, type v2-0203 MR. name: the legal name
(official) and the preferred first name (usual) when there is one."""
from django.conf import settings
from django.db.models import Q

from apps.fhir.registry import ResourceType, register
from apps.fhir.resources.common import V2_IDENTIFIER_TYPE, clean, meta
from apps.fhir.search import NOTHING, date_param, string_param, token_param
from apps.patients.models import Patient
from apps.patients.selectors import patient_list

GENDER = {"F": "female", "M": "male", "X": "other", "U": "unknown"}


def mrn_identifier(patient):
    return {
        "use": "usual",
        "type": {"coding": [{"system": V2_IDENTIFIER_TYPE, "code": "MR", "display": "Medical record number"}]},
        "system": settings.FHIR_MRN_SYSTEM,
        "value": patient.mrn,
    }


def render_patient(patient):
    names = [clean({
        "use": "official",
        "family": patient.last_name,
        "given": [part for part in (patient.first_name, patient.middle_name) if part],
    })]
    if patient.preferred_name:
        names.append({"use": "usual", "family": patient.last_name, "given": [patient.preferred_name]})
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone, "use": "mobile"})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email, "use": "home"})
    lines = [line for line in (patient.address_line1, patient.address_line2) if line]
    address = clean({"use": "home", "line": lines, "city": patient.city, "state": patient.state,
                     "postalCode": patient.postal_code, "country": patient.country}) if lines or patient.city else {}
    return clean({
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": meta(patient.updated_at),
        "identifier": [mrn_identifier(patient)],
        "active": True,
        "name": names,
        "telecom": telecom,
        "gender": GENDER.get(patient.sex_at_birth, "unknown"),
        "birthDate": patient.date_of_birth.isoformat(),
        "address": [address] if address else [],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": patient.preferred_language}]},
                           "preferred": True}],
    })


def _identifier(system, code):
    if system not in (None, settings.FHIR_MRN_SYSTEM):
        return NOTHING
    return Q(mrn=code)


PATIENT = register(ResourceType(
    name="Patient",
    rows=patient_list,
    render=render_patient,
    order=("last_name", "first_name", "date_of_birth", "id"),
    params={p.name: p for p in (
        token_param("identifier", "The MRN: value, or system|value with the clinic's MRN system.", _identifier),
        string_param("name", ("first_name", "middle_name", "last_name", "preferred_name"),
                     "Any part of the name (starts with, any case; :exact, :contains)."),
        date_param("birthdate", "date_of_birth", "The date of birth (eq, ne, lt, le, gt, ge).", is_date_field=True),
    )},
    documentation="Active patient records; a patient session reads only its own.",
))

__all__ = ["PATIENT", "Patient", "render_patient"]
