"""Secure threads in the admin: read-only, messages inline, every view in the access log."""
from apps.audit.models import AccessLog
from tests.messaging.thread_helpers import PDF, patient_thread, private_attachment_root, upload  # noqa: F401


def test_threads_are_listed_and_shown_read_only_and_audited(client_for, clinic_admin, patient):
    thread = patient_thread(patient, body="Can I take it with food?", files=[upload("scan.pdf", PDF, "application/pdf")])
    client = client_for(clinic_admin)

    listing = client.get("/admin/messaging/thread/")
    page = client.get(f"/admin/messaging/thread/{thread.pk}/change/")

    assert listing.status_code == 200 and "Question about my medication" in listing.content.decode()
    assert page.status_code == 200
    assert "Can I take it with food?" in page.content.decode()
    assert "Created" in page.content.decode()  # the event inline (ThreadEvent on core's TransitionEvent)
    assert AccessLog.objects.filter(action="read", object_type="messaging.thread", object_id=str(thread.pk),
                                    patient_id=patient.pk).count() == 2
    assert client.get("/admin/messaging/thread/add/").status_code == 403
    assert client.post(f"/admin/messaging/thread/{thread.pk}/delete/").status_code == 403
    attachments = client.get("/admin/messaging/attachment/")
    assert attachments.status_code == 200 and "scan.pdf" in attachments.content.decode()


def test_staff_whose_role_cannot_read_threads_cannot_open_them(client_for, billing_user, patient):
    thread = patient_thread(patient)
    response = client_for(billing_user).get(f"/admin/messaging/thread/{thread.pk}/change/")
    assert response.status_code == 403
    assert "Can I take it with food?" not in response.content.decode()
