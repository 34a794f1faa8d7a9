"""The FHIR routes' rows for the hostile-input walk (tests/hardening/walk_table.py): who calls
each route and which query parameters it reads. tests/fhir/test_hostile_walk.py walks them with
the walk's own machinery; walk_table.py may add them to its ROUTES (ROUTES += FHIR_ROUTES) so
that test_every_route_is_in_the_table counts them."""
import uuid

from apps.fhir.resources.scheduling import schedule_id
from tests.hardening.walk_table import ANY, P, Route

PAGING = (P("_count", "int"), P("_offset", "int"))
PATIENT_REF = P("patient", "uuid")


def _read(attr):
    return lambda w: {"resource_id": getattr(w, attr).pk}


def _nothing(w):
    return {"resource_id": uuid.uuid4()}  # the walk's world has no chart rows: a 404 to walk


def _schedule(w):
    return {"resource_id": schedule_id(w.provider.pk, w.location.pk)}


FHIR_ROUTES = [
    Route("fhir-metadata", "anon"),
    Route("fhir-unknown", "api", path=lambda w: {"version": "R4/", "rest": "Bogus"}, note="an OperationOutcome 404"),
    Route("fhir-patient-search", "api",
          query=(P("identifier", "free"), P("name", "free"), P("birthdate", "date"), *PAGING)),
    Route("fhir-patient-read", "api", path=_read("patient")),
    Route("fhir-practitioner-search", "api", query=PAGING),
    Route("fhir-practitioner-read", "api", path=_read("provider")),
    Route("fhir-location-search", "api", query=PAGING),
    Route("fhir-location-read", "api", path=_read("location")),
    Route("fhir-schedule-search", "api", query=(P("actor", "uuid"), *PAGING)),
    Route("fhir-schedule-read", "api", path=_schedule),
    Route("fhir-slot-search", "api", query=(P("schedule", "uuid"), P("start", "datetime"), P("status", "choice"), *PAGING)),
    Route("fhir-slot-read", "api", path=_read("free_slot")),
    Route("fhir-appointment-search", "api", query=(PATIENT_REF, P("date", "datetime"), P("status", "choice"), *PAGING)),
    Route("fhir-appointment-read", "api", path=_read("visit")),
    Route("fhir-encounter-search", "api", query=(PATIENT_REF, P("date", "datetime"), *PAGING)),
    Route("fhir-encounter-read", "api", path=_nothing),
    Route("fhir-condition-search", "api", query=(PATIENT_REF, *PAGING)),
    Route("fhir-condition-read", "api", path=_nothing),
    Route("fhir-allergyintolerance-search", "api", query=(PATIENT_REF, *PAGING)),
    Route("fhir-allergyintolerance-read", "api", path=_nothing),
    Route("fhir-medicationrequest-search", "api", query=(PATIENT_REF, *PAGING)),
    Route("fhir-medicationrequest-read", "api", path=_nothing),
    Route("fhir-observation-search", "api",
          query=(PATIENT_REF, P("code", "free", expect=ANY), P("date", "datetime"), *PAGING)),
    Route("fhir-observation-read", "api", path=_nothing),
]
