"""Races through the HTTP API on PostgreSQL: real threads, a barrier, exact winner counts, and
never a 500."""
import datetime

import pytest
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.messaging.models import OutboundMessage
from apps.scheduling import services
from apps.scheduling.models import IdempotencyRecord, Visit, VisitSlot
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
    assert sorted(r.headers.get("Idempotent-Replayed", "") for _, r in responses) == [""] + ["true"] * (THREADS - 1)
    assert Visit.objects.filter(patient=patient).count() == 1


# --- Idempotency-Key, payment-style: ten concurrent requests with one key -------------------

TEN = 10


@pytest.fixture
def ten(requires_postgres, api_key_factory):
    visit_type = VisitTypeFactory(self_bookable=True)
    provider = ProviderFactory(offers=[visit_type])
    location = LocationFactory()
    raw = api_key_factory(*FULL_SCOPES)[1]
    crowd = Crowd(TEN)
    yield visit_type, provider, location, crowd, [keyed(raw) for _ in range(TEN)]
    crowd.close()


def _first_and_replays(responses):
    """The one answer that executed (no header) and the others, which must each be the replay
    of it (201 + Idempotent-Replayed: true, the same body) or 409 idempotency_in_progress."""
    assert all(kind == "ok" for kind, _ in responses), [repr(r) for _, r in responses]
    answers = [r for _, r in responses]

    def in_progress(r):
        return r.status_code == 409 and r.json()["code"] == "idempotency_in_progress"

    first = [r for r in answers if "Idempotent-Replayed" not in r.headers and not in_progress(r)]
    assert len(first) == 1, [(r.status_code, r.headers.get("Idempotent-Replayed")) for r in answers]
    others = [r for r in answers if r is not first[0]]
    for r in others:
        replay = r.headers.get("Idempotent-Replayed") == "true" and r.status_code == first[0].status_code
        assert replay or in_progress(r), (r.status_code, r.headers.get("Idempotent-Replayed"), r.content)
        if replay:
            assert r.content == first[0].content
    return first[0], others


def test_ten_concurrent_requests_with_one_key_make_one_visit_and_the_rest_replay_it(ten):
    visit_type, provider, location, crowd, clients = ten
    patient = PortalPatientFactory()
    slot = _slot(provider, location, 20)
    body = {"patient": str(patient.pk), "slot": str(slot.pk), "visit_type": str(visit_type.pk)}

    responses = crowd.run([(lambda c=c: c.post(f"{API}/visits/", body, format="json", HTTP_IDEMPOTENCY_KEY="pay-once"))
                           for c in clients])

    first, others = _first_and_replays(responses)
    assert first.status_code == 201
    visit = Visit.objects.get(patient=patient)
    assert first.json()["id"] == str(visit.pk) and visit.slot_id == slot.pk
    assert VisitSlot.objects.get(pk=slot.pk).status == "BOOKED"
    assert IdempotencyRecord.objects.filter(key="pay-once").count() == 1
    # Everything the booking writes, written once.
    assert OutboundMessage.objects.filter(patient=patient, kind="visit_booked").count() == 2  # SMS + email
    assert AccessLog.objects.filter(action="create", object_id=str(visit.pk)).count() == 1
    assert AccessLog.objects.filter(action="read", object_id=str(visit.pk)).count() == sum(
        1 for r in others if r.status_code == 201)
    assert not slots_with_two_active_visits().exists()


def test_ten_concurrent_requests_with_one_key_and_ten_slots_book_one_and_refuse_the_rest(ten):
    """Nothing queues them on one slot's lock: the second request with the key waits for the
    first at the record's INSERT, then answers 422 (other parameters) and keeps nothing."""
    visit_type, provider, location, crowd, clients = ten
    patient = PortalPatientFactory()
    slots = [_slot(provider, location, 30 + n) for n in range(TEN)]

    responses = crowd.run([
        (lambda c=c, s=s: c.post(f"{API}/visits/", {"patient": str(patient.pk), "slot": str(s.pk),
                                                    "visit_type": str(visit_type.pk)},
                                 format="json", HTTP_IDEMPOTENCY_KEY="one-of-ten"))
        for c, s in zip(clients, slots)
    ])

    assert all(kind == "ok" for kind, _ in responses), [repr(r) for _, r in responses]
    codes = sorted(r.status_code for _, r in responses)
    assert codes == [201] + [422] * (TEN - 1), codes
    assert {r.json()["code"] for _, r in responses if r.status_code == 422} == {"idempotency_key_reused"}
    assert Visit.objects.filter(patient=patient).count() == 1
    assert VisitSlot.objects.filter(pk__in=[s.pk for s in slots], status="BOOKED").count() == 1
    assert VisitSlot.objects.filter(pk__in=[s.pk for s in slots], status="FREE").count() == TEN - 1
    assert OutboundMessage.objects.filter(patient=patient, kind="visit_booked").count() == 2


def test_ten_concurrent_requests_with_one_key_for_a_taken_slot_all_get_the_first_refusal(ten, other_patient):
    visit_type, provider, location, crowd, clients = ten
    patient = PortalPatientFactory()
    slot = _slot(provider, location, 50)
    services.booking_create(patient=other_patient, slot=slot, visit_type=visit_type)
    body = {"patient": str(patient.pk), "slot": str(slot.pk), "visit_type": str(visit_type.pk)}

    responses = crowd.run([(lambda c=c: c.post(f"{API}/visits/", body, format="json", HTTP_IDEMPOTENCY_KEY="too-late"))
                           for c in clients])

    first, _ = _first_and_replays(responses)
    assert (first.status_code, first.json()["code"]) == (409, "slot_unavailable")
    assert not Visit.objects.filter(patient=patient).exists()
    assert IdempotencyRecord.objects.get(key="too-late").status_code == 409
