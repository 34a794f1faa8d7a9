"""Who may read what through FHIR.

- An integrator's API key needs the `fhir:read` scope (apps/accounts/scopes.py); it reads every
  row of every type (403 without the scope).
- Staff sign in with their second factor (MFASessionAuthentication: a session without it is not
  signed in here, 401). PHI types go through core's access layer with the owning app's rule, so
  staff need that model's view permission (patients.view_patient, scheduling.view_visit, ...;
  403 without); directory types need their own view permission.
- A patient (a portal session or the phone app's token) reads their own Patient compartment
  only: core's access layer narrows PHI rows to their own, so another patient's id answers 404
  and searches never list another patient's rows. They may also read the directory types
  (practitioners, locations, schedules, slots: no patient data), so references in their own
  resources resolve. A signed-in user with no patient record yet: 403.
- Nobody else: 401."""
from apps.core import access
from apps.core.exceptions import PermissionDenied
from apps.fhir.registry import DIRECTORY

SCOPE = "fhir:read"


def may_use_fhir(actor):
    """The endpoint-level question, once signed in (the views answer 401 before this)."""
    if access.is_api_key(actor):
        if not actor.has_scope(SCOPE):
            raise PermissionDenied(f"This API key does not hold the {SCOPE} scope.")
        return True
    if access.is_staff(actor):
        return True
    if access.patient_of(actor) is None:
        raise PermissionDenied("No patient record is linked to this account yet.")
    return True


def visible(actor, resource_type, rows=None):
    """The rows of `resource_type` the actor may read (may_use_fhir already answered yes):
    of `rows` (one of the type's sources, apps/fhir/registry.py), by default its main one."""
    rows = resource_type.rows() if rows is None else rows
    if access.is_api_key(actor):
        return rows
    if resource_type.kind == DIRECTORY:
        if access.is_staff(actor) and not (access.staff_verified(actor) and actor.has_perm(resource_type.staff_perm)):
            raise PermissionDenied()
        return rows
    return access.scope(actor, rows, access.VIEW)


def visible_sources(actor, resource_type):
    """The readable rows of each of the type's sources (apps/fhir/registry.py). A staff member
    who may read the main source but not an extra one (its model's view permission) reads the
    main one only, instead of a 403 for the whole type."""
    sources = [visible(actor, resource_type)]
    for rows in resource_type.parts:
        rows = rows()
        if access.is_staff(actor) and not access.may(actor, rows.model):
            sources.append(rows.none())
        else:
            sources.append(visible(actor, resource_type, rows))
    return sources
