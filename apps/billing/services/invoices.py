"""Invoices: drafted from a patient's approved charges, issued with the next number of the
counter (gap-free, also under concurrency), settled as money comes and goes, voided (their
charges released for a corrected invoice), made OVERDUE by the daily job."""
import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.billing.exceptions import InvoiceHasPayments
from apps.billing.models import Charge, Deposit, Invoice, InvoiceCounter, InvoiceLine
from apps.billing.money import ZERO, cents, to_money
from apps.billing.services._common import move, user_actor
from apps.consents.models import SurgicalCase
from apps.core.exceptions import Conflict, ValidationFailed
from apps.core.timezones import clinic_zone
from apps.core.transitions import check_transition, lock, record_event
from apps.messaging.services import notify

I = Invoice.Status
C = Charge.Status
COUNTER = "invoice"


def _totals(invoice):
    """Recompute the amounts from the lines and the payments' net (a DRAFT's, or after money moved)."""
    subtotal = InvoiceLine.objects.filter(invoice=invoice).aggregate(total=Sum("amount"))["total"] or ZERO
    invoice.subtotal = cents(subtotal)
    if invoice.insurance_portion > invoice.subtotal:
        raise ValidationFailed({"insurance_portion": ["The insurance portion cannot be more than the invoice's total."]})
    invoice.patient_responsibility = cents(invoice.subtotal - invoice.insurance_portion)
    invoice.amount_due = cents(invoice.patient_responsibility - invoice.amount_paid)


@transaction.atomic
def invoice_create(*, patient, actor, charges=None, insurance_portion="0.00"):
    """A DRAFT invoice for `patient` from their APPROVED charges (all of them, or the ids in
    `charges`): one line per charge, each charge APPROVED -> INVOICED. Raises 409
    nothing_to_invoice when there is none."""
    queryset = Charge.objects.select_for_update().filter(patient=patient, status=C.APPROVED).order_by("service_date", "source", "line")
    if charges is not None:
        queryset = queryset.filter(pk__in=[getattr(c, "pk", c) for c in charges])
    rows = list(queryset)
    if not rows:
        raise Conflict("This patient has no approved charges to invoice.", code="nothing_to_invoice")
    insurance_portion = to_money(insurance_portion)
    if insurance_portion < 0:
        raise ValidationFailed({"insurance_portion": ["Cannot be negative."]})
    invoice = Invoice.objects.create(patient=patient, created_by=user_actor(actor))
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, charge=charge, position=number, code=charge.code, description=charge.description,
                    modifiers=charge.modifiers, service_date=charge.service_date, quantity=charge.quantity,
                    unit_price=charge.unit_price, amount=charge.amount)
        for number, charge in enumerate(rows, start=1)
    ])
    invoice.insurance_portion = insurance_portion
    _totals(invoice)
    _credit_deposits(invoice, rows, actor=actor, position=len(rows) + 1)
    invoice.save(update_fields=["subtotal", "insurance_portion", "patient_responsibility", "amount_due", "updated_at"])
    record_event(invoice, actor=actor, reason="Invoice drafted", data={"charges": [str(c.pk) for c in rows]})
    for charge in rows:
        move(charge, C.INVOICED, actor=actor, reason="Invoiced", invoice=invoice)
    return invoice


def _credit_deposits(invoice, charges, *, actor, position):
    """A surgical case's charges on a new invoice: each paid deposit of the case's plan not yet
    credited becomes a credit line (never more than the patient's part, so nothing goes
    negative) and is marked applied to this invoice, once (the deposit row locked, then its
    invoice, whose PAID status is read under that lock: a refund racing this waits or is
    refused)."""
    case_ids = {charge.case_id for charge in charges if charge.case_id}
    if not case_ids:
        return
    plans = SurgicalCase.objects.filter(pk__in=case_ids).values("plan_id")
    deposits = Deposit.objects.select_for_update().filter(plan_id__in=plans, applied_to__isnull=True)
    for deposit in deposits.order_by("pk"):
        paid = lock(Invoice, deposit.invoice_id)
        credit = min(paid.amount_paid, invoice.patient_responsibility)
        if paid.status != I.PAID or credit <= 0:
            continue
        InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.CREDIT, position=position, quantity=1,
                                   description=f"Deposit paid ({paid.display_number})", unit_price=-credit, amount=-credit)
        position += 1
        _totals(invoice)
        deposit.applied_to = invoice
        deposit.save(update_fields=["applied_to", "updated_at"])
        record_event(invoice, actor=actor, reason=f"Deposit {paid.display_number} credited", data={"credit": str(credit)})


def _lock_draft(invoice):
    invoice = lock(Invoice, invoice.pk)
    if invoice.status != I.DRAFT:
        raise Conflict("Only a draft invoice changes; an issued one is corrected by a void and a new invoice.",
                       code="invoice_not_draft")
    return invoice


@transaction.atomic
def invoice_set_insurance(*, invoice, actor, insurance_portion):
    """The insurance portion of a DRAFT (entered, or from an eligibility estimate); the
    patient's part follows."""
    invoice = _lock_draft(invoice)
    invoice.insurance_portion = to_money(insurance_portion)
    if invoice.insurance_portion < 0:
        raise ValidationFailed({"insurance_portion": ["Cannot be negative."]})
    _totals(invoice)
    invoice.save(update_fields=["insurance_portion", "patient_responsibility", "amount_due", "updated_at"])
    record_event(invoice, actor=actor, reason="Insurance portion set", data={"insurance_portion": str(invoice.insurance_portion)})
    return invoice


@transaction.atomic
def invoice_add_credit(*, invoice, actor, description, amount):
    """A credit line on a DRAFT (a courtesy discount, a correction): takes `amount` off."""
    invoice = _lock_draft(invoice)
    amount = to_money(amount)
    if amount <= 0:
        raise ValidationFailed({"amount": ["A credit is a positive amount to take off."]})
    position = (invoice.lines.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.CREDIT, position=position, description=description[:200],
                               quantity=1, unit_price=-amount, amount=-amount)
    _totals(invoice)
    if invoice.subtotal < 0:
        raise ValidationFailed({"amount": ["The credits cannot be more than the charges."]})
    invoice.save(update_fields=["subtotal", "patient_responsibility", "amount_due", "updated_at"])
    record_event(invoice, actor=actor, reason=f"Credit: {description}"[:500], data={"credit": str(amount)})
    return invoice


def _next_number():
    """The next invoice number, taken under the counter row's lock (held until the issuing
    transaction ends): concurrent issues queue here, and a rollback gives the number back."""
    InvoiceCounter.objects.get_or_create(name=COUNTER)
    counter = InvoiceCounter.objects.select_for_update().get(name=COUNTER)
    number = counter.next_number
    counter.next_number = number + 1
    counter.save(update_fields=["next_number"])
    return number


@transaction.atomic
def invoice_issue(*, invoice, actor, due_date=None, now=None):
    """DRAFT -> ISSUED: numbered (gap-free, sequential), due BILLING_INVOICE_DUE_DAYS later
    unless `due_date`; its lines are frozen from here (database trigger). Tells the patient in
    the portal. 409 invoice_empty for an invoice without lines."""
    now = now or timezone.now()
    invoice = lock(Invoice, invoice.pk)
    if invoice.status == I.DRAFT and not invoice.lines.exists():
        raise Conflict("An invoice without lines cannot be issued.", code="invoice_empty")
    today = now.astimezone(clinic_zone()).date()
    due_date = due_date or today + datetime.timedelta(days=settings.BILLING_INVOICE_DUE_DAYS)
    if due_date < today:
        raise ValidationFailed({"due_date": ["The due date cannot be in the past."]})
    # The table first (a second issue is refused before a number is taken).
    check_transition(Invoice, invoice.status, I.ISSUED)
    number = _next_number()
    fields = {"number": number, "issued_at": now, "due_date": due_date}
    if invoice.amount_due == 0:
        # Nothing for the patient to pay (insurance covers it all): issued and settled at once.
        move(invoice, I.ISSUED, actor=actor, reason="Issued", **fields)
        move(invoice, I.PAID, actor=actor, reason="Nothing due from the patient", paid_at=now)
    else:
        move(invoice, I.ISSUED, actor=actor, reason="Issued", **fields)
    patient = invoice.patient
    if patient.user_id:
        notify(user=patient.user, kind="billing_invoice_issued", title="You have a new bill",
               body=f"Invoice {invoice.display_number}: ${invoice.amount_due} due by {due_date:%b %d, %Y}.",
               link=f"/portal/billing/invoices/{invoice.pk}/")
    return invoice


@transaction.atomic
def invoice_void(*, invoice, actor, reason, now=None):
    """DRAFT / ISSUED / OVERDUE -> VOID with a reason, only while it holds no money (refund
    first: 409 invoice_has_payments). Its charges go back to APPROVED for a corrected invoice."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["Give the reason for voiding the invoice."]})
    invoice = lock(Invoice, invoice.pk)
    if invoice.amount_paid > 0 or invoice.payments.filter(status="PENDING").exists():
        raise InvoiceHasPayments()
    move(invoice, I.VOID, actor=actor, reason=reason, voided_at=now or timezone.now(), void_reason=reason)
    # A deposit credited on it is credited again on the corrected invoice.
    Deposit.objects.filter(applied_to=invoice).update(applied_to=None, updated_at=timezone.now())
    for charge in Charge.objects.select_for_update().filter(invoice=invoice, status=C.INVOICED):
        move(charge, C.APPROVED, actor=actor, reason=f"Released by the void of {invoice.display_number}", invoice=None)
    return invoice


def settle(invoice, *, paid_delta, actor, reason, now=None):
    """Money moved on a locked invoice (a payment: +, a refund: -): amounts recomputed (the
    database checks keep them consistent and never negative) and the status that follows:
    PAID when nothing is due, PARTIALLY_PAID when some is paid (an OVERDUE one stays OVERDUE
    until paid), back to ISSUED when a refund leaves nothing paid."""
    now = now or timezone.now()
    invoice.amount_paid = cents(invoice.amount_paid + paid_delta)
    invoice.amount_due = cents(invoice.patient_responsibility - invoice.amount_paid)
    fields = {"amount_paid": invoice.amount_paid, "amount_due": invoice.amount_due}
    if invoice.amount_due == 0:
        target = I.PAID
        fields["paid_at"] = now
    elif invoice.status == I.OVERDUE and paid_delta > 0:
        target = I.OVERDUE
    elif invoice.amount_paid > 0:
        target = I.PARTIALLY_PAID
    else:
        target = I.ISSUED
    if target == invoice.status:
        invoice.save(update_fields=[*fields, "updated_at"])
        record_event(invoice, actor=actor, reason=reason, data={"paid_delta": str(paid_delta)})
        return invoice
    return move(invoice, target, actor=actor, reason=reason, data={"paid_delta": str(paid_delta)}, **fields)


def invoices_mark_overdue(*, now=None):
    """The daily job: ISSUED / PARTIALLY_PAID invoices past their due date (the clinic's day)
    -> OVERDUE, each under its own lock and re-checked there (a payment may have settled it), with
    an event row. Returns how many moved; a second run moves none."""
    now = now or timezone.now()
    today = now.astimezone(clinic_zone()).date()
    moved = 0
    ids = list(Invoice.objects.filter(status__in=[I.ISSUED, I.PARTIALLY_PAID], due_date__lt=today).values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            invoice = lock(Invoice, pk)
            if invoice.status in (I.ISSUED, I.PARTIALLY_PAID) and invoice.due_date < today:
                move(invoice, I.OVERDUE, actor=None, reason="Past its due date")
                moved += 1
    return moved
