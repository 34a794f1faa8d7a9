"""The consents API: the chronology refused out of order (409, the code naming what is missing,
nothing written), the whole workflow in order through the API, the workflow endpoint in the
seed's shape, and who may call what (anonymous 401, patients 403 whatever the id, each staff role
by its permissions, API keys by scope, approval never by key)."""
import datetime
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.consents.models import ConsentForm, PlanEvent, ProcedurePlan, SurgicalCase, TheatreBooking
from tests.conftest import api_keyed_client, api_session
from tests.consents.factories import LINES, RoomFactory
from tests.consents.test_services_chronology import written

pytestmark = pytest.mark.django_db
API = "/api/v1"


def error(response, status, code):
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"code", "message", "extra"} and body["code"] == code, body
    return body


@pytest.fixture
def surgeon_api(flow):
    return api_session(flow.surgeon.user)


@pytest.fixture
def key(api_key_factory):
    return api_keyed_client(api_key_factory("consents:read", "consents:write")[1])


def plan_body(flow):
    return {"patient": str(flow.patient.pk), "consultation": str(flow.consultation.pk), "surgeon": str(flow.surgeon.pk),
            "lines": LINES, "notes": "Day case"}


# --- the chronology through the API ---------------------------------------------------------------

def test_a_plan_before_the_consultation_is_completed_answers_409_and_writes_nothing(flow, surgeon_api):
    flow.consult(status="PLANNED")
    before = written()
    error(surgeon_api.post(f"{API}/procedure-plans/", plan_body(flow), format="json"), 409, "consultation_not_completed")
    assert written() == before


def test_each_step_out_of_order_answers_409_with_what_is_missing(flow, surgeon_api, key):
    flow.draft()
    before = written()
    error(key.post(f"{API}/consents/", {"patient": str(flow.patient.pk), "template": str(flow.template.pk),
                                         "plan": str(flow.plan.pk)}, format="json"), 409, "plan_not_approved")
    error(surgeon_api.post(f"{API}/procedure-plans/{flow.plan.pk}/approve/"), 409, "invalid_transition")
    assert written() == before

    flow.send()
    before = written()
    error(key.post(f"{API}/surgical-cases/", {"plan": str(flow.plan.pk), "consent": str(flow.consent.pk),
                                               "anaesthesia_type": "GENERAL"}, format="json"), 409, "consent_not_signed")
    assert written() == before

    flow.case_create()
    before = written()
    error(key.post(f"{API}/surgical-cases/{flow.case.pk}/start/"), 409, "theatre_not_booked")
    error(key.post(f"{API}/surgical-cases/{flow.case.pk}/items/", {"kind": "CONSUMABLE", "name": "Gauze",
                                                                    "manufacturer": "Acme", "lot_number": "G1"},
                   format="json"), 409, "case_not_in_progress")
    error(key.post(f"{API}/surgical-cases/{flow.case.pk}/complete/"), 409, "invalid_transition")
    assert written() == before
    flow.book()
    before = written()
    body = error(key.post(f"{API}/surgical-cases/{flow.case.pk}/start/"), 409, "preop_incomplete")
    assert "Labs missing" in body["message"]
    assert written() == before


def test_the_workflow_in_order_through_the_api(flow, surgeon_api, key):
    flow.consult()
    response = surgeon_api.post(f"{API}/procedure-plans/", plan_body(flow), format="json")
    assert response.status_code == 201, response.content
    plan = response.json()
    assert (plan["status"], plan["quote_total"], plan["lines"][0]["code"]) == ("DRAFT", "3650.50", "15823")
    response = surgeon_api.patch(f"{API}/procedure-plans/{plan['id']}/", {"notes": "Both eyelids"}, format="json")
    assert response.status_code == 200 and response.json()["notes"] == "Both eyelids"
    assert surgeon_api.post(f"{API}/procedure-plans/{plan['id']}/submit/").json()["status"] == "PENDING_APPROVAL"
    approved = surgeon_api.post(f"{API}/procedure-plans/{plan['id']}/approve/").json()
    assert approved["status"] == "APPROVED" and [i["code"] for i in approved["preop_items"]] == ["labs", "clearance", "fasting"]
    error(surgeon_api.patch(f"{API}/procedure-plans/{plan['id']}/", {"notes": "Changed"}, format="json"), 409, "plan_frozen")

    response = key.post(f"{API}/consents/", {"patient": str(flow.patient.pk), "template": str(flow.template.pk),
                                              "plan": plan["id"]}, format="json")
    assert response.status_code == 201, response.content
    consent = response.json()
    assert consent["status"] == "PENDING" and "signature_image" not in consent
    flow.plan, flow.consent = ProcedurePlan.objects.get(pk=plan["id"]), ConsentForm.objects.get(pk=consent["id"])
    flow.sign()

    verified = key.post(f"{API}/consents/{consent['id']}/verify/").json()
    assert (verified["valid"], verified["code"], verified["document_sha256"]) == (True, "consent_valid",
                                                                                  flow.consent.document_sha256)
    response = key.post(f"{API}/surgical-cases/", {"plan": plan["id"], "consent": consent["id"],
                                                    "anaesthesia_type": "GENERAL"}, format="json")
    assert response.status_code == 201, response.content
    case = response.json()
    room = RoomFactory()
    start = (timezone.now() + datetime.timedelta(days=4)).replace(minute=0, second=0, microsecond=0)
    response = key.post(f"{API}/surgical-cases/{case['id']}/book-theatre/",
                        {"room": str(room.pk), "start": start.isoformat(), "end": (start + datetime.timedelta(hours=2)).isoformat()},
                        format="json")
    assert response.status_code == 200 and response.json()["status"] == "BOOKED", response.content
    busy = key.get(f"{API}/operating-rooms/{room.pk}/availability/", {"date": start.astimezone(timezone.get_current_timezone()).date().isoformat()})
    assert busy.status_code == 200 and busy.json()[0]["case"] == case["id"]
    for item in approved["preop_items"]:
        assert key.post(f"{API}/procedure-plans/{plan['id']}/preop/{item['id']}/complete/").status_code == 200
    assert key.post(f"{API}/surgical-cases/{case['id']}/start/").json()["status"] == "IN_PROGRESS"
    response = key.post(f"{API}/surgical-cases/{case['id']}/items/", {
        "kind": "IMPLANT", "name": "Silicone implant", "manufacturer": "Acme", "lot_number": "LOT-7", "serial_number": "SN-1"},
        format="json")
    assert response.status_code == 201 and response.json()["lot_number"] == "LOT-7"
    trace = key.get(f"{API}/case-items/trace/", {"lot": "lot-7"}).json()
    assert [(t["patient"], t["serial_number"]) for t in trace] == [(str(flow.patient.pk), "SN-1")]
    assert key.post(f"{API}/surgical-cases/{case['id']}/complete/").json()["status"] == "COMPLETED"

    workflow = key.get(f"{API}/patients/{flow.patient.pk}/workflow/").json()
    assert workflow["currentStage"] == "CASE_COMPLETED" and workflow["nextStep"] == "Generate the invoice"
    assert workflow["hasSurgicalCase"] is True and workflow["canScheduleSurgery"] is False
    assert [s["status"] for s in workflow["timeline"]][:12] == ["COMPLETED"] * 12
    # Billing (connected through workflow_billing) has the case's charges to review: stage 13 is next.
    assert [s["status"] for s in workflow["timeline"]][12:] == ["IN_PROGRESS", "PENDING"]
    assert workflow["timeline"][12]["detail"] == "2 charges to review"


def test_a_tampered_consent_answers_409_through_the_api_and_nothing_is_created(flow, key):
    flow.sign()
    ConsentForm.objects.filter(pk=flow.consent.pk).update(typed_name="Someone Else")
    before = SurgicalCase.objects.count()
    error(key.post(f"{API}/surgical-cases/", {"plan": str(flow.plan.pk), "consent": str(flow.consent.pk),
                                               "anaesthesia_type": "GENERAL"}, format="json"), 409, "consent_tampered")
    assert SurgicalCase.objects.count() == before
    verified = key.post(f"{API}/consents/{flow.consent.pk}/verify/").json()
    assert (verified["valid"], verified["code"]) == (False, "consent_tampered")


def test_the_workflow_endpoint_answers_the_seeds_shape(flow, key):
    flow.sign()
    body = key.get(f"{API}/patients/{flow.patient.pk}/workflow/").json()

    assert body["currentStage"] == "CONSENT_SIGNED" and body["nextStep"] == "Complete the pre-op checklist"
    assert body["hasConsultation"] and body["hasProcedurePlan"] and body["hasConsent"] and not body["hasSurgicalCase"]
    assert body["canScheduleSurgery"] is True
    assert [s["stage"] for s in body["timeline"]][:3] == ["REGISTERED", "CONSULTATION_BOOKED", "CONSULTATION_COMPLETED"]
    assert all(set(s) >= {"stage", "status", "completedAt"} for s in body["timeline"])
    assert body["blockers"] == ["pre-op: labs missing", "pre-op: medical clearance missing",
                                "pre-op: fasting instructions missing"]


# --- who may call what ----------------------------------------------------------------------------

def urls(flow):
    return [
        ("get", f"{API}/procedure-plans/"), ("get", f"{API}/procedure-plans/{flow.plan.pk}/"),
        ("post", f"{API}/procedure-plans/{flow.plan.pk}/submit/"), ("post", f"{API}/procedure-plans/{flow.plan.pk}/approve/"),
        ("get", f"{API}/consents/"), ("get", f"{API}/consents/{flow.consent.pk}/"),
        ("post", f"{API}/consents/{flow.consent.pk}/revoke/"), ("post", f"{API}/consents/{flow.consent.pk}/verify/"),
        ("get", f"{API}/consent-templates/"), ("get", f"{API}/consent-templates/{flow.template.pk}/"),
        ("get", f"{API}/surgical-cases/"), ("get", f"{API}/patients/{flow.patient.pk}/workflow/"),
        ("get", f"{API}/operating-rooms/"), ("get", f"{API}/case-items/trace/?lot=x"),
    ]


def test_anonymous_gets_401_and_patients_get_403_whatever_the_id(flow, other_patient):
    flow.send()
    before = written()
    for method, url in urls(flow):
        assert getattr(APIClient(), method)(url).status_code == 401, url
        for who in (flow.patient.user, other_patient.user):
            response = getattr(api_session(who), method)(url)
            assert response.status_code == 403, (url, response.status_code)
            assert "plan" not in response.json()["message"].lower()
    assert written() == before


def test_each_role_gets_what_its_permissions_allow(flow, front_desk, nurse, billing_user):
    flow.send()
    plan_url, consent_url = f"{API}/procedure-plans/{flow.plan.pk}/", f"{API}/consents/{flow.consent.pk}/"
    workflow_url = f"{API}/patients/{flow.patient.pk}/workflow/"

    desk = api_session(front_desk)
    assert desk.get(plan_url).json()["id"] == str(flow.plan.pk)
    assert desk.get(workflow_url).json()["currentStage"] == "CONSENT_CREATED"
    assert desk.post(f"{API}/procedure-plans/", {}, format="json").status_code == 403  # no add_procedureplan
    assert api_session(nurse).post(f"{API}/procedure-plans/{flow.plan.pk}/approve/").status_code == 403
    billing = api_session(billing_user)
    assert billing.get(plan_url).json()["quote_total"] == "3650.50"
    assert billing.get(consent_url).status_code == 403
    assert billing.post(f"{API}/consents/{flow.consent.pk}/verify/").status_code == 403
    assert api_session(front_desk, verified=False).get(plan_url).status_code == 401


def test_another_surgeon_cannot_approve_and_a_key_never_approves(flow, provider_user, key, api_key_factory):
    flow.draft()
    flow.plan = ProcedurePlan.objects.get(pk=flow.plan.pk)
    api_session(flow.surgeon.user).post(f"{API}/procedure-plans/{flow.plan.pk}/submit/")
    before = PlanEvent.objects.count()

    error(api_session(provider_user).post(f"{API}/procedure-plans/{flow.plan.pk}/approve/"), 403, "not_plan_surgeon")
    assert key.post(f"{API}/procedure-plans/{flow.plan.pk}/approve/").status_code == 403
    read_only = api_keyed_client(api_key_factory("consents:read")[1])
    assert read_only.post(f"{API}/procedure-plans/{flow.plan.pk}/cancel/", {"reason": "x"}, format="json").status_code == 403
    assert read_only.get(f"{API}/procedure-plans/{flow.plan.pk}/").status_code == 200
    other_scope = api_keyed_client(api_key_factory("patients:read")[1])
    assert other_scope.get(f"{API}/procedure-plans/{flow.plan.pk}/").status_code == 403
    assert PlanEvent.objects.count() == before


def test_unknown_ids_are_404(key):
    for url in (f"/procedure-plans/{uuid.uuid4()}/", f"/consents/{uuid.uuid4()}/", f"/surgical-cases/{uuid.uuid4()}/",
                f"/patients/{uuid.uuid4()}/workflow/", f"/consent-templates/{uuid.uuid4()}/"):
        error(key.get(API + url), 404, "not_found")
    assert TheatreBooking.objects.count() == 0
