"""The signed consent's PDF as a download, for the portal, the staff pages and the API: the
caller has checked access (the patient's own consent, or staff / a key allowed to read it);
this audits the read and answers the stored file, never cached by the browser or a proxy."""
from django.http import HttpResponse

from apps.audit.services import record
from apps.consents import services


def pdf_response(request, consent, *, view):
    consent, data = services.consent_pdf_bytes(consent=consent)
    record("read", consent, detail={"view": view, "pdf_sha256": consent.pdf_sha256})
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="consent-{consent.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
