"""A payment's PDF receipt, through core's PDF renderer (apps/core/pdf.py: WeasyPrint with a
URL fetcher that refuses file: and outside URLs)."""
from django.conf import settings
from django.utils import timezone

from apps.core.pdf import render_pdf
from apps.core.timezones import local_time


def receipt_pdf(payment):
    """The receipt of a SUCCEEDED payment as PDF bytes (refunds listed)."""
    invoice = payment.invoice
    return render_pdf("billing/receipt.html", {
        "payment": payment,
        "invoice": invoice,
        "patient": payment.patient,
        "refunds": list(payment.refunds.all()),
        "paid_at": local_time(payment.succeeded_at or payment.created_at, payment.patient),
        "printed_at": local_time(timezone.now(), payment.patient),
        "clinic_name": getattr(settings, "CLINIC_NAME", "Clinic"),
    })
