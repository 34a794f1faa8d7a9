"""Staff billing pages (/staff/billing/): charges to review (approve, adjust with a reason,
void), a patient's billing (draft an invoice from approved charges), an invoice (insurance,
issue, void, desk payment, refunds), the accounts-receivable aging report, and balances for
the front desk, and a patient's insurance cards with their eligibility (add, remove, re-check).
Views parse, call a selector or a service, and render; a refusal is drawn by
core's page-error path with its status code (each view says how before calling the service).
Every page that shows patient data writes audit rows."""
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.audit.services import record, record_many
from apps.billing import rules, selectors, services
from apps.billing.forms import AdjustForm, CoverageForm, DeskPaymentForm, InsuranceForm, ReasonForm, RefundForm
from apps.billing.forms import DepositForm
from apps.billing.services.deposits import deposit_required
from apps.billing.models import Charge, Invoice
from apps.billing.portal_views import receipt_response
from apps.core import access, pages
from apps.core.decorators import staff_required
from apps.core.lookups import get_or_not_found
from apps.consents.models import ProcedurePlan
from apps.patients.models import Patient

T = "billing/staff/"
PAGE = 50


def _back(request, back):
    """A refusal as its own page (message, code, a way back to `back`), at its status."""
    def answer(exc):
        return render(request, T + "refused.html", {"message": exc.message, "code": exc.code, "back": back},
                      status=exc.status_code)
    return answer


@staff_required("billing.view_charge")
@require_GET
def home(request):
    charges = list(selectors.charges_to_review()[:PAGE])
    open_invoices = list(selectors.invoices().filter(status__in=Invoice.OPEN).order_by("due_date")[:PAGE])
    drafts = list(selectors.invoices().filter(status=Invoice.Status.DRAFT).order_by("-created_at")[:PAGE])
    record_many("read", [*charges, *open_invoices, *drafts], detail={"view": "staff_billing_home"})
    return render(request, T + "home.html", {"charges": charges, "open_invoices": open_invoices, "drafts": drafts})


def _charge_page(request, charge, *, status=200, **forms):
    context = {"charge": charge, "events": list(charge.events.all()), "void_form": ReasonForm(),
               "adjust_form": AdjustForm(initial={"quantity": charge.quantity, "unit_price": charge.unit_price,
                                                  "modifiers": ", ".join(charge.modifiers)})}
    context.update(forms)
    return render(request, T + "charge.html", context, status=status)


@staff_required("billing.view_charge")
@require_GET
def charge_detail(request, charge_id):
    charge = selectors.access_charge(request.user, charge_id)
    record("read", charge)
    return _charge_page(request, charge)


@staff_required("billing.review_charge")
@require_POST
def charge_action(request, charge_id, verb):
    charge = selectors.access_charge(request.user, charge_id, access.CHANGE)
    back = f"/staff/billing/charges/{charge.pk}/"
    pages.on_error(request, _back(request, back))
    if verb == "approve":
        services.charge_approve(charge=charge, actor=request.user)
        messages.success(request, "Charge approved.")
    elif verb == "adjust":
        form = AdjustForm(request.POST)
        if not form.is_valid():
            return _charge_page(request, charge, status=400, adjust_form=form)
        data = form.cleaned_data
        services.charge_adjust(charge=charge, actor=request.user, reason=data["reason"], unit_price=data["unit_price"],
                               quantity=data["quantity"], modifiers=data["modifiers"])
        messages.success(request, "Charge adjusted.")
    elif verb == "void":
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return _charge_page(request, charge, status=400, void_form=form)
        services.charge_void(charge=charge, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, "Charge voided.")
    else:
        return render(request, "404.html", status=404)
    return redirect(back)


@staff_required("billing.view_invoice")
@require_GET
def patient_billing(request, patient_id):
    return _patient_page(request, get_or_not_found(Patient.objects.all(), pk=patient_id))


def _patient_page(request, patient, *, form=None, coverage_form=None, status=200, deposit_form=None, deposit_plan=None):
    charges = list(Charge.objects.filter(patient=patient).exclude(status=Charge.Status.VOID).order_by("-service_date")[:PAGE])
    invoices = list(Invoice.objects.filter(patient=patient).order_by("-created_at")[:PAGE])
    record("read", patient, detail={"view": "staff_patient_billing"})
    return render(request, T + "patient.html", {
        "patient": patient, "charges": charges, "invoices": invoices, "balance": selectors.balance_for(patient),
        "approved": [c for c in charges if c.status == Charge.Status.APPROVED],
        "form": form or InsuranceForm(initial={"insurance_portion": "0.00"}),
        **_coverage_context(request, patient, coverage_form),
        **_deposit_context(request, patient, deposit_form, deposit_plan),
    }, status=status)


def _deposit_context(request, patient, deposit_form=None, deposit_plan=None):
    """The patient's plans with their deposits (audited), and the form for staff who may set one."""
    plans = selectors.plan_deposits(patient)
    record_many("read", [plan.billing_deposit for plan in plans if plan.billing_deposit], detail={"view": "staff_deposits"})
    return {"plans": plans, "can_set_deposit": request.user.has_perm("billing.add_deposit"),
            "deposit_required": deposit_required(), "deposit_plan": deposit_plan,
            "deposit_form": deposit_form or DepositForm(), "blank_deposit_form": DepositForm()}


@staff_required("billing.add_deposit")
@require_POST
def plan_deposit(request, plan_id):
    """Set or change (while unpaid) a procedure plan's deposit: a deposit invoice is issued."""
    plan = get_or_not_found(ProcedurePlan.objects.select_related("patient"), pk=plan_id)
    back = f"/staff/billing/patients/{plan.patient_id}/"
    form = DepositForm(request.POST)
    if not form.is_valid():
        return _patient_page(request, plan.patient, deposit_form=form, deposit_plan=plan, status=400)
    pages.on_error(request, _back(request, back))
    deposit = services.deposit_set(plan=plan, amount=form.cleaned_data["amount"], actor=request.user)
    messages.success(request, f"Deposit of ${deposit.amount} billed on {deposit.invoice.display_number}.")
    return redirect(back)


def _coverage_context(request, patient, coverage_form=None):
    """The insurance cards with their latest eligibility (audited), and the add-card form for
    staff who may add one."""
    cards = selectors.coverage_cards(patient)
    record_many("read", [c["coverage"] for c in cards], detail={"view": "staff_coverages"})
    record_many("read", [c["check"] for c in cards if c["check"]], detail={"view": "staff_coverages"})
    can_add = request.user.has_perm("billing.add_coverage")
    return {"cards": cards, "can_check": request.user.has_perm("billing.add_eligibilitycheck"),
            "coverage_form": coverage_form or (CoverageForm(initial={"effective_from": selectors.today()}) if can_add else None)}


def patient_section(*, request, patient):
    """The insurance section of the staff patient page (patients' staff_patient_sections hook):
    for staff who may see coverages, else nothing."""
    if not request.user.has_perm("billing.view_coverage"):
        return None
    return {"template": T + "_coverage_section.html", "context": {"patient": patient, **_coverage_context(request, patient),
                                                            "coverage_form": None, "next": f"/staff/patients/{patient.pk}/"}}


@staff_required("billing.add_coverage")
@require_POST
def coverage_add(request, patient_id):
    patient = get_or_not_found(Patient.objects.all(), pk=patient_id)
    form = CoverageForm(request.POST)
    if not form.is_valid():
        return _patient_page(request, patient, coverage_form=form, status=400)
    pages.on_error(request, lambda exc: _patient_page(request, patient, coverage_form=form, status=exc.status_code), form=form)
    services.coverage_add(patient=patient, actor=request.user, **form.cleaned_data)
    messages.success(request, "Insurance card added.")
    return redirect("staff_billing_patient", patient_id=patient.pk)


@staff_required("billing.change_coverage")
@require_POST
def coverage_remove(request, coverage_id):
    coverage = selectors.access_coverage(request.user, coverage_id, access.CHANGE)
    services.coverage_remove(coverage=coverage, actor=request.user)
    messages.success(request, "Insurance card removed.")
    return redirect("staff_billing_patient", patient_id=coverage.patient_id)


@staff_required("billing.add_eligibilitycheck")
@require_POST
def coverage_check(request, coverage_id):
    """The re-check button: a fresh 270/271 now, whatever the cache holds."""
    coverage = selectors.access_coverage(request.user, coverage_id, rules.CHECK)
    back = f"/staff/billing/patients/{coverage.patient_id}/"
    pages.on_error(request, _back(request, back))
    check = services.eligibility_check(coverage=coverage, actor=request.user, force=True)
    if check.status == check.Status.FAILED:
        messages.error(request, check.message)
    elif check.outcome == check.Outcome.ACTIVE:
        messages.success(request, "Eligibility checked: coverage is active.")
    else:
        messages.warning(request, f"Eligibility checked: {check.get_outcome_display().lower()}. {check.message}".strip())
    return redirect(request.POST.get("next") if request.POST.get("next") == f"/staff/patients/{coverage.patient_id}/" else back)


@staff_required("billing.add_invoice")
@require_POST
def patient_invoice_create(request, patient_id):
    patient = get_or_not_found(Patient.objects.all(), pk=patient_id)
    back = f"/staff/billing/patients/{patient.pk}/"
    form = InsuranceForm(request.POST)
    if not form.is_valid():
        return _patient_page(request, patient, form=form, status=400)
    pages.on_error(request, _back(request, back))
    invoice = services.invoice_create(patient=patient, actor=request.user, insurance_portion=form.cleaned_data["insurance_portion"])
    messages.success(request, "Invoice drafted.")
    return redirect("staff_billing_invoice", invoice_id=invoice.pk)


def _invoice_page(request, invoice, *, status=200, **forms):
    context = {"invoice": invoice, "lines": list(invoice.lines.all()), "payments": list(invoice.payments.all()),
               "events": list(invoice.events.all()), "desk_form": DeskPaymentForm(initial={"amount": invoice.amount_due}),
               "void_form": ReasonForm(), "refund_form": RefundForm(), "insurance_form": InsuranceForm(
                   initial={"insurance_portion": invoice.insurance_portion})}
    context.update(forms)
    return render(request, T + "invoice.html", context, status=status)


@staff_required("billing.view_invoice")
@require_GET
def invoice_detail(request, invoice_id):
    invoice = selectors.access_invoice(request.user, invoice_id)
    record("read", invoice)
    return _invoice_page(request, invoice)


@staff_required("billing.view_invoice")
@require_POST
def invoice_action(request, invoice_id, verb):
    actions = {"issue": "issue", "void": "issue", "insurance": access.CHANGE, "pay": "pay"}
    if verb not in actions:
        return render(request, "404.html", status=404)
    invoice = selectors.access_invoice(request.user, invoice_id, actions[verb])
    back = f"/staff/billing/invoices/{invoice.pk}/"
    pages.on_error(request, _back(request, back))
    if verb == "issue":
        services.invoice_issue(invoice=invoice, actor=request.user)
        messages.success(request, "Invoice issued.")
    elif verb == "void":
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return _invoice_page(request, invoice, status=400, void_form=form)
        services.invoice_void(invoice=invoice, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, "Invoice voided; its charges can go on a corrected invoice.")
    elif verb == "insurance":
        form = InsuranceForm(request.POST)
        if not form.is_valid():
            return _invoice_page(request, invoice, status=400, insurance_form=form)
        services.invoice_set_insurance(invoice=invoice, actor=request.user, insurance_portion=form.cleaned_data["insurance_portion"])
        messages.success(request, "Insurance portion saved.")
    else:
        form = DeskPaymentForm(request.POST)
        if not form.is_valid():
            return _invoice_page(request, invoice, status=400, desk_form=form)
        data = form.cleaned_data
        services.payment_record_desk(invoice=invoice, amount=data["amount"], method=data["method"], reference=data["reference"],
                                     actor=request.user)
        messages.success(request, "Payment recorded.")
    return redirect(back)


@staff_required("billing.refund_payment")
@require_POST
def payment_refund(request, payment_id):
    payment = selectors.access_payment(request.user, payment_id, rules.REFUND)
    back = f"/staff/billing/invoices/{payment.invoice_id}/"
    form = RefundForm(request.POST)
    if not form.is_valid():
        invoice = selectors.access_invoice(request.user, payment.invoice_id)
        return _invoice_page(request, invoice, status=400, refund_form=form)
    pages.on_error(request, _back(request, back))
    services.payment_refund(payment=payment, amount=form.cleaned_data["amount"], reason=form.cleaned_data["reason"],
                            actor=request.user)
    messages.success(request, "Refund made.")
    return redirect(back)


@staff_required("billing.view_payment")
@require_GET
def payment_receipt(request, payment_id):
    return receipt_response(selectors.access_payment(request.user, payment_id))


@staff_required("billing.view_invoice")
@require_GET
def ar_report(request):
    """The aging report: totals per bucket and per patient, in a fixed number of queries."""
    report = selectors.ar_aging()
    rows = selectors.ar_aging_by_patient()
    record_many("read", rows, model=Patient, detail={"view": "staff_ar_report"})
    return render(request, T + "ar.html", {"report": report, "rows": rows})


@staff_required("billing.view_balance")
@require_GET
def balance(request, patient_id):
    """A patient's balance for the front desk (no invoice detail)."""
    patient = get_or_not_found(Patient.objects.all(), pk=patient_id)
    amount = selectors.access_balance(request.user, patient)
    record("read", patient, detail={"view": "staff_balance"})
    return render(request, T + "balance.html", {"patient": patient, "balance": amount})
