"""The patient portal's billing pages (/portal/billing/): balance, bills, a bill with its pay
form, payment history, receipts, insurance cards. Parse, call a selector or a service, render. An invoice or
payment that is not the patient's is the 404 page (core's access layer); every page that
shows billing data writes audit rows. The pay form carries an idempotency key made when it
was drawn: pressing pay twice (or reloading the POST) charges once and shows the first result."""
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.audit.services import record, record_many
from apps.billing import rules, selectors, services
from apps.billing.forms import PayForm
from apps.billing.gateways import active_gateway
from apps.billing.receipts import receipt_pdf
from apps.core import access, pages
from apps.core.exceptions import NotFound
from apps.patients.decorators import patient_required

T = "billing/portal/"


@patient_required
@require_GET
def billing_home(request):
    invoices = list(selectors.portal_invoices(request.patient))
    payments = list(selectors.portal_payments(request.patient)[:20])
    record_many("read", invoices, detail={"view": "portal_billing"})
    return render(request, T + "home.html", {
        "balance": selectors.balance_for(request.patient),
        "open_invoices": [i for i in invoices if i.status in i.OPEN],
        "past_invoices": [i for i in invoices if i.status not in i.OPEN],
        "payments": payments,
    })


def _invoice_page(request, invoice, form=None, *, status=200):
    if form is None and invoice.is_payable:
        form = PayForm(initial={"amount": invoice.amount_due, "idempotency_key": PayForm.new_key()})
    return render(request, T + "invoice.html", {
        "invoice": invoice, "lines": list(invoice.lines.all()), "payments": list(invoice.payments.all()), "form": form,
        "test_gateway": active_gateway().takes_card_number,
    }, status=status)


@patient_required
@require_GET
def invoice_detail(request, invoice_id):
    invoice = selectors.access_invoice(request.user, invoice_id)
    record("read", invoice)
    return _invoice_page(request, invoice)


@patient_required
@require_POST
def invoice_pay(request, invoice_id):
    invoice = selectors.access_invoice(request.user, invoice_id, rules.PAY)
    form = PayForm(request.POST)
    if not form.is_valid():
        return _invoice_page(request, invoice, form, status=400)

    def refused(exc):
        # A fresh key for the next attempt: this one keeps its answer.
        form.data = form.data.copy()
        form.data["idempotency_key"] = PayForm.new_key()
        return _invoice_page(request, selectors.access_invoice(request.user, invoice_id), form, status=exc.status_code)

    pages.on_error(request, refused, form=form)
    data = form.cleaned_data
    answer = services.payment_submit(owner=f"user:{request.user.pk}", key=data["idempotency_key"], invoice=invoice,
                                     amount=data["amount"], source=data["card_number"], actor=request.user,
                                     render=lambda payment: {"id": str(payment.pk)})
    if answer.status == 201 or (answer.payment is not None and answer.payment.status == "SUCCEEDED"):
        messages.success(request, f"Thank you: ${answer.payment.amount} paid." + (" (Already received.)" if answer.replayed else ""))
        return redirect("portal_billing_payment", payment_id=answer.payment.pk)
    form.add_error(None, answer.body.get("message") or "The payment did not go through.")
    form.data = form.data.copy()
    form.data["idempotency_key"] = PayForm.new_key()
    invoice = selectors.access_invoice(request.user, invoice_id)
    return _invoice_page(request, invoice, form, status=answer.status)


@patient_required
@require_GET
def insurance(request):
    """The patient's insurance cards and what their plan said at the last check."""
    cards = selectors.coverage_cards(request.patient)
    record_many("read", [c["coverage"] for c in cards], detail={"view": "portal_insurance"})
    record_many("read", [c["check"] for c in cards if c["check"]], detail={"view": "portal_insurance"})
    return render(request, T + "insurance.html", {"cards": cards})


@patient_required
@require_GET
def payment_detail(request, payment_id):
    payment = selectors.access_payment(request.user, payment_id)
    record("read", payment)
    return render(request, T + "payment.html", {"payment": payment, "refunds": list(payment.refunds.all())})


@patient_required
@require_GET
def payment_receipt(request, payment_id):
    payment = selectors.access_payment(request.user, payment_id)
    return receipt_response(payment)


def receipt_response(payment):
    if payment.status != "SUCCEEDED":
        raise NotFound()
    record("read", payment, detail={"view": "receipt_pdf"})
    response = HttpResponse(receipt_pdf(payment), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{payment.receipt_number}.pdf"'
    return response
