"""The triage table: default rules from the data migration, evaluated table-driven, and the
services around it (RED alert, ORANGE review, overrides)."""
import datetime

import pytest

from apps.core.exceptions import ValidationFailed
from apps.scheduling import services
from apps.scheduling.exceptions import EmergencyCareRequired, NotAllowed, ReviewRequired
from apps.scheduling.models import RequestEvent, Severity, TriageRule, VisitRequest
from apps.scheduling.selectors import active_triage_rules
from apps.scheduling.triage import EMERGENCY_INSTRUCTIONS, age_in_months, evaluate
from tests.scheduling.factories import TriageRuleFactory

ADULT = 40 * 12


@pytest.fixture(autouse=True)
def _rules(default_triage_rules):
    return default_triage_rules

CASES = [
    # (symptoms, reason, answers, age_months, expected)
    (["Chest pain"], "", {}, ADULT, "RED"),
    ([], "crushing CHEST PAIN since this morning", {}, ADULT, "RED"),
    (["trouble breathing"], "", {}, ADULT, "RED"),
    (["shortness of breath", "cough"], "", {}, ADULT, "RED"),
    (["face drooping", "slurred speech"], "", {}, ADULT, "RED"),
    (["severe bleeding"], "", {}, ADULT, "RED"),
    ([], "I have suicidal thoughts", {}, ADULT, "RED"),
    ([], "", {"chest_pain": True}, ADULT, "RED"),
    ([], "", {"suicidal_thoughts": "yes"}, ADULT, "RED"),
    (["fever"], "", {}, 6, "ORANGE"),
    (["fever"], "", {}, 12, "ORANGE"),
    (["fever"], "", {}, 13, "YELLOW"),
    ([], "", {"fever": "yes"}, 3, "ORANGE"),
    (["high fever"], "", {}, ADULT, "ORANGE"),
    (["severe pain in my knee"], "", {}, ADULT, "ORANGE"),
    ([], "", {"pain_scale": 9}, ADULT, "ORANGE"),
    ([], "", {"pain_scale": "6"}, ADULT, "YELLOW"),
    ([], "", {"temperature_c": 40.1}, ADULT, "ORANGE"),
    (["fever"], "", {}, ADULT, "YELLOW"),
    (["cough"], "symptoms worsening", {}, ADULT, "YELLOW"),
    (["rash"], "", {}, ADULT, "GREEN"),
    ([], "annual physical", {}, ADULT, "GREEN"),
    ([], "", {"pain_scale": 2, "fever": "no"}, ADULT, "GREEN"),
    ([], "", {}, None, "GREEN"),
    (["fever", "chest pain"], "", {}, 6, "RED"),  # the most severe match wins
]


@pytest.mark.parametrize("symptoms,reason,answers,age,expected", CASES)
def test_default_rules_give_expected_severity(db, symptoms, reason, answers, age, expected):
    result = evaluate(rules=active_triage_rules(), symptoms=symptoms, reason=reason, answers=answers, age_months=age)
    assert result.severity == expected


def test_default_rules_are_loaded_by_the_data_migration(db):
    severities = set(TriageRule.objects.values_list("severity", flat=True))
    assert {"RED", "ORANGE", "YELLOW"} <= severities
    assert TriageRule.objects.filter(symptom_keyword="chest pain", severity="RED").exists()


def test_inactive_rules_are_ignored(db):
    TriageRule.objects.filter(symptom_keyword="chest pain").update(is_active=False)
    assert evaluate(rules=active_triage_rules(), symptoms=["chest pain"], age_months=ADULT).severity == Severity.GREEN


def test_admin_added_rule_applies(db):
    TriageRuleFactory(name="Black stool", symptom_keyword="black stool", severity=Severity.ORANGE)
    assert evaluate(rules=active_triage_rules(), symptoms=["Black stool"], age_months=ADULT).severity == Severity.ORANGE


def test_matched_rules_are_reported_most_severe_first(db):
    result = evaluate(rules=active_triage_rules(), symptoms=["fever", "chest pain"], age_months=ADULT)
    assert result.matched[0]["severity"] == "RED"
    assert {m["severity"] for m in result.matched} == {"RED", "YELLOW"}


def test_age_in_months():
    assert age_in_months(datetime.date(2025, 1, 15), datetime.date(2025, 7, 14)) == 5
    assert age_in_months(datetime.date(2025, 1, 15), datetime.date(2025, 7, 15)) == 6
    assert age_in_months(None) is None


# --- services ---------------------------------------------------------------------------------

def test_red_request_returns_emergency_outcome_and_alerts_all_clinical_staff(patient, front_desk, nurse, provider_user, billing_user):
    outcome = services.visit_request_create(patient=patient, symptoms=["chest pain"], reason="pain")

    assert outcome.emergency is True
    assert outcome.severity == Severity.RED
    assert outcome.instructions == EMERGENCY_INSTRUCTIONS
    assert patient.user.notifications.get().kind == "triage_emergency"
    assert patient.user.notifications.get().urgent is True
    for user in (front_desk, nurse, provider_user):
        alert = user.notifications.get()
        assert (alert.kind, alert.urgent) == ("triage_red_alert", True)
    assert not billing_user.notifications.exists()


def test_green_request_may_self_book(patient):
    outcome = services.visit_request_create(patient=patient, reason="Repeat prescription")
    assert (outcome.severity, outcome.emergency, outcome.can_self_book) == ("GREEN", False, True)
    assert outcome.request.status == VisitRequest.Status.NEW
    assert outcome.request.events.get().to_status == "NEW"


def test_orange_request_asks_providers_for_review(patient, provider_user, front_desk):
    outcome = services.visit_request_create(patient=patient, symptoms=["severe pain"])
    assert outcome.request.needs_review
    assert provider_user.notifications.get().kind == "review_needed"
    assert not front_desk.notifications.exists()


def test_bad_input_gives_field_errors(patient):
    with pytest.raises(ValidationFailed) as info:
        services.visit_request_create(patient=patient, symptoms="fever", preferred_dates=["tomorrow"], preferred_mode="PHONE")
    assert set(info.value.extra["fields"]) == {"symptoms", "preferred_dates", "preferred_mode"}
    assert not VisitRequest.objects.exists()


def test_staff_override_keeps_reason_and_event(patient, nurse):
    request = services.visit_request_create(patient=patient, symptoms=["fever"]).request
    services.visit_request_override_severity(request=request, actor=nurse, severity=Severity.GREEN, reason="Fever resolved yesterday")

    request.refresh_from_db()
    assert (request.severity, request.computed_severity) == ("GREEN", "YELLOW")
    assert request.severity_override_reason == "Fever resolved yesterday"
    assert request.severity_overridden_by == nurse
    event = request.events.get(kind=RequestEvent.Kind.SEVERITY)
    assert event.data == {"from": "YELLOW", "to": "GREEN"}


def test_override_without_reason_is_refused(patient, nurse):
    request = services.visit_request_create(patient=patient, symptoms=["fever"]).request
    with pytest.raises(ValidationFailed):
        services.visit_request_override_severity(request=request, actor=nurse, severity=Severity.GREEN, reason=" ")


def test_override_to_red_alerts_staff(patient, nurse, front_desk):
    request = services.visit_request_create(patient=patient, reason="checkup").request
    services.visit_request_override_severity(request=request, actor=nurse, severity=Severity.RED, reason="Chest pain on the phone")
    assert front_desk.notifications.filter(kind="triage_red_alert", urgent=True).exists()


def test_triage_with_override_and_visit_type(patient, nurse, visit_type):
    request = services.visit_request_create(patient=patient, symptoms=["fever"]).request
    services.visit_request_triage(request=request, actor=nurse, severity=Severity.GREEN, reason="Mild", visit_type=visit_type)
    request.refresh_from_db()
    assert (request.status, request.severity, request.visit_type) == ("TRIAGED", "GREEN", visit_type)
    assert request.triaged_by == nurse


def test_only_a_provider_can_review(patient, nurse):
    request = services.visit_request_create(patient=patient, symptoms=["severe pain"]).request
    with pytest.raises(NotAllowed):
        services.visit_request_review(request=request, actor=nurse, note="ok")


def test_provider_review_unblocks_orange(patient, nurse, visit_type, make_slot):
    provider = make_slot().provider
    request = services.visit_request_create(patient=patient, symptoms=["severe pain"], visit_type=visit_type).request
    services.visit_request_triage(request=request, actor=nurse)
    slot = make_slot(hours_from_now=30)

    with pytest.raises(ReviewRequired):
        services.visit_request_offer_slots(request=request, slots=[slot], actor=nurse)

    services.visit_request_review(request=request, actor=provider.user, note="Seen the notes; routine is fine")
    request.refresh_from_db()
    assert request.reviewed_by == provider.user
    services.visit_request_offer_slots(request=request, slots=[slot], actor=nurse)
    request.refresh_from_db()
    assert request.status == VisitRequest.Status.AWAITING_PATIENT_CONFIRMATION


def test_red_request_cannot_be_offered_slots(patient, nurse, visit_type, make_slot):
    request = services.visit_request_create(patient=patient, symptoms=["stroke"], visit_type=visit_type).request
    services.visit_request_triage(request=request, actor=nurse)
    with pytest.raises(EmergencyCareRequired) as info:
        services.visit_request_offer_slots(request=request, slots=[make_slot()], actor=nurse)
    assert info.value.code == "emergency_care_required"
    assert "emergency" in info.value.message

