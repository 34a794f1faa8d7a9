"""Reads of the billing app. access_* go through core's access layer (404 for not-yours)."""
import datetime

from django.db.models import Case, DecimalField, Prefetch, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.billing import benefits, rules
from apps.billing.models import Charge, Coverage, EligibilityCheck, Invoice, InvoiceLine, Payment, ServiceCode
from apps.billing.money import ZERO, cents
from apps.core import access
from apps.core.timezones import clinic_zone

I = Invoice.Status
AGING_BUCKETS = ("0-30", "31-60", "61-90", "90+")
_BUCKET_KEYS = ("b0", "b1", "b2", "b3")


def invoices():
    return Invoice.objects.select_related("patient")


def invoice_detail_queryset():
    return invoices().prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")),
        Prefetch("payments", queryset=Payment.objects.order_by("-created_at")),
    )


def access_invoice(actor, invoice_id, action=access.VIEW):
    return access.get(actor, invoice_detail_queryset(), invoice_id, action)


def access_payment(actor, payment_id, action=access.VIEW):
    return access.get(actor, Payment.objects.select_related("invoice", "patient"), payment_id, action)


def access_charge(actor, charge_id, action=access.VIEW):
    return access.get(actor, Charge.objects.select_related("patient", "service_code"), charge_id, action)


def fee_schedule(*, on_date=None):
    on_date = on_date or timezone.now().astimezone(clinic_zone()).date()
    return (ServiceCode.objects.filter(is_active=True, effective_from__lte=on_date)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on_date)).order_by("code"))


def charges_to_review():
    return Charge.objects.filter(status=Charge.Status.PENDING_REVIEW).select_related("patient").order_by("service_date", "created_at")


def balance_for(patient):
    """What the patient owes on their open invoices (issued, partly paid, overdue)."""
    total = Invoice.objects.filter(patient=patient, status__in=Invoice.OPEN).aggregate(total=Sum("amount_due"))["total"]
    # Sums come back unscaled on SQLite (125, not 125.00): cents() shows them alike.
    return cents(total or ZERO)


def access_balance(actor, patient):
    """The balance of `patient` for an actor allowed to see balances (front desk, billing,
    the patient themself); PermissionDenied / NotFound otherwise."""
    access.scope(actor, Invoice.objects.filter(patient=patient), rules.BALANCE)
    return balance_for(patient)


def _aging_sums(today):
    """Sum expressions of what is due per age bucket (days since issue) and in total."""
    d30, d60, d90 = (today - datetime.timedelta(days=n) for n in (30, 60, 90))
    money = DecimalField(max_digits=12, decimal_places=2)

    def bucket(condition):
        return Coalesce(Sum(Case(When(condition, then="amount_due"), default=Value(ZERO), output_field=money)), Value(ZERO),
                        output_field=money)

    return {
        "b0": bucket(Q(issued_at__date__gte=d30)),
        "b1": bucket(Q(issued_at__date__lt=d30, issued_at__date__gte=d60)),
        "b2": bucket(Q(issued_at__date__lt=d60, issued_at__date__gte=d90)),
        "b3": bucket(Q(issued_at__date__lt=d90)),
        "total": Coalesce(Sum("amount_due"), Value(ZERO), output_field=money),
    }


def _receivable():
    return Invoice.objects.filter(status__in=Invoice.OPEN, amount_due__gt=0)


def today():
    """Today in the clinic's zone."""
    return timezone.now().astimezone(clinic_zone()).date()


_today = today


def ar_aging(*, today=None):
    """Accounts receivable by age (days since issue): what is still due on open invoices in the
    buckets 0-30, 31-60, 61-90 and 90+ days, and the total. One query, whatever the number of
    invoices."""
    row = _receivable().aggregate(**_aging_sums(today or _today()))
    return {"buckets": dict(zip(AGING_BUCKETS, (cents(row[k]) for k in _BUCKET_KEYS))), "total": cents(row["total"])}


def ar_aging_by_patient(*, today=None, limit=200):
    """The same buckets per patient (largest balance first), one query: rows of id (the
    patient's), mrn, names, b0..b3 and total."""
    rows = (_receivable().values("patient_id", "patient__mrn", "patient__first_name", "patient__last_name")
            .annotate(**_aging_sums(today or _today())).order_by("-total")[:limit])
    return [{**row, "id": row["patient_id"], **{k: cents(row[k]) for k in (*_BUCKET_KEYS, "total")}} for row in rows]


def portal_invoices(patient):
    return Invoice.objects.filter(patient=patient).exclude(status=I.DRAFT).order_by("-issued_at")


def portal_payments(patient):
    return Payment.objects.filter(patient=patient).select_related("invoice").order_by("-created_at")


def access_coverage(actor, coverage_id, action=access.VIEW):
    return access.get(actor, Coverage.objects.select_related("payer", "patient"), coverage_id, action)


def coverage_cards(patient):
    """The patient's active coverages, primary first, each with its latest eligibility check and
    that check's summary (copay, deductible, coinsurance...): two queries, whatever the count."""
    cards = list(Coverage.objects.filter(patient=patient, is_active=True).select_related("payer").order_by("priority"))
    latest = {}
    for check in EligibilityCheck.objects.filter(coverage__in=cards).order_by("coverage_id", "-requested_at"):
        latest.setdefault(check.coverage_id, check)
    return [{"coverage": card, "check": latest.get(card.pk),
             "summary": benefits.summary(latest[card.pk].result) if card.pk in latest else None} for card in cards]


def plan_deposits(patient, *, limit=50):
    """The patient's procedure plans that are not cancelled (newest first), each with
    `billing_deposit` (its Deposit with the deposit invoice, or None) and `deposit_open`
    (staff may still set or change it): one query, whatever the count."""
    from apps.billing.services.deposits import OPEN_PLAN_STATUSES
    from apps.consents.models import ProcedurePlan

    plans = list(ProcedurePlan.objects.filter(patient=patient).exclude(status=ProcedurePlan.Status.CANCELLED)
                 .select_related("deposit__invoice").order_by("-created_at")[:limit])
    for plan in plans:
        plan.billing_deposit = getattr(plan, "deposit", None)
        unpaid = plan.billing_deposit is None or plan.billing_deposit.invoice.amount_paid == 0
        plan.deposit_open = plan.status in OPEN_PLAN_STATUSES and unpaid
    return plans
