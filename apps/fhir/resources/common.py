"""Small pieces every resource uses: references, instants, the code systems."""
import datetime

from django.db.models import Q

from apps.fhir.search import reference_param

CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"


def reference(resource_type, pk, display=None):
    ref = {"reference": f"{resource_type}/{pk}"}
    if display:
        ref["display"] = display
    return ref


def instant(value):
    """An aware datetime as a FHIR instant/dateTime, in UTC, to the second."""
    return value.astimezone(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def meta(updated_at):
    return {"lastUpdated": instant(updated_at)} if updated_at else {}


def clean(resource):
    """The resource without empty elements (FHIR forbids empty strings, lists and objects)."""
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


def patient_reference(name):
    """A search parameter for the patient a row belongs to (its patient_id)."""
    return reference_param(name, "The patient (Patient/id).", {"Patient": lambda pk: Q(patient_id=pk)})
