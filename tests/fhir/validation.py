"""Every resource the server emits is checked here: by fhir.resources' R4B models (structure,
cardinality, datatypes; R4B shares R4's resources for all we emit) and by the rules those
models do not check: ids of at most 64 characters, no empty strings, lists or objects anywhere,
and the codes of the required bindings we use drawn from their value sets."""
from fhir.resources.R4B import get_fhir_model_class

# Required bindings of the elements we fill, (resourceType, dotted path) -> allowed codes.
REQUIRED_CODES = {
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("Patient", "name.use"): {"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"},
    ("Patient", "telecom.system"): {"phone", "fax", "email", "pager", "url", "sms", "other"},
    ("Patient", "identifier.use"): {"usual", "official", "temp", "secondary", "old"},
    ("Slot", "status"): {"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"},
    ("Appointment", "status"): {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
                                "entered-in-error", "checked-in", "waitlist"},
    ("Appointment", "participant.status"): {"accepted", "declined", "tentative", "needs-action"},
    ("Appointment", "participant.required"): {"required", "optional", "information-only"},
    ("Encounter", "status"): {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
                              "entered-in-error", "unknown"},
    ("Location", "status"): {"active", "suspended", "inactive"},
    ("Location", "mode"): {"instance", "kind"},
    ("Bundle", "type"): {"searchset"},
    ("OperationOutcome", "issue.severity"): {"fatal", "error", "warning", "information"},
    ("Condition", "clinicalStatus.coding.code"): {"active", "recurrence", "relapse", "inactive", "remission", "resolved"},
    ("Condition", "verificationStatus.coding.code"): {"unconfirmed", "provisional", "differential", "confirmed",
                                                      "refuted", "entered-in-error"},
    ("AllergyIntolerance", "clinicalStatus.coding.code"): {"active", "inactive", "resolved"},
    ("AllergyIntolerance", "verificationStatus.coding.code"): {"unconfirmed", "confirmed", "refuted", "entered-in-error"},
    ("AllergyIntolerance", "criticality"): {"low", "high", "unable-to-assess"},
    ("AllergyIntolerance", "reaction.severity"): {"mild", "moderate", "severe"},
    ("MedicationRequest", "status"): {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped",
                                      "draft", "unknown"},
    ("MedicationRequest", "intent"): {"proposal", "plan", "order", "original-order", "reflex-order", "filler-order",
                                      "instance-order", "option"},
    ("Observation", "status"): {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                                "entered-in-error", "unknown"},
}


def _empties(value, path=""):
    if value in ("", [], {}, None):
        yield path or "(root)"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _empties(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _empties(item, path)


def _values_at(value, parts):
    if not parts:
        yield value
        return
    if isinstance(value, list):
        for item in value:
            yield from _values_at(item, parts)
    elif isinstance(value, dict) and parts[0] in value:
        yield from _values_at(value[parts[0]], parts[1:])


def _check_codes(resource):
    kind = resource["resourceType"]
    for (owner, path), allowed in REQUIRED_CODES.items():
        if owner == kind:
            for code in _values_at(resource, path.split(".")):
                assert code in allowed, f"{kind}.{path} = {code!r} is not in its value set"
    assert len(resource.get("id", "")) <= 64, f"{kind}.id is longer than 64 characters"


def validate(resource):
    """The R4B model of `resource` (a dict as the server sent it); fails the test otherwise.
    A Bundle's entries and an OperationOutcome are checked too."""
    empty = list(_empties(resource))
    assert empty == [], f"empty elements: {empty}"
    _check_codes(resource)
    for entry in resource.get("entry", []):
        _check_codes(entry["resource"])
    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return model
