"""Slot transitions: the table, one service per move, event rows, database guarantees."""
import datetime
import uuid

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.exceptions import InvalidTransition
from apps.scheduling import services
from apps.scheduling.models import Visit, VisitRequest, VisitSlot
from tests.scheduling.factories import SlotFactory


def test_transitions_table_matches_the_spec():
    S = VisitSlot.Status
    assert VisitSlot.TRANSITIONS == {
        S.FREE: {S.HELD, S.BOOKED, S.BLOCKED},  # BOOKED: a one-step booking under the slot's lock
        S.HELD: {S.BOOKED, S.FREE, S.BLOCKED},
        S.BOOKED: {S.FREE},
        S.BLOCKED: {S.FREE},
    }


def test_block_and_unblock_write_events(make_slot, front_desk):
    slot = make_slot()
    services.slot_block(slot=slot, actor=front_desk, reason="Room closed")
    services.slot_unblock(slot=slot, actor=front_desk)

    slot.refresh_from_db()
    assert slot.status == "FREE"
    assert [(e.from_status, e.to_status, e.actor) for e in slot.events.all()] == [
        ("FREE", "BLOCKED", front_desk), ("BLOCKED", "FREE", front_desk),
    ]
    assert slot.events.first().reason == "Room closed"


def test_booked_slot_cannot_be_blocked(make_slot, front_desk):
    slot = make_slot(status="BOOKED")
    with pytest.raises(InvalidTransition) as info:
        services.slot_block(slot=slot, actor=front_desk)
    assert info.value.status_code == 409
    assert not slot.events.exists()


def test_free_slot_cannot_be_unblocked(make_slot, front_desk):
    with pytest.raises(InvalidTransition):
        services.slot_unblock(slot=make_slot(), actor=front_desk)


def test_blocking_the_last_offered_slot_returns_the_request_to_triaged(make_slot, make_request, front_desk, patient):
    request = make_request()
    slot = make_slot()
    services.visit_request_offer_slots(request=request, slots=[slot], actor=front_desk)

    services.slot_block(slot=slot, actor=front_desk, reason="Provider sick")

    request.refresh_from_db()
    assert request.status == VisitRequest.Status.TRIAGED
    assert patient.user.notifications.filter(kind="offer_withdrawn").exists()


def test_database_refuses_a_second_slot_at_the_same_start(make_slot):
    slot = make_slot()
    with pytest.raises(IntegrityError), transaction.atomic():
        SlotFactory(provider=slot.provider, location=slot.location, start=slot.start, end=slot.end)


def test_database_refuses_a_second_active_visit_on_a_slot(make_slot, patient, other_patient, visit_type):
    slot = make_slot(status="BOOKED")
    common = dict(slot=slot, provider=slot.provider, location=slot.location, visit_type=visit_type, mode=slot.mode, start=slot.start, end=slot.end)
    Visit.objects.create(patient=patient, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(patient=other_patient, **common)
    # a cancelled visit does not count
    Visit.objects.create(patient=other_patient, status="CANCELLED", **common)


def test_database_refuses_inconsistent_hold_fields(make_slot):
    slot = make_slot()
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitSlot.objects.filter(pk=slot.pk).update(status="HELD")  # no deadline, no owner
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitSlot.objects.filter(pk=slot.pk).update(held_until=timezone.now())  # FREE with a deadline
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitSlot.objects.filter(pk=slot.pk).update(status="HELD", hold_kind="DIRECT", hold_token=uuid.uuid4(),
                                                    held_until=timezone.now() + datetime.timedelta(minutes=5))  # no patient
