"""Races through the HTTP API on PostgreSQL: real threads, a barrier, exact winner counts, and
never a 500."""
import datetime

import pytest
from django.utils import timezone

from apps.scheduling.models import Visit, VisitSlot
from apps.scheduling.selectors import slots_with_two_active_visits
from tests.factories import PortalPatientFactory
from tests.scheduling.api_support import API, FULL_SCOPES, keyed
from tests.scheduling.factories import LocationFactory, ProviderFactory, SlotFactory, VisitTypeFactory
from tests.scheduling.test_races import Crowd

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("without_channel_layer")]

THREADS = 20
TRIALS = 3


@pytest.fixture
def world(requires_postgres, api_key_factory):
    visit_type = VisitTypeFactory(self_bookable=True)
    provider = ProviderFactory(offers=[visit_type])
    location = LocationFactory()
    raw = api_key_factory(*FULL_SCOPES)[1]
    crowd = Crowd(THREADS)
    clients = [keyed(raw) for _ in range(THREADS)]
    yield visit_type, provider, location, crowd, clients
    crowd.close()


def _slot(provider, location, n):
    start = (timezone.now() + datetime.timedelta(days=3)).replace(second=0, microsecond=0) + datetime.timedelta(minutes=30 * n)
    return SlotFactory(provider=provider, location=location, start=start, end=start + datetime.timedelta(minutes=30))


def test_twenty_clients_posting_one_slot_get_one_201_and_nineteen_409(world):
    visit_type, provider, location, crowd, clients = world
    patients = [PortalPatientFactory() for _ in range(THREADS)]

    for trial in range(TRIALS):
        slot = _slot(provider, location, trial)
        responses = crowd.run([
            (lambda c=c, p=p: c.post(f"{API}/visits/", {"patient": str(p.pk), "slot": str(slot.pk), "visit_type": str(visit_type.pk)},
                                     format="json", HTTP_IDEMPOTENCY_KEY=f"trial-{trial}"))
            for c, p in zip(clients, patients)
        ])

        assert all(kind == "ok" for kind, _ in responses), [repr(r) for _, r in responses]
        codes = sorted(r.status_code for _, r in responses)
        assert codes == [201] + [409] * (THREADS - 1), codes
        assert {r.json()["code"] for _, r in responses if r.status_code == 409} == {"slot_unavailable"}
        assert Visit.objects.filter(slot=slot).active().count() == 1
        assert VisitSlot.objects.get(pk=slot.pk).status == "BOOKED"
    assert not slots_with_two_active_visits().exists()


def test_twenty_identical_submits_with_one_key_all_return_the_same_visit(world):
    visit_type, provider, location, crowd, clients = world
    patient = PortalPatientFactory()
    slot = _slot(provider, location, 10)
    body = {"patient": str(patient.pk), "slot": str(slot.pk), "visit_type": str(visit_type.pk)}

    responses = crowd.run([(lambda c=c: c.post(f"{API}/visits/", body, format="json", HTTP_IDEMPOTENCY_KEY="double-click"))
                           for c in clients])

    assert all(kind == "ok" for kind, _ in responses), [repr(r) for _, r in responses]
    assert {r.status_code for _, r in responses} == {201}
    assert len({r.json()["id"] for _, r in responses}) == 1
    assert Visit.objects.filter(patient=patient).count() == 1
