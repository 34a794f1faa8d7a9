"""The billing part of the hostile walk (tests/hardening/walk_table.py): for the world's patient
a fee schedule, an issued invoice with a desk payment on it, a charge to review, a primary and a
secondary coverage and an eligibility check, made on first use and kept on the world; and the table's rows for every billing route
(billing_routes(Route, P, ANY), called by walk_table with its own classes)."""
from apps.billing import services
from apps.billing.models import Charge
from tests.billing.factories import completed_visit, coverage, fee_schedule, issued_invoice
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
    b.coverage = coverage(world.patient)
    b.secondary = coverage(world.patient, member_id="SEC00001", priority="SECONDARY")
    b.check = services.eligibility_check(coverage=b.coverage, actor=staff)
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
        Route("payer-list", "api"),
        Route("coverage-list", "api", query=(P("patient", "uuid"),),
              body={"POST": (P("patient", "uuid"), P("payer", "text"), P("member_id", "text"), P("group_number", "text"),
                             P("relationship", "choice"), P("subscriber_first_name", "text"), P("subscriber_last_name", "text"),
                             P("subscriber_date_of_birth", "date"), P("priority", "choice"), P("effective_from", "date"),
                             P("effective_to", "date"))},
              base=lambda w: {"POST": {"patient": str(w.patient.pk), "payer": books(w).coverage.payer.payer_id,
                                       "member_id": "WALK123", "priority": "SECONDARY"}}),
        Route("coverage-detail", "api", path=_b(pk="coverage")),
        Route("eligibility-check-list", "api", query=(P("patient", "uuid"), P("coverage", "uuid")),
              body={"POST": (P("coverage", "uuid"), P("service_type", "text"), P("service_date", "date"), P("force", "bool"))},
              base=lambda w: {"POST": {"coverage": str(books(w).coverage.pk), "force": True}}),
        Route("eligibility-check-detail", "api", path=_b(pk="check")),
        Route("estimate", "api", get=False, body={"POST": (P("patient", "uuid"), P("visit_type", "uuid"), P("date", "date"))},
              base=lambda w: {"POST": {"patient": str(w.patient.pk), "visit_type": str(w.visit_type.pk), "date": "2026-12-10"}}),
        Route("portal_billing_insurance", "patient"),
        Route("staff_billing_coverage_add", "staff", path=_patient, get=False,
              body={"POST": (P("payer", "uuid"), P("member_id", "text"), P("group_number", "text"), P("priority", "choice"),
                             P("relationship", "choice"), P("subscriber_first_name", "text"), P("subscriber_last_name", "text"),
                             P("subscriber_date_of_birth", "date"), P("effective_from", "date"), P("effective_to", "date"))},
              base=lambda w: {"POST": {"payer": str(books(w).coverage.payer_id), "member_id": "WALK123", "priority": "SECONDARY",
                                       "relationship": "18", "effective_from": "2026-01-01"}}),
        Route("staff_billing_coverage_check", "staff", path=_b(coverage_id="coverage"), get=False, body={"POST": ()},
              base=lambda w: {"POST": {}}),
        Route("staff_billing_coverage_remove", "staff", path=_b(coverage_id="secondary"), get=False, body={"POST": ()},
              base=lambda w: {"POST": {}}),
        Route("staff_billing_plan_deposit", "staff", path=lambda w: {"plan_id": w.consents.draft_plan.pk}, get=False,
              body={"POST": (P("amount", "text"),)}, base=lambda w: {"POST": {"amount": "250.00"}}),
        Route("stripe_webhook", "anon", get=False, body={"POST": (P("id", "text", expect=ANY),)}, base=lambda w: {"POST": {}},
              note="unsigned: 400 bad_signature (signed deliveries: tests/billing/test_gateways.py)"),
    ]
