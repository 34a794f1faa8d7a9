"""The signing page's return address (`?next=`, from telehealth's waiting room): kept through the
page, a save and a refusal, followed after signing or declining when it is a URL of this site;
a foreign, scheme-only, NUL-carrying or oversized one is ignored (the patient stays on the
clinic's own pages)."""
import pytest

from apps.consents.models import ConsentForm
from tests.consents.test_views_portal import sign_post

pytestmark = pytest.mark.django_db
ROOM = "/portal/video/8d7e5b1c-8f0e-4c4e-9a59-3c1f4f0a2b11/room/"


def _page(flow):
    return f"/portal/consents/{flow.consent.pk}/"


def test_the_signing_page_keeps_a_local_next_in_its_forms(flow, client_for):
    flow.send()

    response = client_for(flow.patient.user).get(_page(flow), {"next": ROOM})

    text = response.content.decode()
    assert response.status_code == 200
    assert text.count(f'<input type="hidden" name="next" value="{ROOM}">') == 2  # the signing and the decline forms
    assert f'href="{ROOM}">Back to where you were</a>' in text


def test_signing_goes_back_to_a_local_next(flow, client_for):
    flow.send()
    client = client_for(flow.patient.user)

    response = client.post(_page(flow), sign_post(flow, next=ROOM))

    assert response.status_code == 302 and response["Location"] == ROOM
    assert ConsentForm.objects.get(pk=flow.consent.pk).status == "SIGNED"


def test_an_absolute_url_of_this_site_is_followed_too(flow, client_for):
    flow.send()

    response = client_for(flow.patient.user).post(_page(flow), sign_post(flow, next=f"http://testserver{ROOM}"))

    assert response.status_code == 302 and response["Location"] == f"http://testserver{ROOM}"


@pytest.mark.parametrize("foreign", [
    "https://evil.example/phish", "//evil.example/phish", "javascript:alert(1)", "http://testserver.evil.example/",
    "/portal/\x00x", "/" + "a" * 600, "\\\\evil.example",
])
def test_a_foreign_next_is_ignored_after_signing(flow, client_for, foreign):
    flow.send()
    client = client_for(flow.patient.user)

    page = client.get(_page(flow), {"next": foreign}).content.decode()
    response = client.post(_page(flow), sign_post(flow, next=foreign))

    assert 'name="next"' not in page and "Back to where you were" not in page
    assert response.status_code == 302 and response["Location"] == _page(flow)
    assert ConsentForm.objects.get(pk=flow.consent.pk).status == "SIGNED"
    assert "Thank you. Your consent is signed." in client.get(response["Location"]).content.decode()


def test_saving_keeps_the_next_and_a_refusal_keeps_it_on_the_form(flow, client_for):
    flow.send()
    client = client_for(flow.patient.user)

    saved = client.post(_page(flow), sign_post(flow, action="save", next=ROOM))
    refused = client.post(_page(flow), sign_post(flow, typed_name="Someone Else", next=ROOM))

    assert saved.status_code == 302 and saved["Location"] == f"{_page(flow)}?next=%2Fportal%2Fvideo%2F" \
        "8d7e5b1c-8f0e-4c4e-9a59-3c1f4f0a2b11%2Froom%2F"
    assert refused.status_code == 400
    assert f'<input type="hidden" name="next" value="{ROOM}">' in refused.content.decode()


def test_declining_goes_back_to_a_local_next_and_ignores_a_foreign_one(flow, other_flow, client_for):
    flow.send()
    other_flow.send()

    back = client_for(flow.patient.user).post(f"{_page(flow)}decline/", {"reason": "Not today", "next": ROOM})
    home = client_for(other_flow.patient.user).post(f"/portal/consents/{other_flow.consent.pk}/decline/",
                                                    {"next": "https://evil.example/"})

    assert back.status_code == 302 and back["Location"] == ROOM
    assert home.status_code == 302 and home["Location"] == "/portal/consents/"
    assert ConsentForm.objects.get(pk=flow.consent.pk).status == "DECLINED"


def test_a_signed_consent_offers_to_continue_to_a_local_next(flow, client_for):
    flow.sign()

    text = client_for(flow.patient.user).get(_page(flow), {"next": ROOM}).content.decode()
    foreign = client_for(flow.patient.user).get(_page(flow), {"next": "https://evil.example/"}).content.decode()

    assert f'<a class="button primary" href="{ROOM}">Continue</a>' in text
    assert "evil.example" not in foreign and ">Continue</a>" not in foreign
