"""core/transitions.py on a model of its own (tests/core/machine): the table is enforced, the
row is locked and re-read, the event row and the audit entry are written, listeners hear of
it, and a refusal changes nothing."""
import threading

import pytest
from django.db import close_old_connections, connection, transaction

from apps.audit.models import AccessLog
from apps.core import transitions
from apps.core.exceptions import InvalidTransition, NotFound
from apps.core.transitions import record_event, transition, transition_rows
from tests.core.machine.models import Door, DoorEvent, Window

pytestmark = pytest.mark.django_db


def test_an_allowed_move_saves_the_state_and_writes_one_event_row_with_who_and_why(front_desk):
    door = Door.objects.create()

    transition(door, Door.Status.OPEN, actor=front_desk, reason="Patient arriving", data={"gate": 2},
               fields={"note": "west"})

    door.refresh_from_db()
    assert (door.status, door.note) == ("open", "west")
    event = DoorEvent.objects.get(door=door)
    assert (event.actor, event.from_status, event.to_status, event.reason, event.data) == (
        front_desk, "closed", "open", "Patient arriving", {"gate": 2})
    assert event.at is not None and event.actor_label == ""


def test_the_move_is_audited_with_its_new_state():
    door = Door.objects.create()

    transition(door, Door.Status.LOCKED, reason="Night")

    log = AccessLog.objects.get(object_type="machine.door", object_id=str(door.pk))
    assert (log.action, log.detail) == ("update", {"status": "locked"})


def test_a_move_the_table_refuses_raises_409_invalid_transition_and_writes_nothing():
    door = Door.objects.create(status=Door.Status.OPEN)

    with pytest.raises(InvalidTransition) as refused:
        transition(door, Door.Status.LOCKED)

    assert refused.value.status_code == 409 and refused.value.code == "invalid_transition"
    assert refused.value.extra == {"from": "open", "to": "locked"}
    assert "cannot go from open to locked" in refused.value.message
    door.refresh_from_db()
    assert door.status == "open"
    assert not DoorEvent.objects.exists() and not AccessLog.objects.filter(object_type="machine.door").exists()


def test_a_refusal_inside_the_callers_transaction_leaves_it_usable():
    door = Door.objects.create(status=Door.Status.OPEN)

    with transaction.atomic():
        with pytest.raises(InvalidTransition):
            transition(door, Door.Status.LOCKED)
        transition(door, Door.Status.CLOSED)  # the same transaction goes on

    assert Door.objects.get(pk=door.pk).status == "closed"


def test_a_stale_object_is_checked_against_the_state_in_the_database():
    door = Door.objects.create()
    stale = Door.objects.get(pk=door.pk)
    transition(door, Door.Status.OPEN)

    with pytest.raises(InvalidTransition):
        transition(stale, Door.Status.LOCKED)  # the row is OPEN now, whatever `stale` says

    assert Door.objects.get(pk=door.pk).status == "open"


def test_a_deleted_row_is_not_found():
    door = Door.objects.create()
    Door.objects.filter(pk=door.pk).delete()

    with pytest.raises(NotFound):
        transition(door, Door.Status.OPEN)


def test_an_api_key_actor_is_kept_by_its_name(api_key_factory):
    key, _ = api_key_factory("patients:read", name="lab-system")
    door = Door.objects.create()

    transition(door, Door.Status.OPEN, actor=key)

    event = DoorEvent.objects.get(door=door)
    assert (event.actor, event.actor_label) == (None, "lab-system")


def test_listeners_hear_of_each_change_of_their_model_only():
    heard = []
    listener = transitions.on_transition(lambda change: heard.append((change.before, change.after, change.kind)), model=Door)
    try:
        door = Door.objects.create()
        transition(door, Door.Status.OPEN)
        record_event(door, reason="Hinge oiled")
        transition(Window.objects.create(), Window.Status.AJAR)
    finally:
        transitions._listeners.remove((Door, listener))

    assert heard == [("closed", "open", "transition"), ("open", "open", "event")]


def test_record_event_writes_an_event_row_without_a_state_change(nurse):
    door = Door.objects.create()

    event = record_event(door, actor=nurse, reason="Inspected", data={"ok": True})

    assert (event.from_status, event.to_status, event.reason, event.actor) == ("closed", "closed", "Inspected", nurse)
    assert Door.objects.get(pk=door.pk).status == "closed"


def test_a_model_without_event_rows_or_audit_still_has_its_table_enforced():
    window = Window.objects.create()

    transition(window, Window.Status.AJAR)
    with pytest.raises(InvalidTransition):
        transition(window, Window.Status.AJAR)

    assert Window.objects.get(pk=window.pk).status == "ajar"
    assert not AccessLog.objects.filter(object_type="machine.window").exists()


def test_batch_moves_count_only_the_rows_still_in_the_source_state():
    doors = [Door.objects.create() for _ in range(3)]
    Door.objects.filter(pk=doors[0].pk).update(status=Door.Status.OPEN)

    moved = transition_rows(Door.objects.all(), from_status=Door.Status.CLOSED, to=Door.Status.LOCKED, note="night")

    assert moved == 2
    assert sorted(Door.objects.values_list("status", flat=True)) == ["locked", "locked", "open"]
    assert set(Door.objects.filter(status="locked").values_list("note", flat=True)) == {"night"}


def test_a_batch_move_the_table_refuses_is_refused_before_any_update():
    Door.objects.create(status=Door.Status.OPEN)

    with pytest.raises(InvalidTransition):
        transition_rows(Door.objects.all(), from_status=(Door.Status.CLOSED, Door.Status.OPEN), to=Door.Status.LOCKED)

    assert Door.objects.get().status == "open"


def test_can_transition_reads_the_table():
    assert transitions.can_transition(Door, Door.Status.CLOSED, Door.Status.OPEN)
    assert not transitions.can_transition(Door, Door.Status.OPEN, Door.Status.LOCKED)


@pytest.mark.django_db(transaction=True)
def test_two_racing_moves_from_the_same_state_let_exactly_one_win(requires_postgres):
    """The row lock serialises the two; the second sees the first's state and is refused."""
    door = Door.objects.create()
    barrier = threading.Barrier(2)
    outcomes = []

    def move(to):
        try:
            barrier.wait()
            with transaction.atomic():
                transition(Door.objects.get(pk=door.pk), to)
            outcomes.append("moved")
        except InvalidTransition:
            outcomes.append("refused")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=move, args=(to,)) for to in (Door.Status.OPEN, Door.Status.LOCKED)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["moved", "refused"]
    assert DoorEvent.objects.filter(door=door).count() == 1
