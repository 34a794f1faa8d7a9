"""A small clinic for the FHIR tests: two patients, a provider with slots at a location (one
free, one booked by each patient), a planned and a completed visit, and the clients that read
it: an integrator key with fhir:read, a key without it, staff, the patients."""
import dataclasses
import datetime

import pytest
from django.utils import timezone

from apps.scheduling.models import Visit, VisitSlot
from tests.conftest import api_keyed_client, api_session
from tests.scheduling.factories import LocationFactory, ProviderFactory, SlotFactory, VisitTypeFactory, WindowFactory
from tests.scheduling.staff_pages import make_visit

FHIR_MEDIA_TYPE = "application/fhir+json"


@dataclasses.dataclass
class Clinic:
    patient: object
    other_patient: object
    provider: object
    location: object
    visit_type: object
    free_slot: object
    planned: object
    completed: object
    other_visit: object
    fhir: object       # an API client with a fhir:read key
    key: object


def _slot(provider, location, start, **kwargs):
    return SlotFactory(provider=provider, location=location, start=start, end=start + datetime.timedelta(minutes=30), **kwargs)


@pytest.fixture
def clinic(db, patient, other_patient, api_key_factory):
    location = LocationFactory(name="Riverside Main", phone="+12125550100", address="1 River Rd, New York, NY")
    visit_type = VisitTypeFactory(name="Follow-up", default_billing_codes=["99213", "G2012", "not-a-code"])
    provider = ProviderFactory(offers=[visit_type], user__full_name="Dr. Priya Shah")
    WindowFactory(provider=provider, location=location)
    start = (timezone.now() + datetime.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    free_slot = _slot(provider, location, start)
    planned = make_visit(_slot(provider, location, start + datetime.timedelta(hours=1)), visit_type, patient=patient)
    past = start - datetime.timedelta(days=10)
    completed = make_visit(_slot(provider, location, past), visit_type, patient=patient, status=Visit.Status.COMPLETED)
    Visit.objects.filter(pk=completed.pk).update(checked_in_at=past - datetime.timedelta(minutes=5),
                                                 started_at=past, completed_at=past + datetime.timedelta(minutes=25))
    completed.refresh_from_db()
    other_visit = make_visit(_slot(provider, location, start + datetime.timedelta(hours=2)), visit_type, patient=other_patient)
    key, raw = api_key_factory("fhir:read", name="fhir-integrator")
    return Clinic(patient=patient, other_patient=other_patient, provider=provider, location=location, visit_type=visit_type,
                  free_slot=free_slot, planned=planned, completed=completed, other_visit=other_visit,
                  fhir=api_keyed_client(raw), key=key)


def fhir_get(client, url, data=None, **extra):
    """GET `url`; the answer must be application/fhir+json (errors too)."""
    response = client.get(url, data or {}, **extra)
    assert response["Content-Type"].startswith(FHIR_MEDIA_TYPE), (response.status_code, response["Content-Type"], response.content[:300])
    return response


def staff_client(user, *, verified=True):
    return api_session(user, verified=verified)


__all__ = ["Clinic", "VisitSlot", "fhir_get", "staff_client"]
