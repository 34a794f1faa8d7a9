"""A patient signs a procedure consent with a drawn signature in headless Chromium at a 390 px
phone viewport: ticks every clause, answers the check (a wrong answer shows its explanation
at once, from the autosave), draws on the pad with pointer events, types their name and
password, signs; the page says so and the consent holds a drawn PNG and its hash.

Part of the browser tests' own invocation (tests/browser/conftest.py)."""
import pytest

from apps.consents.models import ConsentForm
from tests.consents.factories import Flow, preop_catalogue
from tests.factories import PortalPatientFactory

pytestmark = pytest.mark.django_db(transaction=True)
OVERFLOW = "document.documentElement.scrollWidth"


def test_a_patient_signs_with_a_drawn_signature_on_a_phone(page_for):
    preop_catalogue()
    patient = PortalPatientFactory()
    flow = Flow(patient)
    consent = flow.send()
    page = page_for(patient.user)

    page.goto(f"/portal/consents/{consent.pk}/")
    assert page.evaluate(OVERFLOW) <= 390
    for key in ("nature", "risks", "anaesthesia"):
        page.check(f"#id_ack_{key}")
    page.check("input[name=answer_fasting][value=Yes]")
    page.wait_for_selector("[data-check=fasting] [data-explanation]:not([hidden])")
    assert "No food for 8 hours" in page.inner_text("[data-check=fasting]")
    page.check("input[name=answer_fasting][value=No]")
    page.wait_for_selector("[data-check=fasting] [data-explanation]", state="hidden")

    pad = page.locator("[data-signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box["width"] <= 390
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 20):
        page.mouse.move(box["x"] + 20 + step * (box["width"] - 40) / 20, box["y"] + box["height"] / 2 + (step % 4) * 6)
    page.mouse.up()
    page.fill("#id_typed_name", patient.legal_name)
    page.fill("#id_secret", "correct-horse-battery")
    page.click("[data-sign-button]")
    page.wait_for_selector("text=Thank you. Your consent is signed.")

    consent = ConsentForm.objects.get(pk=consent.pk)
    assert (consent.status, consent.signature_kind) == ("SIGNED", "DRAWN")
    assert bytes(consent.signature_image).startswith(b"\x89PNG") and len(consent.document_sha256) == 64
    assert consent.document_sha256 in page.content()
