"""The CapabilityStatement (GET /fhir/R4/metadata), written from the registry of resource
types (apps/fhir/registry.py): exactly the types, interactions and search parameters the views
serve, and nothing else."""
from django.conf import settings

from apps.fhir.registry import resource_types
from apps.fhir.search import DEFAULT_COUNT, MAX_COUNT

# When this statement last changed (a FHIR dateTime).
STATEMENT_DATE = "2026-12-03"

PAGING = (f"Searches return a Bundle of type searchset with total and self/next/previous links; "
          f"_count (0 to {MAX_COUNT}, default {DEFAULT_COUNT}; 0 gives only the total) and _offset page "
          "through it. Unknown parameters and modifiers are refused (400 OperationOutcome), not ignored.")
SECURITY = ("Integrators: an API key with the fhir:read scope, sent as `Authorization: Api-Key <key>`. Staff: a "
            "signed-in session with its second factor verified. Patients: their own signed-in session reads "
            "their own Patient compartment (and the practitioners, locations, schedules and slots it refers to).")


def _resource(resource_type):
    entry = {
        "type": resource_type.name,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
        "documentation": resource_type.documentation,
    }
    if resource_type.params:
        entry["searchParam"] = [
            {"name": param.name, "type": param.type, "documentation": param.documentation}
            for param in resource_type.params.values()
        ]
    return entry


def capability_statement(base_url):
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": STATEMENT_DATE,
        "publisher": settings.CLINIC_NAME,
        "kind": "instance",
        "software": {"name": f"{settings.CLINIC_NAME} FHIR read API"},
        "implementation": {"description": f"{settings.CLINIC_NAME}: FHIR R4, read-only", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [{
            "mode": "server",
            "documentation": PAGING,
            "security": {"cors": False, "description": SECURITY},
            "resource": [_resource(resource_type) for resource_type in resource_types().values()],
        }],
    }
