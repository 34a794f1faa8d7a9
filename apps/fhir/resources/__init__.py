"""The resource types, declared on import (apps.fhir.registry.resource_types()), in the order
the CapabilityStatement lists them."""
from apps.fhir.resources import patients, scheduling  # noqa: F401  (first: Patient, then the schedule)
from apps.fhir.resources import records  # noqa: F401
