"""/api/v1/portal/ for consents, video visits, bills and records through a phone app's session
token: the owner's 2xx with content, another patient's 404 (nothing changed), anonymous and a
revoked token 401; the apps' own rules answer (a step-up, not admitted yet, a card charged once,
one open refill)."""
import uuid

import pytest
from django.test import Client

from apps.billing.gateways import reset
from apps.billing.gateways.test_gateway import SUCCESS
from apps.billing.models import Payment
from apps.consents.models import ConsentForm
from apps.records.models import RefillRequest
from apps.telehealth.models import WaitingRoomEntry
from tests.billing.factories import fee_schedule, issued_invoice
from tests.consents.factories import ALL_CLAUSES, Flow, png_data_url, preop_catalogue, verified
from tests.portal_api.test_api_portal import PASSWORD, App, sign_in
from tests.records.factories import allergy, lab, medication, problem, provider_for
from tests.telehealth.factories import admitted, session_for, waiting

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(patient):
    return App(sign_in(patient.user))


@pytest.fixture
def other_app(other_patient):
    return App(sign_in(other_patient.user))


@pytest.fixture
def _gateway(settings):
    settings.BILLING_PAYMENT_GATEWAY = "test"
    reset()
    yield
    reset()


def _sign_body(patient, **overrides):
    body = {"acknowledged": ALL_CLAUSES, "answers": {"fasting": "No"}, "typed_name": patient.legal_name,
            "signature_png": png_data_url(), "secret": PASSWORD}
    body.update(overrides)
    return body


# --- who may call ----------------------------------------------------------------------------

LISTS = ["consents/", "telehealth/sessions/", "bills/", "bills/balance/", "payments/", "records/summary/",
         "records/visit-summaries/", "records/lab-results/", "records/documents/"]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_is_401_anonymous_and_with_a_revoked_token_and_200_for_the_owner(patient, path):
    assert App(None).get(path).status_code == 401
    token = sign_in(patient.user)
    assert App(token).get(path).status_code == 200
    Client().delete("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=token)
    response = App(token).get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- consents --------------------------------------------------------------------------------

@pytest.fixture
def consent(patient):
    preop_catalogue()
    return Flow(patient).send()


def test_my_consents_list_and_detail_show_what_to_sign(app, consent):
    listed = app.get("consents/")
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["results"]] == [str(consent.pk)]
    assert listed.json()["results"][0]["status"] == "PENDING"
    detail = app.get(f"consents/{consent.pk}/").json()
    clauses = [c["key"] for section in detail["document"]["sections"] for c in section["clauses"]]
    assert sorted(clauses) == sorted(ALL_CLAUSES)
    assert detail["document"]["checks"][0]["question"] == "Can you eat on the morning of surgery?"
    assert "answer" not in detail["document"]["checks"][0]


def test_signing_with_the_password_signs_it(app, consent, patient):
    response = app.post(f"consents/{consent.pk}/sign/", _sign_body(patient), HTTP_USER_AGENT="ClinicApp/1.0")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "SIGNED" and response.json()["signature_kind"] == "DRAWN"
    consent.refresh_from_db()
    assert consent.status == ConsentForm.Status.SIGNED and consent.signed_user_agent == "ClinicApp/1.0"
    assert app.post(f"consents/{consent.pk}/sign/", _sign_body(patient)).status_code == 409


def test_the_step_up_is_kept_on_the_sign_in_for_a_while(app, consent, patient):
    refused = app.post(f"consents/{consent.pk}/sign/", _sign_body(patient, typed_name="Someone Else"))
    assert refused.status_code == 400
    response = app.post(f"consents/{consent.pk}/sign/", _sign_body(patient, secret=""))
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("overrides, status, code", [
    ({"secret": "wrong password"}, 403, "step_up_failed"),
    ({"secret": ""}, 403, "step_up_required"),
    ({"answers": {"fasting": "Yes"}}, 400, "understanding_check_failed"),
    ({"signature_png": "", "typed_signature": ""}, 400, "validation_error"),
    ({"signature_png": "data:image/png;base64,AAAA"}, 400, None),
    ({"typed_name": "x\x00"}, 400, "validation_error"),
])
def test_a_refused_signature_answers_why_and_signs_nothing(app, consent, patient, overrides, status, code):
    response = app.post(f"consents/{consent.pk}/sign/", _sign_body(patient, **overrides))
    assert response.status_code == status, response.content
    if code:
        assert response.json()["code"] == code
    consent.refresh_from_db()
    assert consent.status == ConsentForm.Status.PENDING


def test_another_patients_consent_is_404_and_stays_pending(other_app, consent, other_patient):
    assert other_app.get(f"consents/{consent.pk}/").status_code == 404
    assert other_app.post(f"consents/{consent.pk}/sign/", _sign_body(other_patient)).status_code == 404
    assert other_app.get("consents/").json()["results"] == []
    consent.refresh_from_db()
    assert consent.status == ConsentForm.Status.PENDING


# --- video visits ------------------------------------------------------------------------------

def test_my_video_visits_and_a_join_token_once_admitted(app, patient):
    session = session_for(patient)
    listed = app.get("telehealth/sessions/").json()["results"]
    assert [s["id"] for s in listed] == [str(session.pk)]
    early = app.post(f"telehealth/sessions/{session.pk}/join-token/")
    assert early.status_code == 409 and early.json()["code"] == "not_admitted"
    admitted(session)
    token = app.post(f"telehealth/sessions/{session.pk}/join-token/")
    assert token.status_code == 200
    assert token.json()["role"] == "guest" and token.json()["token"]


def test_the_device_check_is_stored_on_my_waiting_room_entry(app, patient):
    session = session_for(patient)
    waiting(session, devices=None, state=None)
    response = app.post(f"telehealth/sessions/{session.pk}/device-check/",
                        {"camera": True, "microphone": True, "mic_level": 0.5, "rtt_ms": 30, "download_kbps": 5000})
    assert response.status_code == 200, response.content
    assert response.json()["device_ok"] is True
    assert WaitingRoomEntry.objects.get(session=session).device_check["camera"] is True
    assert app.post(f"telehealth/sessions/{session.pk}/device-check/", {"camera": "maybe"}).status_code == 400


def test_another_patients_video_visit_is_404(other_app, patient):
    session = session_for(patient)
    assert other_app.post(f"telehealth/sessions/{session.pk}/join-token/").status_code == 404
    assert other_app.post(f"telehealth/sessions/{session.pk}/device-check/", {"camera": True, "microphone": True}).status_code == 404
    assert other_app.get("telehealth/sessions/").json()["results"] == []


# --- bills ---------------------------------------------------------------------------------------

@pytest.fixture
def invoice(patient, billing_user, _gateway):
    fee_schedule()
    return issued_invoice(patient, verified(billing_user))


def test_my_bills_balance_and_one_bill_with_its_lines(app, invoice):
    listed = app.get("bills/").json()["results"]
    assert [b["id"] for b in listed] == [str(invoice.pk)]
    assert app.get("bills/balance/").json()["balance"] == "125.00"
    detail = app.get(f"bills/{invoice.pk}/").json()
    assert detail["number"] == invoice.display_number and detail["lines"][0]["code"] == "99213"


def test_paying_my_bill_with_a_key_charges_once(app, invoice, patient):
    body = {"amount": "125.00", "source": SUCCESS}
    first = app.post(f"bills/{invoice.pk}/pay/", body, HTTP_IDEMPOTENCY_KEY="pay-1")
    again = app.post(f"bills/{invoice.pk}/pay/", body, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert first.status_code == again.status_code == 201, first.content
    assert first.json()["status"] == "SUCCEEDED" and again["Idempotent-Replayed"] == "true"
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert app.get("bills/balance/").json()["balance"] == "0.00"
    assert [p["id"] for p in app.get("payments/").json()["results"]] == [first.json()["id"]]
    assert app.post(f"bills/{invoice.pk}/pay/", body).status_code == 400


def test_another_patients_bill_is_404_and_nothing_is_charged(other_app, invoice):
    assert other_app.get(f"bills/{invoice.pk}/").status_code == 404
    response = other_app.post(f"bills/{invoice.pk}/pay/", {"amount": "125.00", "source": SUCCESS}, HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 404
    assert not Payment.objects.exists()
    assert other_app.get("bills/").json()["results"] == []


# --- records ------------------------------------------------------------------------------------

def test_my_health_summary_and_only_released_labs(app, patient, provider_user):
    provider_for(provider_user)
    problem(patient, provider_user)
    allergy(patient, provider_user)
    medication(patient, provider_user)
    shown = lab(patient, verified(provider_user), release=True)
    lab(patient, provider_user, test_name="Lipid panel", loinc_code="57698-3")
    summary = app.get("records/summary/").json()
    assert [p["description"] for p in summary["problems"]] == ["Type 2 diabetes"]
    assert [a["substance"] for a in summary["allergies"]] == ["Penicillin"]
    assert [m["name"] for m in summary["medications"]] == ["Metformin"]
    labs = app.get("records/lab-results/").json()["results"]
    assert [r["id"] for r in labs] == [str(shown.pk)]


def test_a_refill_request_once_per_medication(app, patient, provider_user):
    med = medication(patient, provider_user, prescriber=provider_for(provider_user))
    first = app.post(f"records/medications/{med.pk}/refill/", {"pharmacy": "Main St Pharmacy", "note": "Running low"})
    assert first.status_code == 201 and first.json()["status"] == "REQUESTED"
    second = app.post(f"records/medications/{med.pk}/refill/", {"pharmacy": "Main St Pharmacy"})
    assert second.status_code == 409 and second.json()["code"] == "refill_already_open"
    assert app.post(f"records/medications/{med.pk}/refill/", {"pharmacy": "x" * 201}).status_code == 400
    assert RefillRequest.objects.filter(medication=med).count() == 1


def test_another_patients_records_are_404_or_absent(other_app, patient, provider_user):
    med = medication(patient, provider_user, prescriber=provider_for(provider_user))
    lab(patient, verified(provider_user), release=True)
    assert other_app.post(f"records/medications/{med.pk}/refill/", {"pharmacy": "P"}).status_code == 404
    assert other_app.post(f"records/medications/{uuid.uuid4()}/refill/", {"pharmacy": "P"}).status_code == 404
    assert other_app.get("records/lab-results/").json()["results"] == []
    assert other_app.get("records/summary/").json()["medications"] == []
    assert not RefillRequest.objects.exists()
