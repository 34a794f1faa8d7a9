"""Searches: Bundle searchset with total and links, each supported parameter, paging."""
import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.fhir.resources.scheduling import schedule_id
from apps.scheduling.models import Visit, VisitSlot
from tests.factories import PatientFactory
from tests.fhir.conftest import fhir_get
from tests.fhir.validation import validate

pytestmark = pytest.mark.django_db


def search(clinic, resource_type, params=None, *, client=None):
    response = fhir_get(client or clinic.fhir, f"/fhir/R4/{resource_type}", params)
    assert response.status_code == 200, response.content
    body = response.json()
    validate(body)
    assert body["type"] == "searchset"
    return body


def ids(bundle):
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def links(bundle):
    return {link["relation"]: link["url"] for link in bundle["link"]}


# --- Patient --------------------------------------------------------------------------------

def test_patient_by_mrn_identifier_with_and_without_the_system(clinic):
    mrn = clinic.patient.mrn

    with_system = search(clinic, "Patient", {"identifier": f"{settings.FHIR_MRN_SYSTEM}|{mrn}"})
    bare = search(clinic, "Patient", {"identifier": mrn})
    other_system = search(clinic, "Patient", {"identifier": f"http://example.org/mrn|{mrn}"})

    assert ids(with_system) == ids(bare) == [str(clinic.patient.pk)]
    assert with_system["total"] == 1
    assert other_system["total"] == 0 and "entry" not in other_system
    assert with_system["entry"][0]["fullUrl"] == f"http://testserver/fhir/R4/Patient/{clinic.patient.pk}"


def test_patient_by_name_prefix_exact_and_contains(clinic):
    PatientFactory(first_name="Zelda", last_name="Quartermaine")
    PatientFactory(first_name="Zed", last_name="Quarry")

    assert search(clinic, "Patient", {"name": "quart"})["total"] == 1
    assert search(clinic, "Patient", {"name": "Qua"})["total"] == 2
    assert search(clinic, "Patient", {"name:exact": "quarry"})["total"] == 0
    assert search(clinic, "Patient", {"name:exact": "Quarry"})["total"] == 1
    assert search(clinic, "Patient", {"name:contains": "ermai"})["total"] == 1


def test_patient_by_birthdate_day_month_year_and_ranges(clinic):
    PatientFactory(first_name="Old", date_of_birth=datetime.date(1950, 6, 15))
    PatientFactory(first_name="Young", date_of_birth=datetime.date(2010, 1, 2))

    def names(params):
        return sorted(e["resource"]["name"][0]["given"][0] for e in search(clinic, "Patient", params).get("entry", [])
                      if e["resource"]["name"][0]["given"][0] in ("Old", "Young"))

    assert names({"birthdate": "1950-06-15"}) == ["Old"]
    assert names({"birthdate": "1950-06"}) == ["Old"]
    assert names({"birthdate": "1950"}) == ["Old"]
    assert names({"birthdate": "1950-06-16"}) == []
    assert names({"birthdate": "ge2010-01-02"}) == ["Young"]
    assert names({"birthdate": "gt2010-01-02"}) == []
    assert names({"birthdate": ["ge1950-01-01", "lt1951"]}) == ["Old"]  # repeated: AND
    assert names({"birthdate": "1950-06-15,2010-01-02"}) == ["Old", "Young"]  # comma: OR
    assert "Old" not in names({"birthdate": "ne1950-06-15"})


# --- Slot -----------------------------------------------------------------------------------

def test_slot_by_schedule_status_and_start(clinic):
    sid = schedule_id(clinic.provider.pk, clinic.location.pk)
    start = clinic.free_slot.start

    free = search(clinic, "Slot", {"schedule": f"Schedule/{sid}", "status": "free"})
    busy = search(clinic, "Slot", {"schedule": sid, "status": "busy"})
    window = search(clinic, "Slot", {"start": [f"ge{start:%Y-%m-%dT%H:%M:%SZ}",
                                               f"lt{start + datetime.timedelta(minutes=30):%Y-%m-%dT%H:%M:%SZ}"]})

    assert ids(free) == [str(clinic.free_slot.pk)]
    assert busy["total"] == 3
    assert ids(window) == [str(clinic.free_slot.pk)]


def test_slot_start_with_an_offset_is_the_same_instant(clinic):
    start = timezone.localtime(clinic.free_slot.start)

    body = search(clinic, "Slot", {"start": start.isoformat(timespec="seconds")})

    assert ids(body) == [str(clinic.free_slot.pk)]


def test_slot_of_another_schedule_is_not_listed(clinic):
    other = schedule_id(clinic.provider.pk, clinic.provider.pk)  # a pair that has no availability

    assert search(clinic, "Slot", {"schedule": other})["total"] == 0


def test_schedule_search_lists_each_pair_once_and_by_actor(clinic):
    sid = schedule_id(clinic.provider.pk, clinic.location.pk)

    every = search(clinic, "Schedule")
    by_practitioner = search(clinic, "Schedule", {"actor": f"Practitioner/{clinic.provider.pk}"})
    by_location = search(clinic, "Schedule", {"actor": f"Location/{clinic.location.pk}"})

    assert ids(every) == ids(by_practitioner) == ids(by_location) == [sid]


# --- Appointment and Encounter --------------------------------------------------------------

def test_appointment_by_patient_date_and_status(clinic):
    patient = clinic.patient
    day = timezone.localtime(clinic.planned.start).date().isoformat()

    mine = search(clinic, "Appointment", {"patient": f"Patient/{patient.pk}"})
    booked = search(clinic, "Appointment", {"patient": str(patient.pk), "status": "booked"})
    on_day = search(clinic, "Appointment", {"date": day})
    done = search(clinic, "Appointment", {"status": "fulfilled,noshow"})

    assert sorted(ids(mine)) == sorted([str(clinic.planned.pk), str(clinic.completed.pk)])
    assert ids(booked) == [str(clinic.planned.pk)]
    assert sorted(ids(on_day)) == sorted([str(clinic.planned.pk), str(clinic.other_visit.pk)])
    assert ids(done) == [str(clinic.completed.pk)]


def test_appointment_checked_in_stands_for_checked_in_and_in_progress(clinic):
    Visit.objects.filter(pk=clinic.planned.pk).update(status=Visit.Status.IN_PROGRESS)

    assert ids(search(clinic, "Appointment", {"status": "checked-in"})) == [str(clinic.planned.pk)]


def test_encounter_by_patient_and_date(clinic):
    day = timezone.localtime(clinic.completed.checked_in_at).date()

    mine = search(clinic, "Encounter", {"patient": f"Patient/{clinic.patient.pk}"})
    that_day = search(clinic, "Encounter", {"date": day.isoformat()})
    later = search(clinic, "Encounter", {"date": f"gt{day.isoformat()}"})

    assert ids(mine) == ids(that_day) == [str(clinic.completed.pk)]
    assert later["total"] == 0


def test_practitioner_and_location_searches_list_the_directory(clinic):
    assert str(clinic.provider.pk) in ids(search(clinic, "Practitioner"))
    assert ids(search(clinic, "Location")) == [str(clinic.location.pk)]


# --- paging ---------------------------------------------------------------------------------

def test_paging_gives_self_next_and_previous_links_and_the_total(clinic):
    for _ in range(4):
        PatientFactory()
    total = search(clinic, "Patient")["total"]
    assert total == 6

    first = search(clinic, "Patient", {"_count": 4})
    second_url = links(first)["next"]
    second = fhir_get(clinic.fhir, second_url).json()
    validate(second)

    assert first["total"] == second["total"] == 6
    assert len(first["entry"]) == 4 and len(second["entry"]) == 2
    assert not set(ids(first)) & set(ids(second))
    assert "next" not in links(second)
    assert parse_qs(urlsplit(links(second)["previous"]).query) == {"_count": ["4"], "_offset": ["0"]}
    assert parse_qs(urlsplit(links(first)["self"]).query) == {"_count": ["4"], "_offset": ["0"]}


def test_paging_links_keep_the_search(clinic):
    body = search(clinic, "Appointment", {"patient": str(clinic.patient.pk), "_count": 1})

    query = parse_qs(urlsplit(links(body)["next"]).query)
    assert query == {"patient": [str(clinic.patient.pk)], "_count": ["1"], "_offset": ["1"]}
    follow = fhir_get(clinic.fhir, links(body)["next"]).json()
    assert follow["total"] == 2 and len(follow["entry"]) == 1


def test_count_is_bounded_and_zero_gives_only_the_total(clinic):
    big = search(clinic, "Slot", {"_count": 100000})
    none = search(clinic, "Slot", {"_count": 0})

    assert parse_qs(urlsplit(links(big)["self"]).query)["_count"] == ["100"]
    assert none["total"] == VisitSlot.objects.count() and "entry" not in none


def test_an_offset_past_the_end_is_an_empty_page(clinic):
    body = search(clinic, "Slot", {"_offset": 9_000_000_000_000_000_000})

    assert body["total"] == VisitSlot.objects.count() and "entry" not in body


def test_a_search_writes_one_access_log_entry_naming_the_patients_shown(clinic):
    before = AccessLog.objects.count()

    search(clinic, "Appointment")

    assert AccessLog.objects.count() == before + 1
    entry = AccessLog.objects.latest("at")
    assert entry.object_type == "scheduling.visit"
    assert sorted(map(str, entry.patient_ids)) == sorted([str(clinic.patient.pk), str(clinic.other_patient.pk)])
    assert entry.detail == {"view": "fhir_appointment_search"}
