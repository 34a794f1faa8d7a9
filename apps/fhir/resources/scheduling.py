"""Practitioner, Location, Schedule, Slot, Appointment and Encounter, from apps.scheduling.

- Practitioner: a Provider (the staff user's name; credentials as a qualification).
- Location: a clinic site.
- Schedule: one provider's availability at one location: every (provider, location) pair that
  has an availability window or a slot. Its id joins the two ids (base32, `provider.location`).
- Slot: a VisitSlot; its schedule is its (provider, location) pair.
- Appointment: a Visit, whatever its status.
- Encounter: a Visit that has begun (checked in, in progress or completed), same id as its
  Appointment; period from the check-in (else the start, else the booked time) to completion.

Slot status (VisitSlot.Status -> Slot.status):

| ours    | FHIR             |
|---------|------------------|
| FREE    | free             |
| HELD    | busy-tentative   |
| BOOKED  | busy             |
| BLOCKED | busy-unavailable |

Appointment status (Visit.Status -> Appointment.status):

| ours        | FHIR       | why                                                        |
|-------------|------------|------------------------------------------------------------|
| PLANNED     | booked     |                                                            |
| CHECKED_IN  | checked-in |                                                            |
| IN_PROGRESS | checked-in | the appointment's part is done; the Encounter says in-progress |
| COMPLETED   | fulfilled  |                                                            |
| CANCELLED   | cancelled  |                                                            |
| NO_SHOW     | noshow     |                                                            |

Encounter status (Visit.Status -> Encounter.status): CHECKED_IN arrived, IN_PROGRESS
in-progress, COMPLETED finished. Encounter.class: v3-ActCode AMB (in person) or VR (virtual).

Appointment.serviceType: the visit type's name, with its billing codes: CPT (five characters,
http://www.ama-assn.org/go/cpt) or HCPCS Level II (a letter and four digits,
urn:oid:2.16.840.1.113883.6.285). appointmentType: v2-0276 WALKIN or ROUTINE."""
import base64
import binascii
import dataclasses
import re
import uuid

from django.db.models import Q
from django.db.models.functions import Coalesce

from apps.fhir.registry import DIRECTORY, ResourceType, register
from apps.fhir.resources.common import (
    CPT_SYSTEM, V3_ACT_CODE, V3_PARTICIPATION_TYPE, clean, instant, meta, patient_reference, reference,
)
from apps.fhir.search import code_param, date_param, reference_param
from apps.scheduling.models import AvailabilityWindow, Location, Mode, Provider, Visit, VisitSlot

HCPCS_SYSTEM = "urn:oid:2.16.840.1.113883.6.285"
V2_APPOINTMENT_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0276"
_CPT = re.compile(r"[0-9]{4}[0-9FTU]")
_HCPCS = re.compile(r"[A-V][0-9]{4}")
_TITLES = {"dr", "dr.", "prof", "prof.", "mr", "mr.", "ms", "ms.", "mrs", "mrs.", "mx", "mx."}

SLOT_STATUS = {
    VisitSlot.Status.FREE: "free",
    VisitSlot.Status.HELD: "busy-tentative",
    VisitSlot.Status.BOOKED: "busy",
    VisitSlot.Status.BLOCKED: "busy-unavailable",
}
APPOINTMENT_STATUS = {
    Visit.Status.PLANNED: "booked",
    Visit.Status.CHECKED_IN: "checked-in",
    Visit.Status.IN_PROGRESS: "checked-in",
    Visit.Status.COMPLETED: "fulfilled",
    Visit.Status.CANCELLED: "cancelled",
    Visit.Status.NO_SHOW: "noshow",
}
ENCOUNTER_STATUS = {
    Visit.Status.CHECKED_IN: "arrived",
    Visit.Status.IN_PROGRESS: "in-progress",
    Visit.Status.COMPLETED: "finished",
}


def _reverse(table):
    """FHIR code -> the stored values it stands for (several of ours may share one code)."""
    codes = {}
    for ours, theirs in table.items():
        codes.setdefault(theirs, []).append(str(ours))
    return codes


# --- Practitioner ---------------------------------------------------------------------------

def practitioner_name(user):
    words = user.full_name.split()
    prefix = [words.pop(0)] if len(words) > 1 and words[0].lower() in _TITLES else []
    name = {"use": "official", "text": user.get_full_name()}
    if words:
        name.update(family=words[-1], given=words[:-1], prefix=prefix)
    return clean(name)


def render_practitioner(provider):
    user = provider.user
    return clean({
        "resourceType": "Practitioner",
        "id": str(provider.pk),
        "active": provider.is_active and user.is_active,
        "name": [practitioner_name(user)],
        "telecom": [{"system": "email", "value": user.email, "use": "work"}] if user.email else [],
        "qualification": [{"code": {"text": provider.credentials}}] if provider.credentials else [],
    })


PRACTITIONER = register(ResourceType(
    name="Practitioner",
    rows=lambda: Provider.objects.select_related("user"),
    render=render_practitioner,
    params={},
    kind=DIRECTORY,
    staff_perm="scheduling.view_provider",
    order=("user__full_name", "user__email", "id"),
    documentation="The clinic's providers.",
))


# --- Location -------------------------------------------------------------------------------

def render_location(location):
    return clean({
        "resourceType": "Location",
        "id": str(location.pk),
        "status": "active" if location.is_active else "inactive",
        "name": location.name,
        "mode": "instance",
        "telecom": [{"system": "phone", "value": location.phone, "use": "work"}] if location.phone else [],
        "address": {"text": location.address} if location.address else {},
    })


LOCATION = register(ResourceType(
    name="Location",
    rows=lambda: Location.objects.all(),
    render=render_location,
    params={},
    kind=DIRECTORY,
    staff_perm="scheduling.view_location",
    order=("name", "id"),
    documentation="The clinic's sites.",
))


# --- Schedule -------------------------------------------------------------------------------

def _b32(value):
    return base64.b32encode(value.bytes).decode("ascii").rstrip("=").lower()


def schedule_id(provider_id, location_id):
    return f"{_b32(provider_id)}.{_b32(location_id)}"


def parse_schedule_id(text):
    """(provider id, location id) from a Schedule id, or None."""
    if len(text) != 53 or text[26] != ".":
        return None
    try:
        return tuple(uuid.UUID(bytes=base64.b32decode(part.upper() + "======")) for part in text.split("."))
    except (binascii.Error, ValueError):
        return None


def _schedule_condition(ids):
    return Q(provider_id=ids[0], location_id=ids[1])


@dataclasses.dataclass(frozen=True)
class ScheduleRow:
    provider: Provider
    location: Location

    @property
    def pk(self):
        return schedule_id(self.provider.pk, self.location.pk)


def schedule_rows(condition):
    """The (provider, location) pairs with a window or a slot, as one UNION query."""
    windows = AvailabilityWindow.objects.filter(condition).order_by().values("provider_id", "location_id")
    slots = VisitSlot.objects.filter(condition).order_by().values("provider_id", "location_id")
    return windows.union(slots).order_by("provider_id", "location_id")


def load_schedules(rows):
    """ScheduleRows for a page of pairs: two queries, whatever the page's size."""
    rows = list(rows)
    providers = Provider.objects.select_related("user").in_bulk({row["provider_id"] for row in rows})
    locations = Location.objects.in_bulk({row["location_id"] for row in rows})
    return [ScheduleRow(providers[row["provider_id"]], locations[row["location_id"]]) for row in rows]


def render_schedule(schedule):
    provider, location = schedule.provider, schedule.location
    return clean({
        "resourceType": "Schedule",
        "id": schedule.pk,
        "active": provider.is_active and location.is_active,
        "specialty": [{"text": provider.specialty}] if provider.specialty else [],
        "actor": [reference("Practitioner", provider.pk, provider.user.get_full_name()),
                  reference("Location", location.pk, location.name)],
        "comment": f"{provider.user.get_full_name()} at {location.name}",
    })


SCHEDULE = register(ResourceType(
    name="Schedule",
    rows=lambda: AvailabilityWindow.objects.all(),
    render=render_schedule,
    params={"actor": reference_param(
        "actor", "The practitioner or the location (Practitioner/id, Location/id).",
        {"Practitioner": lambda pk: Q(provider_id=pk), "Location": lambda pk: Q(location_id=pk)},
    )},
    kind=DIRECTORY,
    staff_perm="scheduling.view_availabilitywindow",
    parse_id=parse_schedule_id,
    id_condition=_schedule_condition,
    search_rows=schedule_rows,
    load=load_schedules,
    documentation="A provider's availability at a location.",
))


# --- Slot -----------------------------------------------------------------------------------

def render_slot(slot):
    return {
        "resourceType": "Slot",
        "id": str(slot.pk),
        "meta": meta(slot.updated_at),
        "schedule": reference("Schedule", schedule_id(slot.provider_id, slot.location_id)),
        "status": SLOT_STATUS[slot.status],
        "start": instant(slot.start),
        "end": instant(slot.end),
    }


SLOT = register(ResourceType(
    name="Slot",
    rows=lambda: VisitSlot.objects.all(),
    render=render_slot,
    order=("start", "provider_id", "id"),
    params={p.name: p for p in (
        reference_param("schedule", "The schedule (Schedule/id).", {"Schedule": _schedule_condition},
                        parse_id=parse_schedule_id),
        date_param("start", "start", "When the slot starts (eq, ne, lt, le, gt, ge)."),
        code_param("status", "free, busy, busy-tentative or busy-unavailable.", "status", _reverse(SLOT_STATUS)),
    )},
    documentation="Bookable times (no patient data: busy slots do not say whose).",
    audit=False,
))


# --- Appointment and Encounter --------------------------------------------------------------

VISIT_RELATED = ("patient", "provider__user", "location", "visit_type")


def _billing_codings(codes):
    codings = []
    for code in codes or []:
        if isinstance(code, str) and _CPT.fullmatch(code):
            codings.append({"system": CPT_SYSTEM, "code": code})
        elif isinstance(code, str) and _HCPCS.fullmatch(code):
            codings.append({"system": HCPCS_SYSTEM, "code": code})
    return codings


def _visit_type(visit):
    return clean({"coding": _billing_codings(visit.visit_type.default_billing_codes), "text": visit.visit_type.name})


def _people(visit):
    return (reference("Patient", visit.patient_id, visit.patient.display_name),
            reference("Practitioner", visit.provider_id, visit.provider.user.get_full_name()),
            reference("Location", visit.location_id, visit.location.name))


def render_appointment(visit):
    patient, practitioner, location = _people(visit)
    primary = {"coding": [{"system": V3_PARTICIPATION_TYPE, "code": "PPRF", "display": "primary performer"}]}
    return clean({
        "resourceType": "Appointment",
        "id": str(visit.pk),
        "meta": meta(visit.updated_at),
        "status": APPOINTMENT_STATUS[visit.status],
        "cancelationReason": {"text": visit.cancel_reason} if visit.status == Visit.Status.CANCELLED and visit.cancel_reason else {},
        "serviceType": [_visit_type(visit)],
        "appointmentType": {"coding": [{"system": V2_APPOINTMENT_TYPE, "code": "WALKIN" if visit.is_walk_in else "ROUTINE"}]},
        "start": instant(visit.start),
        "end": instant(visit.end),
        "minutesDuration": max(1, int((visit.end - visit.start).total_seconds() // 60)),
        "slot": [reference("Slot", visit.slot_id)] if visit.slot_id else [],
        "created": instant(visit.created_at),
        "participant": [
            {"actor": patient, "required": "required", "status": "accepted"},
            {"type": [primary], "actor": practitioner, "required": "required", "status": "accepted"},
            {"actor": location, "required": "required", "status": "accepted"},
        ],
    })


APPOINTMENT = register(ResourceType(
    name="Appointment",
    rows=lambda: Visit.objects.select_related(*VISIT_RELATED),
    render=render_appointment,
    order=("start", "id"),
    params={p.name: p for p in (
        patient_reference("patient"),
        date_param("date", "start", "When the appointment starts (eq, ne, lt, le, gt, ge)."),
        code_param("status", "booked, checked-in, fulfilled, cancelled or noshow.", "status", _reverse(APPOINTMENT_STATUS)),
    )},
    documentation="Booked visits, in every status.",
))


def render_encounter(visit):
    patient, practitioner, location = _people(visit)
    virtual = visit.mode == Mode.VIRTUAL
    return clean({
        "resourceType": "Encounter",
        "id": str(visit.pk),
        "meta": meta(visit.updated_at),
        "status": ENCOUNTER_STATUS[visit.status],
        "class": {"system": V3_ACT_CODE, "code": "VR" if virtual else "AMB", "display": "virtual" if virtual else "ambulatory"},
        "type": [_visit_type(visit)],
        "subject": patient,
        "participant": [{"type": [{"coding": [{"system": V3_PARTICIPATION_TYPE, "code": "PPRF"}]}], "individual": practitioner}],
        "appointment": [reference("Appointment", visit.pk)],
        "period": clean({"start": instant(visit.fhir_period_start),
                         "end": instant(visit.completed_at) if visit.completed_at else None}),
        "location": [{"location": location}],
    })


ENCOUNTER = register(ResourceType(
    name="Encounter",
    rows=lambda: Visit.objects.filter(status__in=list(ENCOUNTER_STATUS)).select_related(*VISIT_RELATED).annotate(
        fhir_period_start=Coalesce("checked_in_at", "started_at", "start")),
    render=render_encounter,
    order=("fhir_period_start", "id"),
    params={p.name: p for p in (
        patient_reference("patient"),
        date_param("date", "fhir_period_start", "When the encounter began (eq, ne, lt, le, gt, ge)."),
    )},
    documentation="Visits that have begun (checked in, in progress, completed).",
))
