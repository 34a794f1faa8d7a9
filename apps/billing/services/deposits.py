"""Deposits on procedure plans: set (and changed while unpaid) by billing staff, billed as an
invoice of one line that the patient pays in the portal like any bill, and, with
BILLING_DEPOSIT_REQUIRED on, a pre-op requirement of the plan's surgical case ("Deposit paid",
consents' pluggable checklist): billing adds the item (at the surgeon's approval through
consents' preop_requirements hook, or when a deposit is set on an approved plan) and marks it
done when the deposit invoice becomes PAID (a listener on the invoice's transitions, inside the
payment's transaction). Consents' case_start refuses the case while it is open
(409 preop_incomplete, missing ["deposit"]); staff cannot tick it by hand (preop_item_managed).

Locks, in the order every billing path takes them: the deposit row, then its invoice, then
(consents) the plan."""
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.services import record
from apps.billing.models import Deposit, Invoice, InvoiceLine, Payment
from apps.billing.money import MAX_AMOUNT, to_money
from apps.billing.services._common import user_actor
from apps.billing.services.invoices import _totals, invoice_issue, invoice_void
from apps.consents import services as consents
from apps.consents.models import PreOpItem, ProcedurePlan, SurgicalCase
from apps.core.exceptions import Conflict, ValidationFailed
from apps.core.transitions import lock, record_event

I = Invoice.Status
PLAN = ProcedurePlan.Status
REQUIREMENT_CODE = "deposit"
SOURCE = "billing"
# Plans a deposit may be set on or changed for: any before the surgery is done or the plan dropped.
OPEN_PLAN_STATUSES = (PLAN.DRAFT, PLAN.PENDING_APPROVAL, PLAN.APPROVED, PLAN.CONSENT_PENDING, PLAN.CONSENT_SIGNED,
                      PLAN.SCHEDULED)
# Plans whose checklist is open (approved, surgery not done): the deposit item goes on it now.
CHECKLIST_STATUSES = (PLAN.APPROVED, PLAN.CONSENT_PENDING, PLAN.CONSENT_SIGNED, PLAN.SCHEDULED)


def deposit_required():
    """The clinic's switch (BILLING_DEPOSIT_REQUIRED): a plan's deposit must be paid before its
    surgical case starts."""
    return bool(getattr(settings, "BILLING_DEPOSIT_REQUIRED", False))


def requirement_for(deposit):
    """The "Deposit paid" pre-op requirement of `deposit`, in the shape of consents'
    preop_requirements hook (done already when its invoice is paid)."""
    invoice = deposit.invoice
    paid = invoice.status == I.PAID
    return {"code": REQUIREMENT_CODE, "label": "Deposit paid", "required": True, "source": SOURCE, "order": 900,
            "instructions": f"A deposit of ${deposit.amount} (invoice {invoice.display_number}), paid in the portal "
                            "under Billing or at the front desk.",
            "done_at": invoice.paid_at if paid else None, "note": f"Paid: {invoice.display_number}" if paid else ""}


def preop_requirements(*, plan):
    """Consents' preop_requirements hook, at the surgeon's approval: the deposit requirement when
    the clinic requires deposits and the plan has one, else nothing."""
    if not deposit_required():
        return None
    deposit = Deposit.objects.filter(plan_id=plan.pk).select_related("invoice").first()
    return [requirement_for(deposit)] if deposit is not None else None


def _clean_amount(amount):
    try:
        amount = to_money(amount)
    except (TypeError, ValueError):
        raise ValidationFailed({"amount": ["Enter an amount, e.g. 500.00."]}) from None
    if amount <= 0:
        raise ValidationFailed({"amount": ["A deposit is more than zero."]})
    if amount > MAX_AMOUNT:
        raise ValidationFailed({"amount": [f"At most {MAX_AMOUNT}."]})
    return amount


def _deposit_invoice(plan, amount, *, actor, now):
    """An issued invoice of one line, the deposit (numbered from the one counter, the patient told)."""
    codes = ", ".join(f"{line.code} {line.description}" for line in plan.lines.all())
    invoice = Invoice.objects.create(patient_id=plan.patient_id, created_by=user_actor(actor))
    InvoiceLine.objects.create(invoice=invoice, kind=InvoiceLine.Kind.CHARGE, position=1, code="",
                               description=f"Deposit: procedure plan v{plan.version} ({codes})"[:200], quantity=1,
                               unit_price=amount, amount=amount)
    _totals(invoice)
    invoice.save(update_fields=["subtotal", "patient_responsibility", "amount_due", "updated_at"])
    record_event(invoice, actor=actor, reason="Deposit invoice drafted", data={"plan": str(plan.pk), "deposit": str(amount)})
    return invoice_issue(invoice=invoice, actor=actor, now=now)


@transaction.atomic
def deposit_set(*, plan, amount, actor, now=None):
    """Set the deposit of `plan` to `amount` (more than zero): a deposit invoice is issued to
    the patient. Changing an unpaid deposit voids its invoice and issues a new one; the same
    amount again changes nothing. Refused (409) once anything is paid on it
    (deposit_already_paid), when the plan is completed or cancelled (deposit_plan_closed) or
    its case has started (deposit_case_started). With BILLING_DEPOSIT_REQUIRED on and the plan
    approved, the "Deposit paid" pre-op item goes on its checklist now (before approval, the
    approval adds it). Returns the Deposit."""
    now = now or timezone.now()
    amount = _clean_amount(amount)
    deposit = Deposit.objects.select_for_update().filter(plan_id=plan.pk).first()
    if deposit is None:
        # The plan's row serialises two first deposits of one plan (the one-to-one is the
        # backstop); the second then reads the first's deposit and changes it.
        lock(ProcedurePlan, plan.pk)
        deposit = Deposit.objects.select_for_update().filter(plan_id=plan.pk).first()
    old = lock(Invoice, deposit.invoice_id) if deposit is not None else None
    plan = ProcedurePlan.objects.get(pk=plan.pk)
    if plan.status not in OPEN_PLAN_STATUSES:
        raise Conflict(f"This plan is {plan.get_status_display().lower()}: its deposit cannot change.",
                       code="deposit_plan_closed", extra={"plan_status": plan.status})
    started = (SurgicalCase.Status.IN_PROGRESS, SurgicalCase.Status.COMPLETED)
    if SurgicalCase.objects.filter(plan=plan, status__in=started).exists():
        raise Conflict("The surgery has started: the deposit cannot change.", code="deposit_case_started")
    if old is not None:
        if old.amount_paid > 0 or old.status == I.PAID or old.payments.filter(status=Payment.Status.PENDING).exists():
            raise Conflict("Money was paid on this deposit: refund it before changing the amount.",
                           code="deposit_already_paid", extra={"invoice": str(old.pk)})
        if deposit.amount == amount and old.status != I.VOID:
            return deposit
        if old.status != I.VOID:
            invoice_void(invoice=old, actor=actor, reason=f"Deposit changed to ${amount}", now=now)
    invoice = _deposit_invoice(plan, amount, actor=actor, now=now)
    if deposit is None:
        deposit = Deposit.objects.create(plan=plan, patient_id=plan.patient_id, amount=amount, invoice=invoice,
                                         created_by=user_actor(actor), created_at=now)
        record("create", deposit, patient_id=plan.patient_id)
    else:
        before = str(deposit.amount)
        deposit.amount, deposit.invoice = amount, invoice
        deposit.save(update_fields=["amount", "invoice", "updated_at"])
        record("update", deposit, patient_id=plan.patient_id, detail={"amount": {"before": before, "after": str(amount)}})
    if deposit_required() and plan.status in CHECKLIST_STATUSES:
        consents.preop_item_add(plan=plan, requirement=requirement_for(deposit), actor=actor)
    return deposit


def deposit_invoice_moved(change):
    """Core's transition listener on invoices (inside the moving transaction): a deposit invoice
    that became PAID meets its plan's "Deposit paid" pre-op item. Other invoices cost nothing
    beyond one indexed lookup, and only when they become PAID."""
    if change.kind != "transition" or change.after != I.PAID:
        return
    deposit = Deposit.objects.filter(invoice_id=change.obj.pk).select_related("plan").first()
    if deposit is None or deposit.plan.status not in CHECKLIST_STATUSES:
        return
    item = PreOpItem.objects.filter(plan_id=deposit.plan_id, code=REQUIREMENT_CODE, source=SOURCE, done_at__isnull=True).first()
    if item is not None:
        consents.preop_item_complete(item=item, actor=None, source=SOURCE, now=change.obj.paid_at,
                                     note=f"Paid: {change.obj.display_number}")


def check_refundable(invoice):
    """Called by payment_refund under the invoice's lock: a deposit's payment is not refunded
    once the deposit was credited on the case's invoice (deposit_applied), nor while it is the
    met pre-op requirement of a plan still heading for surgery (deposit_required_for_surgery:
    cancel the plan first)."""
    deposit = Deposit.objects.filter(invoice_id=invoice.pk).select_related("plan").first()
    if deposit is None:
        return
    if deposit.applied_to_id is not None:
        raise Conflict("This deposit was credited on the surgery's invoice: it is part of that bill now.",
                       code="deposit_applied", extra={"applied_to": str(deposit.applied_to_id)})
    if deposit.plan.status in OPEN_PLAN_STATUSES and PreOpItem.objects.filter(
            plan_id=deposit.plan_id, code=REQUIREMENT_CODE, source=SOURCE, done_at__isnull=False).exists():
        raise Conflict("This deposit meets the surgery's pre-op requirement: cancel the plan before refunding it.",
                       code="deposit_required_for_surgery")
