"""Every portal and staff page fits a 390 px wide phone screen: the page itself never scrolls
sideways (a wide table may scroll inside its own box), and the page is the one asked for,
not a sign-in or error page."""
import pytest

from tests.messaging.thread_helpers import patient_thread
from tests.scheduling.factories import VisitRequestFactory

pytestmark = pytest.mark.django_db(transaction=True)

PORTAL = [
    ("/portal/", "My profile"),
    ("/portal/schedule/", "My visits"),
    ("/portal/schedule/request/", "Request a visit"),
    ("/portal/schedule/request/walk-in/", "walk-in"),
    ("/portal/schedule/request/future/", "Request a visit"),
    ("/portal/messages/", "Messages"),
    ("/portal/messages/new/", "New message"),
    ("/notifications/", "Notifications"),
    ("/portal/consents/", "Consents"),
    ("/portal/billing/", "My bills"),
    ("/portal/telehealth/", "Video visits"),
    ("/portal/plans/", "plans"),
    ("/portal/timeline/", "timeline"),
    ("/portal/records/", "My health record"),
    ("/portal/records/labs/", "Test results"),
    ("/portal/records/medications/", "Medications"),
    ("/portal/records/documents/", "Documents"),
    ("/portal/records/viewers/", "Who viewed my record"),
    ("/accounts/email/", "Email"),
    ("/accounts/password/change/", "Password"),
]
STAFF = [
    ("/staff/", "Dashboard"),
    ("/staff/patients/", "Patients"),
    ("/staff/patients/new/", "Register a patient"),
    ("/staff/duplicates/", "Possible duplicates"),
    ("/staff/scheduling/requests/", "Visit requests"),
    ("/staff/scheduling/day/", "Day schedule"),
    ("/staff/scheduling/front-desk/", "Front desk"),
    ("/staff/messages/", "Patient messages"),
    ("/staff/messages/new/", "New message"),
    ("/staff/messages/outbox/", "Message outbox"),
    ("/staff/mfa/backup-codes/", "backup codes"),
    ("/staff/surgery/plans/", "Procedure plans"),
    ("/staff/surgery/approvals/", "waiting for my approval"),
    ("/staff/surgery/consents/", "Consents"),
    ("/staff/surgery/verify-pdf/", "Check a consent PDF"),
    ("/staff/surgery/cases/", "Surgical cases"),
    ("/staff/surgery/theatre/", "Theatre schedule"),
    ("/staff/surgery/trace/?lot=LOT-1", "Lot trace"),
    ("/staff/records/notes/", "Notes to sign"),
    ("/staff/records/refills/", "Refills to review"),
    ("/staff/records/labs/", "Labs to release"),
    ("/staff/telehealth/queue/", "Virtual waiting room"),
    ("/staff/billing/", "Billing"),
    ("/staff/billing/ar/", "Accounts receivable aging"),
]
OVERFLOW = "document.documentElement.scrollWidth"


def fits(page, path, expected):
    response = page.goto(path)
    page.wait_for_load_state("load")
    text = page.inner_text("main")
    assert response.status == 200, f"{path}: {response.status}"
    assert expected.lower() in (page.title() + " " + text).lower(), f"{path} did not show {expected!r}"
    width = page.evaluate(OVERFLOW)
    assert width <= 390, f"{path} is {width} px wide at 390 px"


@pytest.mark.parametrize("path, expected", PORTAL, ids=[p for p, _ in PORTAL])
def test_each_portal_page_fits_a_phone(page_for, patient, path, expected):
    fits(page_for(patient.user), path, expected)


@pytest.mark.parametrize("path, expected", STAFF, ids=[p for p, _ in STAFF])
def test_each_staff_page_fits_a_phone(page_for, clinic_admin, path, expected):
    fits(page_for(clinic_admin), path, expected)


def test_pages_of_one_record_fit_a_phone_with_long_content(page_for, clinic_admin, patient):
    patient.email = "a.very.long.email.address.for.testing.wrapping@some-long-domain.example.org"
    patient.save(update_fields=["email"])
    thread = patient_thread(patient, subject="A subject " * 8, body="Supercalifragilistic" * 12)
    visit_request = VisitRequestFactory(patient=patient, reason="A long reason " * 20)
    staff = page_for(clinic_admin)
    fits(staff, f"/staff/patients/{patient.pk}/", patient.last_name)
    fits(staff, f"/staff/messages/{thread.pk}/", "A subject")
    fits(staff, f"/staff/scheduling/requests/{visit_request.pk}/", "A long reason")
    portal = page_for(patient.user)
    fits(portal, "/portal/", "some-long-domain")
    fits(portal, f"/portal/messages/{thread.pk}/", "A subject")
    fits(portal, f"/portal/schedule/requests/{visit_request.pk}/", "A long reason")


def test_the_sign_in_page_fits_a_phone(page_for):
    fits(page_for(None), "/accounts/login/", "Sign in")


def test_the_staff_consent_pages_of_one_patient_fit_a_phone(page_for, clinic_admin, patient):
    """A plan, its signed consent and its booked case, with the workflow on the patient page."""
    from tests.consents.factories import Flow, preop_catalogue

    preop_catalogue()
    flow = Flow(patient)
    flow.book()
    staff = page_for(clinic_admin)
    fits(staff, f"/staff/surgery/plans/{flow.plan.pk}/", "Upper eyelid blepharoplasty")
    fits(staff, f"/staff/surgery/plans/{flow.plan.pk}/case/new/", "The consent it relies on")
    fits(staff, f"/staff/surgery/consents/{flow.consent.pk}/", flow.consent.document_sha256)
    fits(staff, f"/staff/surgery/cases/{flow.case.pk}/", "Pre-op checklist")
    fits(staff, f"/staff/surgery/patients/{patient.pk}/plans/new/", "New procedure plan")
    fits(staff, f"/staff/surgery/patients/{patient.pk}/consents/send/", "Send a consent")
    fits(staff, f"/staff/patients/{patient.pk}/", "Surgical workflow")
