"""The billing API: who may call each endpoint (anonymous 401, patients 403, each staff role by
its permissions, keys by scope), the allowed answers with real content, payments with an
Idempotency-Key over HTTP, audit rows, errors in the one format."""
import pytest

from apps.audit.models import AccessLog
from apps.billing.gateways.test_gateway import DECLINE, SUCCESS
from apps.billing.models import Charge, Invoice, Payment
from tests.billing.factories import completed_visit, issued_invoice
from tests.conftest import api_keyed_client, api_session

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def world(patient, fees, biller):
    invoice = issued_invoice(patient, biller)
    completed_visit(patient, codes=("36415",))  # a charge to review
    charge = Charge.objects.get(patient=patient, status="PENDING_REVIEW")
    return {"invoice": invoice.pk, "charge": charge.pk, "patient": patient.pk}


# (name, method, url, who may: roles with the permission, the key scope)
ENDPOINTS = [
    ("fee_schedule", "get", "/fee-schedule/", {"billing", "admin"}, "billing:read"),
    ("charge_list", "get", "/charges/", {"billing", "admin"}, "billing:read"),
    ("charge_get", "get", "/charges/{charge}/", {"billing", "admin"}, "billing:read"),
    ("charge_approve", "post", "/charges/{charge}/approve/", {"billing", "admin"}, "billing:write"),
    ("invoice_list", "get", "/invoices/", {"billing", "admin"}, "billing:read"),
    ("invoice_get", "get", "/invoices/{invoice}/", {"billing", "admin"}, "billing:read"),
    ("invoice_void", "post", "/invoices/{invoice}/void/", {"billing", "admin"}, "billing:write"),
    ("payment_list", "get", "/payments/", {"billing", "admin"}, "billing:read"),
    ("balance", "get", "/patients/{patient}/balance/", {"billing", "admin", "front_desk"}, "billing:read"),
]
SUCCESS_STATUS = {"get": 200, "post": 200}
BODIES = {"invoice_void": {"reason": "Entered in error"}}


def _call(client, endpoint, world):
    name, method, url, _, _ = endpoint
    return getattr(client, method)(API + url.format(**world), BODIES.get(name, {}), format="json" if method == "post" else None)


@pytest.fixture
def staff(front_desk, nurse, provider_user, billing_user, clinic_admin):
    return {"front_desk": front_desk, "nurse": nurse, "provider": provider_user, "billing": billing_user, "admin": clinic_admin}


@pytest.mark.parametrize("role", ["front_desk", "nurse", "provider", "billing", "admin"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_each_staff_role_is_allowed_or_refused_by_its_permissions(endpoint, role, world, staff):
    before = (Invoice.objects.filter(status="VOID").count(), Charge.objects.filter(status="APPROVED").count())

    response = _call(api_session(staff[role]), endpoint, world)

    if role in endpoint[3]:
        assert response.status_code == SUCCESS_STATUS[endpoint[1]], response.content
    else:
        assert response.status_code == 403
        assert (Invoice.objects.filter(status="VOID").count(), Charge.objects.filter(status="APPROVED").count()) == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_keys_need_the_scope_and_patients_and_anonymous_are_refused(endpoint, world, api_key_factory, patient, client):
    from rest_framework.test import APIClient

    _, wrong = api_key_factory("patients:read")
    _, right = api_key_factory(endpoint[4])

    assert _call(api_keyed_client(wrong), endpoint, world).status_code == 403
    assert _call(api_keyed_client(right), endpoint, world).status_code == SUCCESS_STATUS[endpoint[1]]
    assert _call(api_session(patient.user), endpoint, world).status_code == 403
    assert _call(APIClient(), endpoint, world).status_code == 401


def test_an_invoice_reads_with_its_lines_and_is_audited(world, billing_user):
    response = api_session(billing_user).get(f"{API}/invoices/{world['invoice']}/")

    body = response.json()
    assert (body["status"], body["amount_due"], body["number"].startswith("INV-")) == ("ISSUED", "125.00", True)
    assert [(l["code"], l["amount"]) for l in body["lines"]] == [("99213", "125.00")]
    assert AccessLog.objects.filter(object_type="billing.invoice", object_id=str(world["invoice"]), action="read").exists()


def test_the_balance_is_what_open_invoices_still_owe(world, front_desk):
    response = api_session(front_desk).get(f"{API}/patients/{world['patient']}/balance/")

    assert response.json() == {"patient": str(world["patient"]), "balance": "125.00"}


def _pay(client, invoice, key, amount="125.00", card=SUCCESS):
    return client.post(f"{API}/payments/", {"invoice": str(invoice), "amount": amount, "source": card}, format="json",
                       HTTP_IDEMPOTENCY_KEY=key)


def test_a_payment_needs_an_idempotency_key(world, api_key_factory):
    _, raw = api_key_factory("billing:write")

    response = api_keyed_client(raw).post(f"{API}/payments/", {"invoice": str(world["invoice"]), "amount": "1.00",
                                                               "source": SUCCESS}, format="json")

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["extra"]["fields"]
    assert not Payment.objects.exists()


def test_a_payment_over_the_api_replays_its_first_answer(world, api_key_factory):
    _, raw = api_key_factory("billing:write")
    client = api_keyed_client(raw)

    first = _pay(client, world["invoice"], "pay-1")
    again = _pay(client, world["invoice"], "pay-1")
    other_body = _pay(client, world["invoice"], "pay-1", amount="10.00")

    assert (first.status_code, first.json()["status"], first.json()["amount"]) == (201, "SUCCEEDED", "125.00")
    assert (again.status_code, again.json(), again["Idempotent-Replayed"]) == (201, first.json(), "true")
    assert (other_body.status_code, other_body.json()["code"]) == (422, "idempotency_key_reused")
    assert Payment.objects.count() == 1
    assert Invoice.objects.get(pk=world["invoice"]).status == "PAID"


def test_a_declined_card_answers_402_in_the_error_format(world, api_key_factory):
    _, raw = api_key_factory("billing:write")

    response = _pay(api_keyed_client(raw), world["invoice"], "pay-2", card=DECLINE)

    assert response.status_code == 402
    assert response.json()["code"] == "card_declined"


def test_a_refund_over_the_api_and_a_refund_too_large_is_409(world, api_key_factory):
    _, raw = api_key_factory("billing:write")
    client = api_keyed_client(raw)
    payment = _pay(client, world["invoice"], "pay-3").json()

    too_much = client.post(f"{API}/payments/{payment['id']}/refund/", {"amount": "125.01", "reason": "x"}, format="json")
    partial = client.post(f"{API}/payments/{payment['id']}/refund/", {"amount": "25.00", "reason": "Goodwill"}, format="json")

    assert (too_much.status_code, too_much.json()["code"]) == (409, "refund_exceeds_paid")
    assert (partial.status_code, partial.json()["amount"]) == (201, "25.00")
    assert Invoice.objects.get(pk=world["invoice"]).amount_due == 25


def test_issue_and_void_answer_409_out_of_order(world, api_key_factory):
    _, raw = api_key_factory("billing:write")

    response = api_keyed_client(raw).post(f"{API}/invoices/{world['invoice']}/issue/", {}, format="json")

    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")


def test_drafting_and_issuing_over_the_api(world, api_key_factory, patient):
    _, raw = api_key_factory("billing:write")
    client = api_keyed_client(raw)
    client.post(f"{API}/charges/{world['charge']}/approve/", {}, format="json")

    draft = client.post(f"{API}/invoices/", {"patient": str(patient.pk), "insurance_portion": "2.33"}, format="json")
    issued = client.post(f"{API}/invoices/{draft.json()['id']}/issue/", {}, format="json")

    assert (draft.status_code, draft.json()["status"], draft.json()["amount_due"]) == (201, "DRAFT", "10.00")
    assert (issued.status_code, issued.json()["status"]) == (200, "ISSUED")


def test_the_invoice_list_costs_the_same_queries_for_3_and_13_invoices(world, billing_user, biller):
    from tests.factories import PortalPatientFactory
    from tests.scheduling.staff_pages import count_queries

    client = api_session(billing_user)

    def count():
        return count_queries(client, f"{API}/invoices/?page_size=50")

    count()  # warm: the first request loads the user's permissions and content types
    for _ in range(2):
        issued_invoice(PortalPatientFactory(), biller)
    few = count()
    for _ in range(10):
        issued_invoice(PortalPatientFactory(), biller)
    assert count() == few


def test_the_schema_documents_the_billing_endpoints(client):
    response = client.get("/api/schema/?format=json")

    paths = response.json()["paths"]
    assert {"/api/v1/invoices/", "/api/v1/payments/", "/api/v1/fee-schedule/", "/api/v1/charges/{id}/adjust/",
            "/api/v1/patients/{patient_id}/balance/", "/api/v1/payments/{id}/refund/"} <= set(paths)
