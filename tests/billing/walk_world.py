"""The billing part of the hostile walk (tests/hardening/walk_table.py): for the world's patient
a fee schedule, an issued invoice with a desk payment on it and a charge to review, made on first
use and kept on the world; and the table's rows for every billing route
(billing_routes(Route, P, ANY), called by walk_table with its own classes)."""
from apps.billing import services
from apps.billing.models import Charge
from tests.billing.factories import completed_visit, fee_schedule, issued_invoice
from tests.consents.factories import verified


class _Books:
    pass


def books(world):
    found = getattr(world, "_billing_books", None)
    if found is not None:
        return found
    b = _Books()
    fee_schedule()
    staff = verified(world.staff)
    b.invoice = issued_invoice(world.patient, staff, codes=("99214",))
    b.payment = services.payment_record_desk(invoice=b.invoice, amount="10.00", method="CASH", actor=staff)
    completed_visit(world.patient, codes=("36415",))
    b.charge = Charge.objects.get(patient=world.patient, status="PENDING_REVIEW")
    world._billing_books = b
    return b


def _b(**names):
    return lambda w: {kwarg: getattr(books(w), attr).pk for kwarg, attr in names.items()}


def _patient(w):
    books(w)
    return {"patient_id": w.patient.pk}


def billing_routes(Route, P, ANY):
    reason = (P("reason", "text"),)
    return [
        Route("fee-schedule-list", "api"),
        Route("fee-schedule-detail", "api", path=lambda w: {"pk": books(w).charge.service_code_id}),
        Route("charge-list", "api", query=(P("status", "choice"), P("patient", "uuid"))),
        Route("charge-detail", "api", path=_b(pk="charge")),
        Route("charge-approve", "api", path=_b(pk="charge"), get=False, body={"POST": ()}, base=lambda w: {"POST": {}}),
        Route("charge-adjust", "api", path=_b(pk="charge"), get=False,
              body={"POST": (*reason, P("unit_price", "text"), P("quantity", "int"), P("modifiers", "text", many=True))},
              base=lambda w: {"POST": {"reason": "Checked"}}),
        Route("charge-void", "api", path=_b(pk="charge"), get=False, body={"POST": reason}, base=lambda w: {"POST": {"reason": "x"}}),
        Route("invoice-list", "api", query=(P("status", "choice"), P("patient", "uuid")),
              body={"POST": (P("patient", "uuid"), P("insurance_portion", "text"), P("charges", "uuid", many=True))},
              base=lambda w: {"POST": {"patient": str(w.patient.pk)}}),
        Route("invoice-detail", "api", path=_b(pk="invoice")),
        Route("invoice-issue", "api", path=_b(pk="invoice"), get=False, body={"POST": (P("due_date", "date"),)},
              base=lambda w: {"POST": {}}),
        Route("invoice-void", "api", path=_b(pk="invoice"), get=False, body={"POST": reason}, base=lambda w: {"POST": {"reason": "x"}}),
        Route("payment-list", "api", query=(P("invoice", "uuid"), P("patient", "uuid")),
              body={"POST": (P("invoice", "uuid"), P("amount", "text"), P("source", "text"))},
              base=lambda w: {"POST": {"invoice": str(books(w).invoice.pk), "amount": "1.00", "source": "4242424242424242"}}),
        Route("payment-detail", "api", path=_b(pk="payment")),
        Route("payment-refund", "api", path=_b(pk="payment"), get=False, body={"POST": (*reason, P("amount", "text"))},
              base=lambda w: {"POST": {"reason": "x"}}),
        Route("patient-balance", "api", path=_patient),
        Route("portal_billing", "patient"),
        Route("portal_billing_invoice", "patient", path=_b(invoice_id="invoice")),
        Route("portal_billing_pay", "patient", path=_b(invoice_id="invoice"), get=False,
              body={"POST": (P("amount", "text"), P("card_number", "text"), P("idempotency_key", "text"))},
              base=lambda w: {"POST": {"amount": "1.00", "card_number": "4242424242424242", "idempotency_key": "walk-key"}}),
        Route("portal_billing_payment", "patient", path=_b(payment_id="payment")),
        Route("portal_billing_receipt", "patient", path=_b(payment_id="payment")),
        Route("staff_billing", "staff"),
        Route("staff_billing_ar", "staff"),
        Route("staff_billing_charge", "staff", path=_b(charge_id="charge")),
        Route("staff_billing_charge_action", "staff", path=lambda w: {"charge_id": books(w).charge.pk, "verb": "adjust"}, get=False,
              body={"POST": (*reason, P("unit_price", "text"), P("quantity", "int"), P("modifiers", "text"))},
              base=lambda w: {"POST": {"reason": "Checked"}}),
        Route("staff_billing_patient", "staff", path=lambda w: {"patient_id": books(w) and w.patient.pk}),
        Route("staff_billing_invoice_create", "staff", path=lambda w: {"patient_id": books(w) and w.patient.pk}, get=False,
              body={"POST": (P("insurance_portion", "text"),)}, base=lambda w: {"POST": {"insurance_portion": "0"}}),
        Route("staff_billing_balance", "staff", path=lambda w: {"patient_id": books(w) and w.patient.pk}),
        Route("staff_billing_invoice", "staff", path=_b(invoice_id="invoice")),
        Route("staff_billing_invoice_action", "staff", path=lambda w: {"invoice_id": books(w).invoice.pk, "verb": "pay"}, get=False,
              body={"POST": (P("amount", "text"), P("method", "choice"), P("reference", "text"))},
              base=lambda w: {"POST": {"amount": "1.00", "method": "CASH"}}),
        Route("staff_billing_refund", "staff", path=_b(payment_id="payment"), get=False,
              body={"POST": (*reason, P("amount", "text"))}, base=lambda w: {"POST": {"reason": "x"}}),
        Route("staff_billing_receipt", "staff", path=_b(payment_id="payment")),
        Route("stripe_webhook", "anon", get=False, body={"POST": (P("id", "text", expect=ANY),)}, base=lambda w: {"POST": {}},
              note="unsigned: 400 bad_signature (signed deliveries: tests/billing/test_gateways.py)"),
    ]
