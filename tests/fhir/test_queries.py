"""A search costs the same queries whatever `_count` (related rows are joined into the page
query; a Schedule page loads its practitioners and locations in two queries)."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import PortalPatientFactory
from tests.fhir.conftest import _slot
from tests.records import factories as records
from tests.scheduling.factories import LocationFactory, ProviderFactory, WindowFactory
from tests.scheduling.staff_pages import make_visit

pytestmark = pytest.mark.django_db

SEARCHES = ["Patient", "Practitioner", "Location", "Schedule", "Slot", "Appointment", "Encounter", "Condition",
            "AllergyIntolerance", "MedicationRequest", "Observation"]


@pytest.fixture
def busy_clinic(clinic, provider_user):
    """Thirty more visits (half of them completed), each with its own patient, a chart row of
    each kind, a released lab and two blood-pressure readings for eight of them, and more providers and locations with
    availability."""
    start = clinic.free_slot.start + datetime.timedelta(days=1)
    for i in range(30):
        slot = _slot(clinic.provider, clinic.location, start + datetime.timedelta(hours=i))
        patient = PortalPatientFactory()
        make_visit(slot, clinic.visit_type, patient=patient, status="COMPLETED" if i % 2 else "PLANNED")
        if i < 8:
            records.problem(patient, provider_user)
            records.allergy(patient, provider_user)
            records.medication(patient, provider_user, prescriber=clinic.provider)
            records.lab(patient, provider_user, release=True)
            # Observation searches lab results and the patients' own readings as one UNION
            records.readings(patient, [records.bp_reading(hours_ago=1), records.bp_reading(120, 80, hours_ago=3)])
    for _ in range(6):
        WindowFactory(provider=ProviderFactory(), location=LocationFactory())
    return clinic


def queries(client, url, params):
    """(queries, body) of the request, after one request to warm what is done once per client
    (the key's last-used stamp, the session's first read)."""
    client.get("/fhir/R4/Location")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(captured), response.json()


@pytest.mark.parametrize("resource_type", SEARCHES)
def test_a_search_costs_the_same_queries_for_one_row_or_fifty(busy_clinic, resource_type):
    url = f"/fhir/R4/{resource_type}"

    one, small = queries(busy_clinic.fhir, url, {"_count": 1})
    fifty, large = queries(busy_clinic.fhir, url, {"_count": 50})

    assert len(small["entry"]) == 1 and len(large["entry"]) == min(50, large["total"]) > 5
    assert one == fifty


def test_a_patient_search_is_key_count_page_and_one_audit_entry(busy_clinic):
    count, _ = queries(busy_clinic.fhir, "/fhir/R4/Appointment", {"_count": 50})

    # the key's lookup, COUNT, the page (related rows joined), the access-log entry
    assert count == 4


def test_a_patients_own_search_also_costs_a_fixed_number(busy_clinic):
    from tests.conftest import api_session

    client = api_session(busy_clinic.patient.user)
    one, _ = queries(client, "/fhir/R4/Appointment", {"_count": 1})
    many, body = queries(client, "/fhir/R4/Appointment", {"_count": 50})

    assert body["total"] == 2
    assert one == many
