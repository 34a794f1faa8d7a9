"""The staff consents pages (/staff/surgery/): who sees what (each role, patients, anonymous,
staff without their second factor), the chronology through the pages with every step refused
out of order (its status and code on the page, nothing written), verification of a consent and
of an uploaded PDF (tampering reported, audited), theatre booking, the checklist, the case's
lifecycle, the theatre schedule, the lot trace and the workflow on the patient page."""
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.consents import services
from apps.consents.models import CaseItem, ConsentForm, ProcedurePlan, SurgicalCase, TheatreBooking
from apps.scheduling.models import Visit
from tests.consents.factories import LINES, RoomFactory

pytestmark = pytest.mark.django_db


def lines_post(lines=LINES):
    data = {}
    for number, line in enumerate(lines, start=1):
        for name, value in line.items():
            data[f"{name}_{number}"] = value
    return data


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


# --- who may open the pages --------------------------------------------------------------------

LIST_PAGES = ["/staff/surgery/plans/", "/staff/surgery/approvals/", "/staff/surgery/consents/", "/staff/surgery/cases/",
              "/staff/surgery/theatre/", "/staff/surgery/trace/", "/staff/surgery/verify-pdf/"]
# The pages each role may open (the others answer 403).
ALLOWED = {
    "front_desk": {"/staff/surgery/plans/", "/staff/surgery/consents/", "/staff/surgery/cases/", "/staff/surgery/theatre/",
                   "/staff/surgery/verify-pdf/"},
    "nurse": set(LIST_PAGES) - {"/staff/surgery/approvals/"},
    "provider_user": set(LIST_PAGES),
    "billing_user": {"/staff/surgery/plans/", "/staff/surgery/cases/", "/staff/surgery/trace/"},
    "clinic_admin": set(LIST_PAGES),
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_opens_the_pages_its_permissions_allow(role, request, client_for):
    client = client_for(request.getfixturevalue(role))

    answers = {url: client.get(url).status_code for url in LIST_PAGES}

    assert answers == {url: 200 if url in ALLOWED[role] else 403 for url in LIST_PAGES}


def test_patients_anonymous_and_unverified_staff_are_sent_away(flow, client, client_for, nurse):
    flow.sign()
    urls = LIST_PAGES + [f"/staff/surgery/plans/{flow.plan.pk}/", f"/staff/surgery/consents/{flow.consent.pk}/"]
    patient = client_for(flow.patient.user)
    unverified = client_for(nurse, verified=False)

    for url in urls:
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"], url
        assert patient.get(url).status_code == 302, url
        assert unverified.get(url).status_code == 302, url


def test_a_missing_or_malformed_id_is_the_404_page(client_for, clinic_admin):
    client = client_for(clinic_admin)

    for url in ("/staff/surgery/plans/00000000-0000-0000-0000-000000000000/",
                "/staff/surgery/consents/00000000-0000-0000-0000-000000000000/",
                "/staff/surgery/cases/00000000-0000-0000-0000-000000000000/",
                "/staff/surgery/plans/not-a-uuid/"):
        assert client.get(url).status_code == 404, url


# --- plans ---------------------------------------------------------------------------------------

def test_drafting_a_plan_from_a_completed_consultation(flow, client_for):
    flow.consult()
    client = client_for(flow.surgeon.user)
    url = f"/staff/surgery/patients/{flow.patient.pk}/plans/new/"

    page = client.get(url).content.decode()
    response = client.post(url, {"consultation": str(flow.consultation.pk), "surgeon": str(flow.surgeon.pk),
                                 "notes": "Day case", **lines_post()})

    assert flow.visit_type.name in page
    assert response.status_code == 302
    plan = ProcedurePlan.objects.get(patient=flow.patient)
    assert response["Location"] == f"/staff/surgery/plans/{plan.pk}/"
    assert (plan.status, plan.quote_total, plan.lines.count()) == ("DRAFT", services.plans.Decimal("3650.50"), 2)


def test_a_plan_from_a_consultation_not_completed_is_refused_with_409(flow, client_for):
    flow.consult(status=Visit.Status.PLANNED)
    client = client_for(flow.surgeon.user)

    response = client.post(f"/staff/surgery/patients/{flow.patient.pk}/plans/new/", {
        "consultation": str(flow.consultation.pk), "surgeon": str(flow.surgeon.pk), **lines_post()})

    assert response.status_code == 409
    assert "consultation_not_completed" in response.content.decode()
    assert not ProcedurePlan.objects.exists()


def test_a_bad_line_is_a_400_naming_it(flow, client_for):
    flow.consult()
    bad = [dict(LINES[0], code="ABC")]

    response = client_for(flow.surgeon.user).post(f"/staff/surgery/patients/{flow.patient.pk}/plans/new/", {
        "consultation": str(flow.consultation.pk), "surgeon": str(flow.surgeon.pk), **lines_post(bad)})

    assert response.status_code == 400 and "Line 1 needs a CPT or HCPCS code" in response.content.decode()
    assert not ProcedurePlan.objects.exists()


def test_editing_a_draft_then_the_approved_plan_is_frozen(flow, client_for):
    flow.draft()
    client = client_for(flow.surgeon.user)
    url = f"/staff/surgery/plans/{flow.plan.pk}/edit/"

    edited = client.post(url, {"surgeon": str(flow.surgeon.pk), "notes": "Changed", **lines_post(LINES[:1])})
    flow.approve()
    frozen = client.post(url, {"surgeon": str(flow.surgeon.pk), "notes": "Again", **lines_post(LINES[:1])})

    assert edited.status_code == 302
    assert frozen.status_code == 409 and "plan_frozen" in frozen.content.decode()
    plan = ProcedurePlan.objects.get(pk=flow.plan.pk)
    assert (plan.notes, plan.quote_total) == ("Changed", services.plans.Decimal("3200.00"))


def test_submit_and_approve_only_by_the_plans_surgeon(flow, provider_user, client_for):
    flow.draft()
    surgeon = client_for(flow.surgeon.user)
    other_provider = client_for(provider_user)

    assert surgeon.post(f"/staff/surgery/plans/{flow.plan.pk}/submit/").status_code == 302
    queue = surgeon.get("/staff/surgery/approvals/").content.decode()
    refused = other_provider.post(f"/staff/surgery/plans/{flow.plan.pk}/approve/")
    approved = surgeon.post(f"/staff/surgery/plans/{flow.plan.pk}/approve/", {"back": "queue"})

    assert f"/staff/surgery/plans/{flow.plan.pk}/" in queue
    assert refused.status_code == 403
    assert approved.status_code == 302 and approved["Location"] == "/staff/surgery/approvals/"
    plan = ProcedurePlan.objects.get(pk=flow.plan.pk)
    assert plan.status == "APPROVED" and plan.preop_items.count() == 3


def test_approving_a_draft_is_refused_with_409_on_the_page(flow, client_for):
    flow.draft()

    response = client_for(flow.surgeon.user).post(f"/staff/surgery/plans/{flow.plan.pk}/approve/")

    assert response.status_code == 409 and "invalid_transition" in response.content.decode()
    assert ProcedurePlan.objects.get(pk=flow.plan.pk).status == "DRAFT"


def test_the_plan_page_shows_lines_checklist_versions_and_the_workflow(flow, client_for, nurse):
    flow.approve()
    client = client_for(nurse)

    text = client.get(f"/staff/surgery/plans/{flow.plan.pk}/").content.decode()

    assert "Upper eyelid blepharoplasty" in text and "Medical clearance" in text and "Send the procedure consent" in text
    assert AccessLog.objects.filter(object_id=str(flow.plan.pk), detail__view="staff_plan").exists()


def test_a_new_version_keeps_the_old_one(flow, client_for):
    flow.approve()
    client = client_for(flow.surgeon.user)

    response = client.post(f"/staff/surgery/plans/{flow.plan.pk}/new-version/", {"version-reason": "Add the brow"})

    new = ProcedurePlan.objects.get(previous_version=flow.plan)
    assert response.status_code == 302 and response["Location"] == f"/staff/surgery/plans/{new.pk}/"
    assert ProcedurePlan.objects.get(pk=flow.plan.pk).status == "CANCELLED" and new.version == 2
    page = client.get(f"/staff/surgery/plans/{new.pk}/").content.decode()
    assert f"/staff/surgery/plans/{flow.plan.pk}/" in page and "v2 (this one)" in page


def test_cancel_needs_a_reason(flow, client_for):
    flow.draft()
    client = client_for(flow.surgeon.user)

    empty = client.post(f"/staff/surgery/plans/{flow.plan.pk}/cancel/", {"cancel-reason": ""})
    done = client.post(f"/staff/surgery/plans/{flow.plan.pk}/cancel/", {"cancel-reason": "Patient moved away"})

    assert empty.status_code == 400 and done.status_code == 302
    assert ProcedurePlan.objects.get(pk=flow.plan.pk).cancel_reason == "Patient moved away"


# --- consents --------------------------------------------------------------------------------------

def test_sending_a_consent_before_approval_is_refused_and_writes_nothing(flow, client_for, nurse):
    flow.draft()

    response = client_for(nurse).post(f"/staff/surgery/patients/{flow.patient.pk}/consents/send/", {
        "template": str(flow.template.pk), "plan": str(flow.plan.pk)})

    assert response.status_code == 409 and "plan_not_approved" in response.content.decode()
    assert not ConsentForm.objects.exists()


def test_sending_a_procedure_consent_for_the_approved_plan(flow, client_for, nurse):
    flow.approve()
    client = client_for(nurse)
    url = f"/staff/surgery/patients/{flow.patient.pk}/consents/send/"

    page = client.get(url + f"?plan={flow.plan.pk}").content.decode()
    response = client.post(url, {"template": str(flow.template.pk), "plan": str(flow.plan.pk)})

    assert "Consent to surgery" in page
    consent = ConsentForm.objects.get(plan=flow.plan)
    assert response.status_code == 302 and response["Location"] == f"/staff/surgery/consents/{consent.pk}/"
    assert ProcedurePlan.objects.get(pk=flow.plan.pk).status == "CONSENT_PENDING"


def test_verifying_a_consent_and_a_tampered_one(flow, client_for, nurse):
    flow.sign()
    client = client_for(nurse)
    url = f"/staff/surgery/consents/{flow.consent.pk}/verify/"

    valid = client.post(url).content.decode()
    ConsentForm.objects.filter(pk=flow.consent.pk).update(typed_name="Somebody Else")
    tampered = client.post(url)

    assert "Verified" in valid and "consent_valid" in valid
    assert tampered.status_code == 200
    assert "Not valid" in tampered.content.decode() and "consent_tampered" in tampered.content.decode()
    assert AccessLog.objects.filter(object_id=str(flow.consent.pk), detail__verification="failed",
                                    detail__purpose="staff_verify").exists()


def test_an_uploaded_copy_is_checked_against_the_pdf_we_issued(flow, client_for, nurse):
    flow.sign()
    consent = services.consent_pdf_render(consent_id=flow.consent.pk)
    with consent.pdf.open("rb") as handle:
        data = handle.read()
    client = client_for(nurse)
    url = f"/staff/surgery/consents/{consent.pk}/verify/"

    same = client.post(url, {"pdf": SimpleUploadedFile("c.pdf", data, "application/pdf")}).content.decode()
    altered = client.post(url, {"pdf": SimpleUploadedFile("c.pdf", data[:-20] + b"%%EOF tampered\n", "application/pdf")})
    anywhere = client.post("/staff/surgery/verify-pdf/", {"pdf": SimpleUploadedFile("c.pdf", data, "application/pdf")})

    assert "Authentic file" in same and "pdf_matches" in same
    assert "Tampering" in altered.content.decode() and "pdf_altered" in altered.content.decode()
    assert "pdf_matches" in anywhere.content.decode() and f"/staff/surgery/consents/{consent.pk}/" in anywhere.content.decode()


def test_staff_revoke_with_a_reason(flow, client_for, nurse):
    flow.sign()
    client = client_for(nurse)

    response = client.post(f"/staff/surgery/consents/{flow.consent.pk}/revoke/", {"revoke-reason": "Patient called"})

    assert response.status_code == 302 and ConsentForm.objects.get(pk=flow.consent.pk).status == "REVOKED"


# --- cases -----------------------------------------------------------------------------------------

def test_a_case_before_the_consent_is_signed_is_refused(flow, client_for):
    flow.send()

    response = client_for(flow.surgeon.user).post(f"/staff/surgery/plans/{flow.plan.pk}/case/new/",
                                                  {"anaesthesia_type": "GENERAL"})

    assert response.status_code == 409 and "consent_not_signed" in response.content.decode()
    assert not SurgicalCase.objects.exists()


def test_a_case_on_a_tampered_consent_is_refused_and_audited(flow, client_for):
    flow.sign()
    ConsentForm.objects.filter(pk=flow.consent.pk).update(signed_ip="198.51.100.1")

    response = client_for(flow.surgeon.user).post(f"/staff/surgery/plans/{flow.plan.pk}/case/new/",
                                                  {"anaesthesia_type": "GENERAL"})

    assert response.status_code == 409 and "consent_tampered" in response.content.decode()
    assert not SurgicalCase.objects.exists()
    assert AccessLog.objects.filter(object_id=str(flow.consent.pk), detail__verification="failed",
                                    detail__purpose="surgical_case_create").exists()


def test_the_case_from_creation_to_completion_through_the_pages(flow, client_for):
    flow.sign()
    client = client_for(flow.surgeon.user)
    room = RoomFactory()
    start = (timezone.now() + datetime.timedelta(days=5)).replace(minute=0, second=0, microsecond=0)

    created = client.post(f"/staff/surgery/plans/{flow.plan.pk}/case/new/", {"anaesthesia_type": "REGIONAL"})
    case = SurgicalCase.objects.get(plan=flow.plan)
    booked = client.post(f"/staff/surgery/cases/{case.pk}/book/", {
        "book-room": str(room.pk), "book-start": _local(start), "book-end": _local(start + datetime.timedelta(hours=2))})
    too_early = client.post(f"/staff/surgery/cases/{case.pk}/start/")
    for item in flow.plan.preop_items.all():
        client.post(f"/staff/surgery/plans/{flow.plan.pk}/preop/{item.pk}/done/", {"back": "case", "note": "ok"})
    started = client.post(f"/staff/surgery/cases/{case.pk}/start/")
    item = client.post(f"/staff/surgery/cases/{case.pk}/items/", {
        "item-kind": "IMPLANT", "item-name": "Orbital implant", "item-manufacturer": "Acme", "item-lot_number": "LOT-77",
        "item-serial_number": "SN-1", "item-quantity": "1", "item-billable": "on", "item-billing_code": "L8699"})
    completed = client.post(f"/staff/surgery/cases/{case.pk}/complete/")

    assert created.status_code == 302 and created["Location"] == f"/staff/surgery/cases/{case.pk}/"
    assert booked.status_code == 302 and TheatreBooking.objects.get(case=case).room == room
    assert too_early.status_code == 409 and "preop_incomplete" in too_early.content.decode()
    assert started.status_code == 302 and item.status_code == 302 and completed.status_code == 302
    assert SurgicalCase.objects.get(pk=case.pk).status == "COMPLETED"
    assert ProcedurePlan.objects.get(pk=flow.plan.pk).status == "COMPLETED"
    assert CaseItem.objects.get(case=case).lot_number == "LOT-77"
    page = client.get(f"/staff/surgery/cases/{case.pk}/").content.decode()
    assert "Orbital implant" in page and "LOT-77" in page


def test_a_double_booked_room_is_refused_with_409(flow, other_flow, client_for):
    room = RoomFactory()
    start = (timezone.now() + datetime.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    flow.book(room=room, start=start)
    other_flow.case_create()
    client = client_for(other_flow.surgeon.user)

    response = client.post(f"/staff/surgery/cases/{other_flow.case.pk}/book/", {
        "book-room": str(room.pk), "book-start": _local(start + datetime.timedelta(hours=1)),
        "book-end": _local(start + datetime.timedelta(hours=3))})

    assert response.status_code == 409 and "theatre_unavailable" in response.content.decode()
    assert not TheatreBooking.objects.filter(case=other_flow.case).exists()


def test_the_theatre_schedule_and_the_lot_trace(flow, client_for, clinic_admin):
    room = RoomFactory(name="Theatre Blue")
    start = (timezone.now() + datetime.timedelta(days=2)).replace(hour=15, minute=0, second=0, microsecond=0)
    flow.book(room=room, start=start)
    flow.start()
    services.case_item_record(case=flow.case, kind="CONSUMABLE", name="Suture 5-0", manufacturer="Ethicon",
                              lot_number="ABC123", actor=flow.surgeon_user)
    client = client_for(clinic_admin)

    theatre = client.get("/staff/surgery/theatre/", {"date": timezone.localtime(start).date().isoformat()})
    trace = client.get("/staff/surgery/trace/", {"lot": "abc123"}).content.decode()
    bad = client.get("/staff/surgery/theatre/", {"date": "9999-12-31"})

    assert theatre.status_code == 200 and "Theatre Blue" in theatre.content.decode()
    assert flow.patient.last_name in theatre.content.decode()
    assert flow.patient.last_name in trace and "Suture 5-0" in trace
    assert bad.status_code == 400 and "Date:" in bad.content.decode()
    assert AccessLog.objects.filter(object_id=str(flow.case.pk), detail__view="staff_lot_trace").exists()


def test_the_patient_page_shows_the_workflow(flow, client_for, nurse, billing_user):
    flow.sign()

    text = client_for(nurse).get(f"/staff/patients/{flow.patient.pk}/").content.decode()

    assert "Surgical workflow" in text and "Complete the pre-op checklist" in text
    assert f"/staff/surgery/plans/{flow.plan.pk}/" in text
    assert AccessLog.objects.filter(object_id=str(flow.plan.pk), detail__view="staff_patient_workflow").exists()
