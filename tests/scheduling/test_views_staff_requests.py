"""A request's staff page and its actions: triage, severity override, provider review,
offering times, assigning a walk-in, cancelling. Each success, and each refusal shown as a form
error with the domain's status code."""
import datetime

import pytest
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.scheduling.models import RequestEvent, Severity, Visit, VisitRequest, VisitSlot
from tests.scheduling.factories import ProviderFactory
from tests.scheduling.staff_pages import assert_login_redirect, assert_mfa_redirect, assert_portal_redirect

S = VisitRequest.Status


def url(vr, action=""):
    return f"/staff/scheduling/requests/{vr.pk}/" + (f"{action}/" if action else "")


def deadline(hours=24):
    return timezone.localtime(timezone.now() + datetime.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def new_request(make_request):
    return make_request(status=S.NEW, severity=Severity.GREEN)


@pytest.fixture
def triaged(make_request):
    return make_request(status=S.TRIAGED, severity=Severity.GREEN)


# --- the page -------------------------------------------------------------------------------

def test_request_page_permissions(client, client_for, patient, front_desk, billing_user, triaged):
    assert_login_redirect(client.get(url(triaged)))
    assert_portal_redirect(client_for(patient.user).get(url(triaged)))
    assert_mfa_redirect(client_for(front_desk, verified=False).get(url(triaged)))
    assert client_for(billing_user).get(url(triaged)).status_code == 403
    page = client_for(front_desk).get(url(triaged))
    assert page.status_code == 200
    assert f"Scheduled request · {triaged.patient.display_name}" in page.content.decode()


def test_request_page_logs_the_read_and_shows_the_patient(client_for, front_desk, triaged):
    response = client_for(front_desk).get(url(triaged))
    assert triaged.patient.last_name in response.content.decode()
    assert AccessLog.objects.filter(action="read", object_type="scheduling.visitrequest", object_id=str(triaged.pk),
                                    patient_id=triaged.patient_id).exists()


def test_an_unknown_request_is_404(client_for, front_desk):
    assert client_for(front_desk).get("/staff/scheduling/requests/7f1a8a3c-0000-4000-8000-000000000000/").status_code == 404


def test_triaged_request_page_suggests_free_slots_to_offer(client_for, front_desk, triaged, make_slot):
    slot = make_slot(hours_from_now=30)
    response = client_for(front_desk).get(url(triaged))
    assert slot in response.context["forms"]["offer"].suggestions
    assert f'value="{slot.pk}"' in response.content.decode()


# --- triage ---------------------------------------------------------------------------------

def test_front_desk_triages_a_new_request_confirming_its_severity(client_for, front_desk, new_request, visit_type):
    response = client_for(front_desk).post(url(new_request, "triage"), {"severity": "GREEN", "visit_type": visit_type.pk})
    assert response.status_code == 302
    new_request.refresh_from_db()
    assert new_request.status == S.TRIAGED and new_request.triaged_by == front_desk and new_request.visit_type == visit_type


def test_front_desk_cannot_change_the_severity_while_triaging(client_for, front_desk, new_request, visit_type):
    # The field is disabled for roles without override_severity: a posted value is ignored.
    client_for(front_desk).post(url(new_request, "triage"), {"severity": "RED", "reason": "x", "visit_type": visit_type.pk})
    new_request.refresh_from_db()
    assert new_request.severity == Severity.GREEN and new_request.status == S.TRIAGED


def test_changing_severity_at_triage_requires_a_reason(client_for, nurse, new_request, visit_type):
    response = client_for(nurse).post(url(new_request, "triage"), {"severity": "YELLOW", "reason": "", "visit_type": visit_type.pk})
    assert response.status_code == 400
    assert "Give the reason for changing the severity." in response.content.decode()
    new_request.refresh_from_db()
    assert new_request.status == S.NEW and new_request.severity == Severity.GREEN


def test_nurse_overrides_severity_at_triage_and_the_reason_is_kept(client_for, nurse, new_request, visit_type):
    response = client_for(nurse).post(url(new_request, "triage"),
                                      {"severity": "YELLOW", "reason": "Fever for 3 days", "visit_type": visit_type.pk})
    assert response.status_code == 302
    new_request.refresh_from_db()
    assert new_request.severity == Severity.YELLOW and new_request.severity_override_reason == "Fever for 3 days"
    assert new_request.status == S.TRIAGED


def test_triaging_an_already_triaged_request_is_409(client_for, front_desk, triaged, visit_type):
    response = client_for(front_desk).post(url(triaged, "triage"), {"severity": "GREEN", "visit_type": visit_type.pk})
    assert response.status_code == 409
    assert "already been triaged" in response.content.decode()


def test_billing_cannot_triage(client_for, billing_user, new_request, visit_type):
    assert client_for(billing_user).post(url(new_request, "triage"), {"severity": "GREEN", "visit_type": visit_type.pk}).status_code == 403


# --- severity override ----------------------------------------------------------------------

def test_nurse_overrides_an_open_requests_severity(client_for, nurse, triaged):
    response = client_for(nurse).post(url(triaged, "severity"), {"severity": "ORANGE", "reason": "Chest tightness"})
    assert response.status_code == 302
    triaged.refresh_from_db()
    assert triaged.severity == Severity.ORANGE and triaged.needs_review
    assert RequestEvent.objects.filter(request=triaged, kind="severity", reason="Chest tightness").exists()


def test_override_without_a_reason_is_400(client_for, nurse, triaged):
    assert client_for(nurse).post(url(triaged, "severity"), {"severity": "ORANGE", "reason": ""}).status_code == 400
    triaged.refresh_from_db()
    assert triaged.severity == Severity.GREEN


def test_front_desk_cannot_override_severity(client_for, front_desk, triaged):
    assert client_for(front_desk).post(url(triaged, "severity"), {"severity": "RED", "reason": "x"}).status_code == 403


# --- provider review ------------------------------------------------------------------------

def test_provider_reviews_an_orange_request(client_for, provider, make_request):
    vr = make_request(severity=Severity.ORANGE)
    response = client_for(provider.user).post(url(vr, "review"), {"severity": "ORANGE", "note": "OK to book this week"})
    assert response.status_code == 302
    vr.refresh_from_db()
    assert vr.reviewed_by == provider.user and not vr.needs_review


def test_a_reviewer_who_is_not_a_provider_gets_403_on_the_form(client_for, clinic_admin, make_request):
    vr = make_request(severity=Severity.ORANGE)
    response = client_for(clinic_admin).post(url(vr, "review"), {"severity": "ORANGE", "note": "fine"})
    assert response.status_code == 403
    assert "Only a provider can review" in response.content.decode()
    vr.refresh_from_db()
    assert vr.reviewed_at is None


def test_front_desk_cannot_review(client_for, front_desk, make_request):
    vr = make_request(severity=Severity.ORANGE)
    assert client_for(front_desk).post(url(vr, "review"), {"severity": "ORANGE", "note": "x"}).status_code == 403


# --- offers ---------------------------------------------------------------------------------

def test_front_desk_offers_ticked_slots_until_a_deadline(client_for, front_desk, triaged, make_slot, patient, notifications):
    a, b = make_slot(hours_from_now=30), make_slot(hours_from_now=31)
    response = client_for(front_desk).post(url(triaged, "offer"), {"slots": [a.pk, b.pk], "hold_until": deadline(12)})
    assert response.status_code == 302
    triaged.refresh_from_db()
    assert triaged.status == S.AWAITING_PATIENT_CONFIRMATION
    assert abs((triaged.offer_expires_at - timezone.now()).total_seconds() - 12 * 3600) < 120
    assert set(VisitSlot.objects.filter(held_for_request=triaged).values_list("pk", flat=True)) == {a.pk, b.pk}
    assert "offer_made" in notifications(patient.user)


def test_offering_for_a_red_request_is_refused_with_400(client_for, front_desk, make_request, make_slot):
    vr = make_request(severity=Severity.RED)
    slot = make_slot()
    response = client_for(front_desk).post(url(vr, "offer"), {"slots": [slot.pk], "hold_until": deadline()})
    assert response.status_code == 400
    assert "emergency_care_required" in response.content.decode()
    slot.refresh_from_db()
    assert slot.status == VisitSlot.Status.FREE


def test_offering_for_an_unreviewed_orange_request_is_refused_with_409(client_for, front_desk, make_request, make_slot):
    vr = make_request(severity=Severity.ORANGE)
    slot = make_slot()
    response = client_for(front_desk).post(url(vr, "offer"), {"slots": [slot.pk], "hold_until": deadline()})
    assert response.status_code == 409
    assert "provider_review_required" in response.content.decode()


def test_offering_a_slot_taken_meanwhile_is_409_and_nothing_is_held(client_for, front_desk, triaged, make_slot):
    free, taken = make_slot(hours_from_now=30), make_slot(hours_from_now=31, status=VisitSlot.Status.BLOCKED)
    response = client_for(front_desk).post(url(triaged, "offer"), {"slots": [free.pk, taken.pk], "hold_until": deadline()})
    assert response.status_code == 409
    assert "slot_unavailable" in response.content.decode()
    free.refresh_from_db()
    assert free.status == VisitSlot.Status.FREE
    triaged.refresh_from_db()
    assert triaged.status == S.TRIAGED


def test_offering_six_slots_or_none_is_400(client_for, front_desk, triaged, make_slot):
    slots = [make_slot(hours_from_now=30 + i) for i in range(6)]
    client = client_for(front_desk)
    assert client.post(url(triaged, "offer"), {"slots": [s.pk for s in slots], "hold_until": deadline()}).status_code == 400
    assert client.post(url(triaged, "offer"), {"hold_until": deadline()}).status_code == 400


def test_a_deadline_in_the_past_is_400(client_for, front_desk, triaged, make_slot):
    slot = make_slot()
    response = client_for(front_desk).post(url(triaged, "offer"), {"slots": [slot.pk], "hold_until": deadline(-1)})
    assert response.status_code == 400


def test_yellow_suggestions_are_within_48_hours(client_for, front_desk, make_request, make_slot):
    vr = make_request(severity=Severity.YELLOW)
    soon, later = make_slot(hours_from_now=20), make_slot(hours_from_now=72)
    suggestions = client_for(front_desk).get(url(vr)).context["forms"]["offer"].suggestions
    assert soon in suggestions and later not in suggestions


def test_a_provider_without_the_offer_permission_cannot_offer(client_for, provider, triaged, make_slot):
    slot = make_slot()
    assert client_for(provider.user).post(url(triaged, "offer"), {"slots": [slot.pk], "hold_until": deadline()}).status_code == 403


# --- walk-ins -------------------------------------------------------------------------------

@pytest.fixture
def walk_in(make_request, location):
    return make_request(request_type=VisitRequest.Type.WALK_IN, location=location, status=S.NEW)


def test_front_desk_assigns_a_walk_in_immediately(client_for, front_desk, walk_in, provider, visit_type, patient, notifications):
    response = client_for(front_desk).post(url(walk_in, "assign"), {"provider": provider.pk, "visit_type": visit_type.pk})
    visit = Visit.objects.get(request=walk_in)
    assert response.status_code == 302 and response["Location"] == f"/staff/scheduling/visits/{visit.pk}/"
    assert visit.provider == provider and visit.status == Visit.Status.CHECKED_IN and visit.is_walk_in
    walk_in.refresh_from_db()
    assert walk_in.status == S.CONVERTED_TO_VISIT
    assert "visit_assigned" in notifications(patient.user)


def test_assigning_a_red_walk_in_is_refused_with_400(client_for, front_desk, make_request, location, provider, visit_type):
    vr = make_request(request_type=VisitRequest.Type.WALK_IN, location=location, severity=Severity.RED)
    response = client_for(front_desk).post(url(vr, "assign"), {"provider": provider.pk, "visit_type": visit_type.pk})
    assert response.status_code == 400
    assert "emergency_care_required" in response.content.decode()
    assert not Visit.objects.filter(request=vr).exists()


def test_assigning_a_provider_who_does_not_offer_the_type_is_400(client_for, front_desk, walk_in, visit_type):
    other = ProviderFactory()
    response = client_for(front_desk).post(url(walk_in, "assign"), {"provider": other.pk, "visit_type": visit_type.pk})
    assert response.status_code == 400
    assert "does not offer this visit type" in response.content.decode()


def test_walk_in_page_has_the_assign_form(client_for, front_desk, walk_in, provider):
    response = client_for(front_desk).get(url(walk_in))
    assert "assign" in response.context["forms"]
    assert "Assign immediately" in response.content.decode()


# --- cancel ---------------------------------------------------------------------------------

def test_front_desk_cancels_a_request_with_a_reason(client_for, front_desk, triaged):
    response = client_for(front_desk).post(url(triaged, "cancel"), {"cancel-reason": "Patient called: feeling better"})
    assert response.status_code == 302
    triaged.refresh_from_db()
    assert triaged.status == S.CANCELLED and triaged.cancel_reason == "Patient called: feeling better"


def test_cancelling_a_request_with_an_open_offer_is_409(client_for, front_desk, make_request):
    vr = make_request(status=S.AWAITING_PATIENT_CONFIRMATION, offer_expires_at=timezone.now() + datetime.timedelta(hours=3))
    response = client_for(front_desk).post(url(vr, "cancel"), {"cancel-reason": "x"})
    assert response.status_code == 409
    assert "invalid_transition" in response.content.decode()


def test_cancel_needs_a_reason(client_for, front_desk, triaged):
    assert client_for(front_desk).post(url(triaged, "cancel"), {"cancel-reason": ""}).status_code == 400


def test_billing_cannot_cancel_a_request(client_for, billing_user, triaged):
    assert client_for(billing_user).post(url(triaged, "cancel"), {"cancel-reason": "x"}).status_code == 403
