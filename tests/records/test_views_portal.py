"""The portal's records pages: what the patient sees (released labs only, with range and flag,
a trend chart as inline SVG, visit summaries, current medications, documents), refill requests
and uploads, downloads through the checked view, "Who viewed my record"; another patient's rows
404; anonymous is sent to sign in; every page writes audit rows."""
import datetime
import re
from decimal import Decimal

import pytest

from apps.audit.models import AccessLog
from apps.records import services
from apps.records.models import Document, RefillRequest
from apps.scheduling import services as scheduling
from tests.records.factories import PDF, PNG, allergy, lab, make_visit, medication, problem, upload, write_note

pytestmark = pytest.mark.django_db


def test_the_summary_shows_active_problems_allergies_and_current_medications(client_for, patient, provider_user):
    problem(patient, provider_user)
    allergy(patient, provider_user)
    medication(patient, provider_user)
    response = client_for(patient.user).get("/portal/records/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "Type 2 diabetes" in text and "E11.9" in text and "Penicillin" in text and "Metformin" in text
    assert AccessLog.objects.filter(actor_user=patient.user, object_type="records.problem", action="read").exists()


def test_only_released_labs_reach_the_portal(client_for, patient, provider_user):
    hidden = lab(patient, provider_user, test_name="Lipid panel", loinc_code="2093-3", value="250", unit="mg/dL",
                 reference_high=Decimal("200"))
    shown = lab(patient, provider_user, release=True, value="7.2")
    client = client_for(patient.user)
    text = client.get("/portal/records/labs/").content.decode()
    assert "Hemoglobin A1c" in text and "Lipid panel" not in text
    assert "7.2 %" in text and "High" in text and "up to 5.6" in text
    assert client.get(f"/portal/records/labs/{hidden.pk}/").status_code == 404
    assert client.get(f"/portal/records/labs/{shown.pk}/").status_code == 200


def test_a_repeated_test_draws_a_trend_chart_without_a_cdn(client_for, patient, provider_user):
    lab(patient, provider_user, release=True, value="6.8", days_ago=200)
    lab(patient, provider_user, release=True, value="6.3", days_ago=100)
    latest = lab(patient, provider_user, release=True, value="5.4", days_ago=2)
    lab(patient, provider_user, release=False, value="9.9", days_ago=1)
    text = client_for(patient.user).get(f"/portal/records/labs/{latest.pk}/").content.decode()
    assert "<svg" in text and text.count("<circle") == 3 and "trend-band" in text
    assert "9.9" not in text
    assert not re.search(r"https?://(?!www\.w3\.org)", text.split("<svg", 1)[1].split("</svg>", 1)[0])


def test_the_visit_summary_appears_after_completion_and_signature(client_for, patient, provider, provider_user):
    visit = make_visit(patient, provider)
    note = write_note(visit, provider_user)
    client = client_for(patient.user)
    assert "throat infection" not in client.get("/portal/records/visits/").content.decode()
    services.visit_note_sign(note=note, actor=provider_user)
    scheduling.visit_complete(visit=visit, actor=provider_user)
    text = client.get("/portal/records/visits/").content.decode()
    summary_id = visit.summary.pk
    assert f"/portal/records/visits/{summary_id}/" in text
    detail = client.get(f"/portal/records/visits/{summary_id}/").content.decode()
    assert "A throat infection caused by a virus." in detail and "Come back if not better in a week." in detail
    assert "Temp 38.1" not in detail  # the clinical note itself stays in the chart


def test_requesting_a_refill_and_a_second_one_is_refused_with_409(client_for, patient, provider_user, provider):
    med = medication(patient, provider_user, prescriber=provider)
    client = client_for(patient.user)
    response = client.post(f"/portal/records/medications/{med.pk}/refill/", {"pharmacy": "Main St", "note": "Thanks"})
    assert response.status_code == 302
    assert RefillRequest.objects.get(medication=med).pharmacy == "Main St"
    again = client.post(f"/portal/records/medications/{med.pk}/refill/", {"pharmacy": "Main St"})
    assert again.status_code == 409 and "already waiting" in again.content.decode()
    assert RefillRequest.objects.filter(medication=med).count() == 1
    assert "waiting for review" in client.get("/portal/records/medications/").content.decode()


def test_a_refill_without_a_pharmacy_is_a_form_error(client_for, patient, provider_user):
    med = medication(patient, provider_user)
    response = client_for(patient.user).post(f"/portal/records/medications/{med.pk}/refill/", {"pharmacy": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    assert not RefillRequest.objects.exists()


def test_uploading_an_insurance_card_and_downloading_it(client_for, patient):
    client = client_for(patient.user)
    response = client.post("/portal/records/documents/", {"category": "INSURANCE_CARD", "title": "Front",
                                                          "file": upload()})
    assert response.status_code == 302
    document = Document.objects.get(patient=patient)
    download = client.get(f"/portal/records/documents/{document.pk}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "image/png" and "attachment" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AccessLog.objects.filter(object_id=str(document.pk), action="read", detail__download=True).exists()


def test_an_html_file_renamed_pdf_is_a_form_error(client_for, patient):
    response = client_for(patient.user).post("/portal/records/documents/", {
        "category": "OTHER", "file": upload("x.pdf", b"<html><body>hi</body></html>", "application/pdf")})
    assert response.status_code == 400 and "is not a PDF or an image" in response.content.decode()
    assert not Document.objects.exists()


def test_an_unshared_staff_document_is_not_the_patients(client_for, patient, provider_user):
    document = services.document_upload(patient=patient, actor=provider_user, upload=upload("r.pdf", PDF),
                                        category="REFERRAL")
    client = client_for(patient.user)
    assert client.get(f"/portal/records/documents/{document.pk}/download/").status_code == 404
    services.document_share(document=document, actor=provider_user)
    assert client.get(f"/portal/records/documents/{document.pk}/download/").status_code == 200


def test_another_patients_rows_are_404_on_every_page(client_for, patient, other_patient, provider, provider_user):
    med = medication(other_patient, provider_user)
    result = lab(other_patient, provider_user, release=True)
    document = services.document_upload(patient=other_patient, actor=other_patient.user, upload=upload(),
                                        category="ID", by_patient=True)
    visit = make_visit(other_patient, provider)
    write_note(visit, provider_user, sign=True)
    scheduling.visit_complete(visit=visit, actor=provider_user)
    refill = services.refill_request_create(medication=med, actor=other_patient.user, pharmacy="X")
    client = client_for(patient.user)
    for url in [f"/portal/records/labs/{result.pk}/", f"/portal/records/visits/{visit.summary.pk}/",
                f"/portal/records/documents/{document.pk}/download/"]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/portal/records/medications/{med.pk}/refill/", {"pharmacy": "Y"}).status_code == 404
    assert client.post(f"/portal/records/refills/{refill.pk}/cancel/").status_code == 404
    assert RefillRequest.objects.get(pk=refill.pk).status == "REQUESTED"
    for url in ["/portal/records/", "/portal/records/labs/", "/portal/records/medications/", "/portal/records/documents/",
                "/portal/records/visits/"]:
        text = client.get(url).content.decode()
        assert "Metformin" not in text and "Hemoglobin" not in text, url


@pytest.mark.parametrize("url", ["/portal/records/", "/portal/records/labs/", "/portal/records/viewers/",
                                 "/portal/records/medications/", "/portal/records/documents/"])
def test_anonymous_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_on_portal_pages_go_to_the_staff_side(client_for, provider_user):
    response = client_for(provider_user).get("/portal/records/")
    assert response.status_code == 302 and response["Location"] == "/staff/"


def test_who_viewed_my_record_shows_staff_reads_and_not_the_patients_own(client_for, patient, provider_user, api_key_factory):
    provider_user.full_name = "Dr. Priya Shah"
    provider_user.save(update_fields=["full_name"])
    lab(patient, provider_user, release=True)
    client = client_for(patient.user)
    client.get("/portal/records/labs/")  # the patient's own read: never listed
    assert client_for(provider_user).get(f"/staff/patients/{patient.pk}/").status_code == 200
    key, raw = api_key_factory("records:read", name="Acme Lab Interface")
    from tests.conftest import api_keyed_client
    assert api_keyed_client(raw).get(f"/api/v1/records/lab-results/?patient={patient.pk}").status_code == 200
    text = client.get("/portal/records/viewers/").content.decode()
    assert "Dr. Priya Shah" in text and "Provider" in text and "Viewed your chart" in text
    assert "Acme Lab Interface" in text and "Connected system" in text
    assert patient.user.full_name not in text
    assert "America/" in text or "UTC" in text


def test_who_viewed_my_record_is_paginated_in_the_patients_timezone(client_for, patient, provider_user):
    from apps.audit.models import AccessLog as Log
    patient.timezone = "America/Los_Angeles"
    patient.save(update_fields=["timezone"])
    at = datetime.datetime(2026, 7, 1, 19, 30, tzinfo=datetime.timezone.utc)
    Log.objects.bulk_create([Log(at=at - datetime.timedelta(minutes=i), actor_user=provider_user, role="provider",
                                 action="read", object_type="records.labresult", object_id=str(i), patient_id=patient.pk)
                             for i in range(25)])
    client = client_for(patient.user)
    first = client.get("/portal/records/viewers/").content.decode()
    assert "Page 1 of 2" in first and "12:30 p.m." in first and "America/Los_Angeles" in first
    assert "Viewed a test result" in first
    second = client.get("/portal/records/viewers/?page=2").content.decode()
    assert "Page 2 of 2" in second
    assert client.get("/portal/records/viewers/?page=99999999999999999999999").status_code == 200
