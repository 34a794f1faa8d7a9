"""The staff records pages: the chart section on the patient page, the records page per tab with
its forms, the note editor (draft, sign, addendum), labs entry and release, documents, and the
provider's queues. Each role sees what its permissions allow; every page audits its reads."""
import datetime

import pytest
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.records import services
from apps.records.models import Document, LabResult, Problem, RefillRequest, VisitNote, VisitSummary
from apps.scheduling import services as scheduling
from tests.records.factories import PDF, lab, make_visit, medication, problem, upload, write_note

pytestmark = pytest.mark.django_db


def test_the_patient_page_shows_the_chart_section_and_audits_it(client_for, patient, provider_user):
    problem(patient, provider_user)
    lab(patient, provider_user)
    text = client_for(provider_user).get(f"/staff/patients/{patient.pk}/").content.decode()
    assert "Health record" in text and "Type 2 diabetes" in text and "not released" in text
    assert f"/staff/records/patients/{patient.pk}/?tab=labs" in text
    assert AccessLog.objects.filter(actor_user=provider_user, object_type="records.problem").exists()


def test_the_front_desk_sees_no_clinical_section_but_documents(client_for, patient, front_desk, provider_user):
    problem(patient, provider_user)
    client = client_for(front_desk)
    assert "Type 2 diabetes" not in client.get(f"/staff/patients/{patient.pk}/").content.decode()
    assert client.get(f"/staff/records/patients/{patient.pk}/?tab=chart").status_code == 403
    assert client.get(f"/staff/records/patients/{patient.pk}/?tab=documents").status_code == 200


def test_adding_a_problem_and_a_refused_code_stays_on_the_form(client_for, patient, nurse):
    client = client_for(nurse)
    url = f"/staff/records/patients/{patient.pk}/problem/add/"
    bad = client.post(url, {"problem-code": "nope", "problem-description": "Asthma"})
    assert bad.status_code == 400 and "ICD-10-CM" in bad.content.decode()
    good = client.post(url, {"problem-code": "J45.909", "problem-description": "Asthma"})
    assert good.status_code == 302
    assert Problem.objects.get(patient=patient).code == "J45.909"


def test_the_provider_writes_signs_and_amends_the_note_and_the_summary_is_released(client_for, patient, provider,
                                                                                 provider_user):
    visit = make_visit(patient, provider)
    client = client_for(provider_user)
    url = f"/staff/records/visits/{visit.pk}/note/"
    assert "SOAP note" in client.get(url).content.decode()
    fields = {"subjective": "Cough", "objective": "Clear lungs", "assessment": "Viral bronchitis", "plan": "Rest",
              "diagnosis_codes": "J20.9", "summary_assessment": "A chest cold.", "follow_up": "", "medications_changed": ""}
    assert client.post(url, {**fields, "action": "save"}).status_code == 302
    assert VisitNote.objects.get(visit=visit).status == "DRAFT"
    assert client.post(url, {**fields, "action": "sign"}).status_code == 302
    note = VisitNote.objects.get(visit=visit)
    assert note.status == "SIGNED" and note.diagnosis_codes == ["J20.9"]
    again = client.post(url, {**fields, "plan": "Changed", "action": "save"})
    assert again.status_code == 409
    assert VisitNote.objects.get(visit=visit).plan == "Rest"
    assert client.post(f"/staff/records/notes/{note.pk}/addendum/", {"text": "X-ray clear."}).status_code == 302
    assert "X-ray clear." in client.get(url).content.decode()
    scheduling.visit_complete(visit=visit, actor=provider_user)
    assert VisitSummary.objects.filter(visit=visit).exists()


def test_a_nurse_reads_the_note_but_cannot_write_or_sign_it(client_for, patient, provider, provider_user, nurse):
    visit = make_visit(patient, provider)
    write_note(visit, provider_user)
    client = client_for(nurse)
    url = f"/staff/records/visits/{visit.pk}/note/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"assessment": "x", "plan": "y", "action": "sign"}).status_code == 403
    assert VisitNote.objects.get(visit=visit).status == "DRAFT"


def test_notes_and_refills_queues_show_the_providers_work(client_for, patient, provider, provider_user):
    visit = make_visit(patient, provider)
    write_note(visit, provider_user)
    unwritten = make_visit(patient, provider, hours_ago=3)
    med = medication(patient, provider_user, prescriber=provider)
    refill = services.refill_request_create(medication=med, actor=patient.user, pharmacy="Main St")
    client = client_for(provider_user)
    notes = client.get("/staff/records/notes/").content.decode()
    assert f"/staff/records/visits/{visit.pk}/note/" in notes and f"/staff/records/visits/{unwritten.pk}/note/" in notes
    refills = client.get("/staff/records/refills/").content.decode()
    assert "Metformin" in refills and "Main St" in refills
    response = client.post(f"/staff/records/refills/{refill.pk}/decide/", {"decision": "deny", "note": "Book a visit"})
    assert response.status_code == 302
    assert RefillRequest.objects.get(pk=refill.pk).status == "DENIED"


def test_labs_entry_and_release_from_the_pages(client_for, patient, provider_user, nurse):
    entry = client_for(nurse).post(f"/staff/records/patients/{patient.pk}/labs/", {
        "test_name": "Glucose", "loinc_code": "2345-7", "value": "130", "unit": "mg/dL", "reference_low": "70",
        "reference_high": "99", "collected_at": "2026-11-30T08:00", "resulted_at": "2026-11-30T12:00"})
    assert entry.status_code == 302
    result = LabResult.objects.get(patient=patient)
    assert result.abnormal_flag == "H" and result.status == "ENTERED"
    assert client_for(nurse).post(f"/staff/records/labs/{result.pk}/release/").status_code == 403
    client = client_for(provider_user)
    assert "Glucose" in client.get("/staff/records/labs/").content.decode()
    assert client.post(f"/staff/records/labs/{result.pk}/release/", {"next": "queue"}).status_code == 302
    assert LabResult.objects.get(pk=result.pk).status == "RELEASED"


def test_staff_upload_share_and_download(client_for, patient, provider_user, billing_user):
    client = client_for(provider_user)
    response = client.post(f"/staff/records/patients/{patient.pk}/documents/",
                           {"category": "IMAGING_REPORT", "title": "MRI", "file": upload("mri.pdf", PDF)})
    assert response.status_code == 302
    document = Document.objects.get(patient=patient)
    assert not document.shared_with_patient
    assert client.post(f"/staff/records/documents/{document.pk}/share/").status_code == 302
    assert Document.objects.get(pk=document.pk).shared_with_patient
    download = client_for(billing_user).get(f"/staff/records/documents/{document.pk}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF


def test_patients_and_unverified_staff_cannot_open_staff_pages(client_for, patient, provider_user):
    url = f"/staff/records/patients/{patient.pk}/"
    assert client_for(patient.user).get(url).status_code == 302
    response = client_for(provider_user, verified=False).get(url)
    assert response.status_code == 302 and "mfa" in response["Location"]


def test_the_staff_visit_page_links_to_its_note_editor(client_for, patient, provider, provider_user, nurse, front_desk):
    visit = make_visit(patient, provider)
    page = f"/staff/scheduling/visits/{visit.pk}/"
    editor = f"/staff/records/visits/{visit.pk}/note/"

    mine = client_for(provider_user).get(page)
    theirs = client_for(nurse).get(page)
    desk = client_for(front_desk).get(page)

    assert mine.status_code == 200 and editor in mine.content.decode()
    assert "Write or sign the visit note" in mine.content.decode()
    assert theirs.status_code == 200 and "Open the visit note" in theirs.content.decode()
    assert desk.status_code == 200 and editor not in desk.content.decode()


def test_a_cancelled_visit_offers_no_note(client_for, patient, provider, provider_user):
    visit = make_visit(patient, provider, status="CANCELLED")

    response = client_for(provider_user).get(f"/staff/scheduling/visits/{visit.pk}/")

    assert response.status_code == 200
    assert f"/staff/records/visits/{visit.pk}/note/" not in response.content.decode()


def test_the_staff_nav_leads_providers_to_the_records_queues(client_for, provider_user, nurse):
    provider_nav = client_for(provider_user).get("/staff/").content.decode()
    nurse_nav = client_for(nurse).get("/staff/").content.decode()

    assert 'href="/staff/records/notes/"' in provider_nav and ">Records</a>" in provider_nav
    assert ">Records</a>" not in nurse_nav


def _readings(patient):
    services.reading_permissions_set(patient=patient, changes={"blood_pressure": True}, actor=patient.user)
    now = timezone.now()
    services.record_readings(patient, [
        {"kind": "blood_pressure", "value": 140 - i, "diastolic": 90 - i, "unit": "mmHg", "source": "Omron",
         "measured_at": (now - datetime.timedelta(days=i)).isoformat()} for i in range(3)], patient.user)


def test_the_care_team_sees_the_patients_readings_with_a_trend_chart(client_for, patient, provider_user, front_desk):
    _readings(patient)

    response = client_for(provider_user).get(f"/staff/patients/{patient.pk}/")
    desk = client_for(front_desk).get(f"/staff/patients/{patient.pk}/").content.decode()

    text = response.content.decode()
    assert response.status_code == 200
    assert "Readings from the patient's phone" in text and "Patient-reported" in text
    assert "Blood pressure</strong>: 140/90 mm[Hg]" in text
    assert text.count("<polyline") == 2 and "<script" not in text.split("Readings from")[1].split("</section>")[0]
    assert "upper line systolic" in text
    assert AccessLog.objects.filter(actor_user=provider_user, object_type="records.patientreading").count() == 3
    assert "Patient-reported" not in desk
