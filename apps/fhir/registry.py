"""The resource types this server reads: each names its rows, how one becomes a FHIR resource,
its search parameters and who may read it. apps/fhir/resources/ declares them; the views, the
URL conf and the CapabilityStatement all read this one list, so what the server says it supports
and what it answers cannot drift apart."""
import dataclasses
from typing import Callable

from django.db.models import Q

from apps.fhir.search import uuid_of

# Who may read a type (apps/fhir/rules.py):
# - PHI: rows through core's access layer (the owning app's rule): a patient their own rows
#   (their Patient compartment), staff with the model's view permission after their second factor.
# - DIRECTORY: the clinic's own facts (practitioners, locations, schedules): staff with
#   `staff_perm`, and any patient with a record (to resolve the references in their own data).
PHI, DIRECTORY = "phi", "directory"


@dataclasses.dataclass(frozen=True)
class ResourceType:
    name: str                      # the FHIR type, e.g. "Patient"
    rows: Callable                 # () -> queryset of every row the type can show
    render: Callable               # (obj) -> dict, the resource
    params: dict                   # name -> apps.fhir.search.Param
    kind: str = PHI
    staff_perm: str = ""           # DIRECTORY types: the staff permission
    order: tuple = ("pk",)         # a stable order for paging
    parse_id: Callable = uuid_of   # resource id -> the lookup value, or None (no such id)
    id_condition: Callable = None  # the parsed id -> Q (default: the primary key)
    # For types not stored as one row each (Schedule): (queryset, condition) -> rows to count
    # and slice, and (rows) -> the objects to render, loaded in a fixed number of queries.
    search_rows: Callable = None
    load: Callable = None
    # More row sources of the same type (Observation: released lab results and the patient's
    # own readings): each () -> a queryset of another model, annotated with the same names as
    # `rows` for every search parameter and for `order`, so one condition and one order fit all.
    # Searches count each source and read the page as one UNION (a fixed number of queries);
    # `render` receives rows of any source.
    parts: tuple = ()
    documentation: str = ""
    audit: bool = True             # False for PHI-kind rows that hold no patient data (slots)

    def condition_for_id(self, value):
        return self.id_condition(value) if self.id_condition else Q(pk=value)

    @property
    def audited(self):
        """Reads of patient data go to the access log; directory facts and slots carry none."""
        return self.audit and self.kind == PHI


_types = {}


def register(resource_type):
    _types[resource_type.name] = resource_type
    return resource_type


def resource_types():
    from apps.fhir import resources  # noqa: F401  (declares the types on first use)

    return dict(_types)


def get(name):
    return resource_types().get(name)
