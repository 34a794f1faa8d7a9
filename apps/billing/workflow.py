"""Billing's two stages of the patient's workflow timeline (consents' workflow_billing hook):
13 "Invoice generated" and 14 "Payment received" for a plan whose surgical case is completed.

One query per completed plan (its case's charges with their invoices), none for a plan that is
not completed, whatever the number of charges, invoices or payments: the workflow selector's
cost stays fixed.

- 13 is done when every charge of the case is on an issued invoice (its date: the latest
  issue); before that its detail says what is left (charges to review, an invoice drafted).
- 14 is done when those invoices are PAID (its date: the latest payment in full); before that
  its detail says how much of the patient's part is paid."""
from apps.billing.models import Charge, Invoice
from apps.billing.money import ZERO, cents

C, I = Charge.Status, Invoice.Status


def _plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def workflow_stages(*, plan):
    if plan.status != "COMPLETED":
        return None
    charges = list(Charge.objects.filter(case__plan_id=plan.pk).exclude(status=C.VOID).select_related("invoice"))
    if not charges:
        return {"INVOICE_GENERATED": {"completed_at": None, "detail": "no charges yet"}}
    waiting = [c for c in charges if c.status != C.INVOICED]
    drafts = {c.invoice_id for c in charges if c.status == C.INVOICED and c.invoice.status == I.DRAFT}
    if waiting or drafts:
        to_review = sum(1 for c in waiting if c.status == C.PENDING_REVIEW)
        parts = []
        if to_review:
            parts.append(f"{_plural(to_review, 'charge')} to review")
        if len(waiting) > to_review:
            parts.append(f"{_plural(len(waiting) - to_review, 'charge')} to invoice")
        if drafts:
            parts.append(f"{_plural(len(drafts), 'invoice')} drafted")
        return {"INVOICE_GENERATED": {"completed_at": None, "detail": ", ".join(parts)}}
    invoices = sorted({c.invoice_id: c.invoice for c in charges}.values(), key=lambda i: i.number or 0)
    generated = {"completed_at": max(i.issued_at for i in invoices),
                 "detail": ", ".join(f"{i.display_number} {i.get_status_display().lower()}" for i in invoices)}
    owed = cents(sum((i.patient_responsibility for i in invoices), ZERO))
    paid = cents(sum((i.amount_paid for i in invoices), ZERO))
    if all(i.status == I.PAID for i in invoices):
        received = {"completed_at": max(i.paid_at for i in invoices), "detail": f"${paid} paid"}
    else:
        overdue = " (overdue)" if any(i.status == I.OVERDUE for i in invoices) else ""
        received = {"completed_at": None, "detail": f"${paid} of ${owed} paid{overdue}"}
    return {"INVOICE_GENERATED": generated, "PAYMENT_RECEIVED": received}
