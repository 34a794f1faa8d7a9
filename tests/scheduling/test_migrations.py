"""Migration 0008 turns the three event models into subclasses of core's TransitionEvent: rows
written before it are kept, value for value, and gain the base's new fields with their
defaults. Run on SQLite (where the tables are copied into their new shape) and PostgreSQL
(altered in place)."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.scheduling.models import RequestEvent, SlotEvent, VisitEvent
from tests.factories import StaffFactory
from tests.scheduling.factories import SlotFactory, VisitRequestFactory
from tests.scheduling.staff_pages import make_visit

BEFORE = [("scheduling", "0007_default_triage_questions")]
AFTER = [("scheduling", "0008_event_rows_on_transition_event")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_event_rows_written_before_0008_are_kept(visit_type):
    actor = StaffFactory(role="front_desk")
    slot, visit_request = SlotFactory(), VisitRequestFactory()
    visit = make_visit(SlotFactory(), visit_type)
    long_reason = "Blocked for the provider's conference in the main building, " * 5  # the old 300 characters
    try:
        old = migrate(BEFORE)
        old_slot_event = old.get_model("scheduling", "SlotEvent").objects.create(
            slot_id=slot.pk, actor_id=actor.pk, from_status="FREE", to_status="BLOCKED", reason=long_reason[:300],
            request_id=visit_request.pk)
        old_request_event = old.get_model("scheduling", "RequestEvent").objects.create(
            request_id=visit_request.pk, kind="severity", actor_id=actor.pk, from_status="TRIAGED", to_status="TRIAGED",
            reason="Fever", data={"from": "GREEN", "to": "YELLOW"})
        old_visit_event = old.get_model("scheduling", "VisitEvent").objects.create(
            visit_id=visit.pk, from_status="PLANNED", to_status="CHECKED_IN", reason="Checked in", data={"late": False})

        migrate(AFTER)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    slot_event = SlotEvent.objects.get(pk=old_slot_event.pk)
    assert (slot_event.slot_id, slot_event.actor_id, slot_event.from_status, slot_event.to_status, slot_event.reason,
            slot_event.request_id, slot_event.at) == (slot.pk, actor.pk, "FREE", "BLOCKED", long_reason[:300],
                                                      visit_request.pk, old_slot_event.at)
    assert (slot_event.actor_label, slot_event.data) == ("", {})
    request_event = RequestEvent.objects.get(pk=old_request_event.pk)
    assert (request_event.kind, request_event.reason, request_event.data, request_event.actor_label) == (
        "severity", "Fever", {"from": "GREEN", "to": "YELLOW"}, "")
    visit_event = VisitEvent.objects.get(pk=old_visit_event.pk)
    assert (visit_event.from_status, visit_event.to_status, visit_event.data, visit_event.actor_label) == (
        "PLANNED", "CHECKED_IN", {"late": False}, "")
    # The widened columns take what the old ones could not (300 characters of reason, 8 of status).
    SlotEvent.objects.filter(pk=slot_event.pk).update(reason=long_reason, to_status="AWAITING_PATIENT_CONFIRMATION")
    assert SlotEvent.objects.values_list("reason", "to_status").get(pk=slot_event.pk) == (
        long_reason, "AWAITING_PATIENT_CONFIRMATION")
