"""The portal's consent, plan and timeline pages: what the patient sees, signing with a drawn or
typed signature after the step-up, save and resume, refusals on the form with their status, and
404 for every page of another patient's consent or plan; anonymous is sent to sign in."""
import json

import pytest

from apps.audit.models import AccessLog
from apps.consents.models import ConsentForm
from tests.consents.factories import ALL_CLAUSES, png_data_url

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def sign_post(flow, **overrides):
    data = {f"ack_{key}": "on" for key in ALL_CLAUSES}
    data.update({"answer_fasting": "No", "typed_name": flow.patient.legal_name, "signature_mode": "draw",
                 "signature_data": png_data_url(), "secret": PASSWORD, "action": "sign"})
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_consent_list_shows_what_to_sign_and_what_is_signed(flow, client_for):
    flow.send()
    client = client_for(flow.patient.user)
    response = client.get("/portal/consents/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "To sign" in text and "Consent to surgery" in text and f"/portal/consents/{flow.consent.pk}/" in text
    assert AccessLog.objects.filter(object_id=str(flow.consent.pk), action="read").exists()


def test_the_signing_page_shows_sections_checks_progress_and_the_pad(flow, client_for):
    flow.send()
    text = client_for(flow.patient.user).get(f"/portal/consents/{flow.consent.pk}/").content.decode()

    assert "I understand the risks: bleeding, infection, scarring and asymmetry." in text
    assert "Can you eat on the morning of surgery?" in text
    assert "data-signature-pad" in text and "consents/signing.js" in text and "0 of 4 done" in text
    assert "Upper eyelid blepharoplasty" in text and "$3650.50" in text
    assert "cdn" not in text.lower()


def test_signing_with_a_drawn_signature_after_the_password(flow, client_for):
    flow.send()
    client = client_for(flow.patient.user)
    response = client.post(f"/portal/consents/{flow.consent.pk}/", sign_post(flow), HTTP_USER_AGENT="Phone/1.0")

    assert response.status_code == 302, response.content.decode()[:2000]
    consent = ConsentForm.objects.get(pk=flow.consent.pk)
    assert (consent.status, consent.signature_kind, consent.signed_user_agent) == ("SIGNED", "DRAWN", "Phone/1.0")
    page = client.get(response["Location"]).content.decode()
    assert "Thank you. Your consent is signed." in page and consent.document_sha256 in page


def test_signing_with_a_typed_signature(flow, client_for):
    flow.send()
    client = client_for(flow.patient.user)
    response = client.post(f"/portal/consents/{flow.consent.pk}/", sign_post(
        flow, signature_mode="type", signature_data=None, typed_signature=flow.patient.legal_name))
    assert response.status_code == 302
    assert ConsentForm.objects.get(pk=flow.consent.pk).signature_kind == "TYPED"


@pytest.mark.parametrize("overrides, status, words", [
    ({"secret": "wrong password"}, 403, "That password is not right."),
    ({"secret": ""}, 403, "Please confirm it is you"),
    ({"answer_fasting": "Yes"}, 400, "Not quite. No food for 8 hours before surgery"),
    ({"ack_risks": None}, 400, "Please read and acknowledge every section before signing."),
    ({"typed_name": "Someone Else"}, 400, "must be your full legal name"),
    ({"signature_data": "data:image/png;base64,AAAA"}, 400, "The drawn signature"),
])
def test_a_refused_signature_shows_why_on_the_form_and_keeps_the_progress(flow, client_for, overrides, status, words):
    flow.send()
    response = client_for(flow.patient.user).post(f"/portal/consents/{flow.consent.pk}/", sign_post(flow, **overrides))

    assert response.status_code == status
    assert words in response.content.decode()
    consent = ConsentForm.objects.get(pk=flow.consent.pk)
    assert consent.status == "PENDING"
    assert consent.progress_saved_at is not None  # what was ticked is kept for next time


def test_save_and_resume_on_another_device(flow, client_for):
    flow.send()
    response = client_for(flow.patient.user).post(f"/portal/consents/{flow.consent.pk}/", {
        "ack_nature": "on", "ack_risks": "on", "answer_fasting": "No", "action": "save"})
    assert response.status_code == 302

    text = client_for(flow.patient.user).get(f"/portal/consents/{flow.consent.pk}/").content.decode()  # a new session
    assert "3 of 4 done" in text
    assert 'name="ack_nature" id="id_ack_nature" checked' in text and 'value="No" id="id_answer_fasting_1" checked' in text


def test_autosave_answers_json_with_the_explanation_of_a_wrong_answer(flow, client_for):
    flow.send()
    client = client_for(flow.patient.user)
    response = client.post(f"/portal/consents/{flow.consent.pk}/progress/", json.dumps(
        {"acknowledged": ["nature"], "answers": {"fasting": "Yes"}}), content_type="application/json")

    assert response.status_code == 200
    body = response.json()
    assert body["progress"] == {"done": 2, "total": 4, "percent": 50}
    assert body["wrong"]["fasting"].startswith("No food for 8 hours")
    bad = client.post(f"/portal/consents/{flow.consent.pk}/progress/", "[" * 10, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"


def test_decline_and_revoke(flow, other_flow, client_for):
    flow.send()
    client = client_for(flow.patient.user)
    assert client.post(f"/portal/consents/{flow.consent.pk}/decline/", {"reason": "Not now"}).status_code == 302
    assert ConsentForm.objects.get(pk=flow.consent.pk).status == "DECLINED"

    other_flow.sign()
    other = client_for(other_flow.patient.user)
    response = other.post(f"/portal/consents/{other_flow.consent.pk}/revoke/", {"reason": ""})
    assert response.status_code == 400
    response = other.post(f"/portal/consents/{other_flow.consent.pk}/revoke/", {"reason": "Changed my mind"})
    assert response.status_code == 302
    assert ConsentForm.objects.get(pk=other_flow.consent.pk).status == "REVOKED"


def test_plans_and_timeline_pages(flow, client_for):
    flow.sign()
    client = client_for(flow.patient.user)

    plans = client.get("/portal/plans/").content.decode()
    assert "Upper eyelid blepharoplasty" in plans and "Consent signed" in plans
    plan = client.get(f"/portal/plans/{flow.plan.pk}/").content.decode()
    assert "Labs" in plan and "$3650.50" in plan
    timeline = client.get("/portal/timeline/").content.decode()
    assert "Complete the pre-op checklist" in timeline and 'aria-current="step"' in timeline
    assert "Pre-op: labs missing" in timeline


def test_another_patient_gets_404_for_every_consent_and_plan_page(flow, other_patient, client_for):
    flow.send()
    client = client_for(other_patient.user)
    for url in (f"/portal/consents/{flow.consent.pk}/", f"/portal/plans/{flow.plan.pk}/"):
        assert client.get(url).status_code == 404, url
    for url in (f"/portal/consents/{flow.consent.pk}/", f"/portal/consents/{flow.consent.pk}/progress/",
                f"/portal/consents/{flow.consent.pk}/decline/", f"/portal/consents/{flow.consent.pk}/revoke/"):
        assert client.post(url, {"action": "save"}).status_code == 404, url
    assert ConsentForm.objects.get(pk=flow.consent.pk).status == "PENDING"
    timeline = client.get("/portal/timeline/").content.decode()
    assert "Book a consultation" in timeline  # their own, empty workflow


def test_anonymous_is_sent_to_sign_in_and_staff_to_their_pages(flow, client, front_desk, client_for):
    flow.send()
    for url in ("/portal/consents/", f"/portal/consents/{flow.consent.pk}/", "/portal/plans/", "/portal/timeline/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert client_for(front_desk).get("/portal/consents/").status_code == 302
