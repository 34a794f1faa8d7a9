"""The billing API (/api/v1/): the fee schedule (read), charges (list, retrieve, approve,
adjust, void), invoices (list, retrieve, draft from charges, issue, void), payments (create
with an Idempotency-Key, list, retrieve, refund), a patient's balance, payers, coverages
(insurance cards: list, retrieve, add, change, remove), eligibility checks (create: an X12 270
through the clearinghouse, 24-hour cache unless `force`; list, retrieve) and estimates.

Thin: parse with apps/billing/serializers.py, call a selector or a service, render. Access:
integrators need billing:read / billing:write on their key; staff a verified second factor and
the model permission of each action (apps/billing/roles.py: billing staff; the front desk
reads balances only); patients use the portal (403 here). Every object named by id is read
through core's access layer (404 for not-yours); every read of patient data is audited."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.services import record, record_many
from apps.billing import rules, selectors, services
from apps.billing.models import Charge, Coverage, EligibilityCheck, Invoice, Payer, Payment, PaymentRequest, ServiceCode
from apps.billing.serializers import (
    CoverageCreateInput, CoverageFilterInput, CoverageInput, CoverageOutput, EligibilityCheckInput, EligibilityCheckOutput,
    EligibilityFilterInput, EstimateInput, EstimateOutput, PayerOutput,
    BalanceOutput, ChargeAdjustInput, ChargeFilterInput, ChargeOutput, InvoiceCreateInput, InvoiceDetailOutput,
    InvoiceFilterInput, InvoiceIssueInput, InvoiceOutput, PaymentCreateInput, PaymentFilterInput, PaymentOutput,
    ChargeReasonInput, RefundInput, RefundOutput, ServiceCodeOutput,
)
from apps.core import access
from apps.core.api.permissions import ClinicAccess
from apps.core.lookups import get_or_not_found
from apps.patients.models import Patient

READ, WRITE = rules.READ, rules.WRITE
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_ERRORS = {
    400: OpenApiResponse(description="Bad input: {code, message, extra: {fields}}"),
    404: OpenApiResponse(description="No such object"),
    409: OpenApiResponse(description="Conflict: a stable `code` (invalid_transition, amount_exceeds_due, "
                                     "refund_exceeds_paid, invoice_has_payments, nothing_to_invoice, payment_in_progress...)"),
}


def _actor(request):
    return request.auth if access.is_api_key(request.auth) else request.user


def _owner(request):
    """Whose Idempotency-Keys these are: the API key, or the signed-in user."""
    return f"api_key:{request.auth.pk}" if access.is_api_key(request.auth) else f"user:{request.user.pk}"


def _parse(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _BillingViewSet(viewsets.GenericViewSet):
    permission_classes = [ClinicAccess]
    lookup_value_converter = "uuid"
    filter_backends = []
    action_kinds = {}
    access_actions = {}

    def access_action(self):
        if self.action in self.access_actions:
            return self.access_actions[self.action]
        return access.VIEW if self.request.method in SAFE_METHODS else access.CHANGE

    def visible(self, queryset):
        return access.scope(self.request.user, queryset, access.VIEW)

    def page(self, queryset, output, view):
        page = self.paginate_queryset(queryset)
        record_many("read", page, detail={"view": view})
        return self.get_paginated_response(output(page, many=True).data)


class ServiceCodeViewSet(_BillingViewSet):
    """The fee schedule in effect today (no patient data)."""

    scopes = {"read": READ}
    perms = {"read": "billing.view_servicecode"}
    serializer_class = ServiceCodeOutput
    queryset = ServiceCode.objects.none()

    @extend_schema(summary="The fee schedule in effect today", parameters=[OpenApiParameter("page_size", int)],
                   responses={200: ServiceCodeOutput(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.visible(selectors.fee_schedule()))
        return self.get_paginated_response(ServiceCodeOutput(page, many=True).data)

    @extend_schema(summary="A fee-schedule row", responses={200: ServiceCodeOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        return Response(ServiceCodeOutput(access.get(request.user, ServiceCode, pk)).data)


class ChargeViewSet(_BillingViewSet):
    """Charges made by completed visits and surgical cases, reviewed before invoicing."""

    scopes = {"read": READ, "write": WRITE}
    perms = {"read": "billing.view_charge", "write": "billing.review_charge"}
    serializer_class = ChargeOutput
    queryset = Charge.objects.none()

    def _get(self, pk):
        return selectors.access_charge(self.request.user, pk, self.access_action())

    @extend_schema(summary="Charges, oldest service first", parameters=[ChargeFilterInput, OpenApiParameter("page_size", int)],
                   responses={200: ChargeOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(ChargeFilterInput, request.query_params)
        qs = self.visible(Charge.objects.order_by("service_date", "created_at", "line"))
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        if params.get("patient"):
            qs = qs.filter(patient_id=params["patient"])
        return self.page(qs, ChargeOutput, "api_charge_list")

    @extend_schema(summary="A charge", responses={200: ChargeOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        charge = self._get(pk)
        record("read", charge)
        return Response(ChargeOutput(charge).data)

    @extend_schema(summary="Approve a charge for invoicing (PENDING_REVIEW -> APPROVED)", request=None,
                   responses={200: ChargeOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response(ChargeOutput(services.charge_approve(charge=self._get(pk), actor=_actor(request))).data)

    @extend_schema(summary="Adjust price, quantity or modifiers before invoicing (the reason is kept)",
                   request=ChargeAdjustInput, responses={200: ChargeOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def adjust(self, request, pk=None):
        data = _parse(ChargeAdjustInput, request.data)
        charge = services.charge_adjust(charge=self._get(pk), actor=_actor(request), reason=data["reason"],
                                        unit_price=data.get("unit_price"), quantity=data.get("quantity"),
                                        modifiers=data.get("modifiers"))
        return Response(ChargeOutput(charge).data)

    @extend_schema(summary="Void a charge billed in error", request=ChargeReasonInput, responses={200: ChargeOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        data = _parse(ChargeReasonInput, request.data)
        return Response(ChargeOutput(services.charge_void(charge=self._get(pk), actor=_actor(request), reason=data["reason"])).data)


class InvoiceViewSet(_BillingViewSet):
    """Invoices: drafted from approved charges, issued (numbered), voided."""

    scopes = {"read": READ, "write": WRITE, "issue": WRITE, "create": WRITE}
    perms = {"read": "billing.view_invoice", "write": "billing.change_invoice", "issue": "billing.issue_invoice",
             "create": "billing.add_invoice"}
    action_kinds = {"issue": "issue", "void": "issue", "create": "create"}
    access_actions = {"issue": rules.ISSUE, "void": rules.ISSUE}
    serializer_class = InvoiceOutput
    queryset = Invoice.objects.none()

    def _get(self, pk):
        return selectors.access_invoice(self.request.user, pk, self.access_action())

    def _answer(self, invoice, code=status.HTTP_200_OK):
        return Response(InvoiceDetailOutput(selectors.invoice_detail_queryset().get(pk=invoice.pk)).data, status=code)

    @extend_schema(summary="Invoices, newest first", parameters=[InvoiceFilterInput, OpenApiParameter("page_size", int)],
                   responses={200: InvoiceOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(InvoiceFilterInput, request.query_params)
        qs = self.visible(Invoice.objects.order_by("-created_at"))
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        if params.get("patient"):
            qs = qs.filter(patient_id=params["patient"])
        return self.page(qs, InvoiceOutput, "api_invoice_list")

    @extend_schema(summary="An invoice with its lines", responses={200: InvoiceDetailOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        invoice = self._get(pk)
        record("read", invoice)
        return Response(InvoiceDetailOutput(invoice).data)

    @extend_schema(summary="Draft an invoice from a patient's APPROVED charges", request=InvoiceCreateInput,
                   responses={201: InvoiceDetailOutput, **_ERRORS})
    def create(self, request):
        data = _parse(InvoiceCreateInput, request.data)
        invoice = services.invoice_create(patient=data["patient"], actor=_actor(request), charges=data.get("charges"),
                                          insurance_portion=data["insurance_portion"])
        return self._answer(invoice, status.HTTP_201_CREATED)

    @extend_schema(summary="Issue a DRAFT: it gets the next number and a due date; its lines never change again",
                   request=InvoiceIssueInput, responses={200: InvoiceDetailOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        data = _parse(InvoiceIssueInput, request.data)
        return self._answer(services.invoice_issue(invoice=self._get(pk), actor=_actor(request), due_date=data.get("due_date")))

    @extend_schema(summary="Void an invoice holding no money (refund first); its charges are released",
                   request=ChargeReasonInput, responses={200: InvoiceDetailOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        data = _parse(ChargeReasonInput, request.data)
        return self._answer(services.invoice_void(invoice=self._get(pk), actor=_actor(request), reason=data["reason"]))


class PaymentViewSet(_BillingViewSet):
    """Payments through the active gateway (Idempotency-Key), their history and refunds."""

    scopes = {"read": READ, "write": WRITE, "refund": WRITE}
    perms = {"read": "billing.view_payment", "write": "billing.add_payment", "refund": "billing.refund_payment"}
    action_kinds = {"refund": "refund"}
    access_actions = {"refund": rules.REFUND}
    serializer_class = PaymentOutput
    queryset = Payment.objects.none()

    @extend_schema(summary="Payments, newest first", parameters=[PaymentFilterInput, OpenApiParameter("page_size", int)],
                   responses={200: PaymentOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(PaymentFilterInput, request.query_params)
        qs = self.visible(Payment.objects.order_by("-created_at"))
        if params.get("invoice"):
            qs = qs.filter(invoice_id=params["invoice"])
        if params.get("patient"):
            qs = qs.filter(patient_id=params["patient"])
        return self.page(qs, PaymentOutput, "api_payment_list")

    @extend_schema(summary="A payment", responses={200: PaymentOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        payment = selectors.access_payment(request.user, pk)
        record("read", payment)
        return Response(PaymentOutput(payment).data)

    @extend_schema(
        summary="Pay (part of) an invoice through the active gateway",
        description="**Idempotency-Key** is required. The first answer for a key, whatever its status (201, 402 "
                    "`card_declined`/`insufficient_funds`, 409 `amount_exceeds_due`...), is saved and replayed for "
                    "the same key and body with `Idempotent-Replayed: true`, charging nothing again. The same key "
                    "with another body answers 422 `idempotency_key_reused` and charges nothing; a request while the "
                    "first with the key still runs answers 409 `payment_in_progress`. Two payments at once on one "
                    "invoice never pay more than is due.",
        request=PaymentCreateInput,
        parameters=[OpenApiParameter(IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                                     description=f"Up to {PaymentRequest.MAX_KEY_LENGTH} characters, one per intended payment")],
        responses={201: PaymentOutput, 400: _ERRORS[400], 402: OpenApiResponse(description="Declined: the card's reason"),
                   404: _ERRORS[404], 409: _ERRORS[409],
                   422: OpenApiResponse(description="`idempotency_key_reused`: the key was used with another body")},
    )
    def create(self, request):
        data = _parse(PaymentCreateInput, request.data)
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if not key.strip():
            raise ValidationError({IDEMPOTENCY_HEADER: ["Every payment needs an Idempotency-Key header."]})
        if len(key) > PaymentRequest.MAX_KEY_LENGTH:
            raise ValidationError({IDEMPOTENCY_HEADER: [f"At most {PaymentRequest.MAX_KEY_LENGTH} characters."]})
        invoice = selectors.access_invoice(request.user, data["invoice"], rules.PAY)
        answer = services.payment_submit(owner=_owner(request), key=key, invoice=invoice, amount=data["amount"],
                                         source=data["source"], actor=_actor(request),
                                         render=lambda payment: PaymentOutput(payment).data)
        response = Response(answer.body, status=answer.status)
        if answer.replayed:
            response[REPLAYED_HEADER] = "true"
        return response

    @extend_schema(summary="Refund all or part of a payment (never more than is left of it)", request=RefundInput,
                   responses={201: RefundOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        payment = selectors.access_payment(request.user, pk, rules.REFUND)
        data = _parse(RefundInput, request.data)
        refund = services.payment_refund(payment=payment, amount=data.get("amount"), reason=data["reason"], actor=_actor(request))
        return Response(RefundOutput(refund).data, status=status.HTTP_201_CREATED)


class PatientBalanceView(APIView):
    """What a patient owes on open invoices: billing staff, the front desk, billing:read keys."""

    permission_classes = [ClinicAccess]
    scopes = {"read": READ}
    perms = {"read": "billing.view_balance"}

    @extend_schema(summary="A patient's balance", responses={200: BalanceOutput, 404: _ERRORS[404]})
    def get(self, request, patient_id):
        patient = get_or_not_found(Patient.objects.all(), pk=patient_id)
        balance = selectors.access_balance(request.user, patient)
        record("read", patient, detail={"view": "api_balance"})
        return Response(BalanceOutput({"patient": patient.pk, "balance": balance}).data)


class PayerViewSet(_BillingViewSet):
    """The payers a coverage can name (no patient data)."""

    scopes = {"read": READ}
    perms = {"read": "billing.view_payer"}
    serializer_class = PayerOutput
    queryset = Payer.objects.none()

    @extend_schema(summary="Payers accepted by the clinic", parameters=[OpenApiParameter("page_size", int)],
                   responses={200: PayerOutput(many=True)})
    def list(self, request):
        page = self.paginate_queryset(Payer.objects.filter(is_active=True).order_by("name"))
        return self.get_paginated_response(PayerOutput(page, many=True).data)


class CoverageViewSet(_BillingViewSet):
    """Patients' insurance coverages (cards): payer, member id, group, subscriber, priority, dates."""

    scopes = {"read": READ, "write": WRITE, "create": WRITE}
    perms = {"read": "billing.view_coverage", "write": "billing.change_coverage", "create": "billing.add_coverage"}
    action_kinds = {"create": "create"}
    serializer_class = CoverageOutput
    queryset = Coverage.objects.none()

    def _get(self, pk):
        return access.get(self.request.user, Coverage.objects.select_related("payer", "patient"), pk, self.access_action())

    @extend_schema(summary="Active coverages", parameters=[CoverageFilterInput, OpenApiParameter("page_size", int)],
                   responses={200: CoverageOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(CoverageFilterInput, request.query_params)
        qs = self.visible(Coverage.objects.filter(is_active=True).select_related("payer").order_by("patient_id", "priority"))
        if params.get("patient"):
            qs = qs.filter(patient_id=params["patient"])
        return self.page(qs, CoverageOutput, "api_coverage_list")

    @extend_schema(summary="A coverage", responses={200: CoverageOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        coverage = self._get(pk)
        record("read", coverage)
        return Response(CoverageOutput(coverage).data)

    @extend_schema(summary="Add a patient's insurance card", request=CoverageCreateInput,
                   responses={201: CoverageOutput, 400: _ERRORS[400], 404: _ERRORS[404]})
    def create(self, request):
        data = dict(_parse(CoverageCreateInput, request.data))
        patient = data.pop("patient")
        coverage = services.coverage_add(patient=patient, actor=_actor(request), **data)
        return Response(CoverageOutput(coverage).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change a card's details", request=CoverageInput,
                   responses={200: CoverageOutput, 400: _ERRORS[400], 404: _ERRORS[404]})
    def partial_update(self, request, pk=None):
        coverage = self._get(pk)
        serializer = CoverageInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        coverage = services.coverage_update(coverage=coverage, actor=_actor(request), **serializer.validated_data)
        return Response(CoverageOutput(coverage).data)

    @extend_schema(summary="Remove a card (kept, inactive, for past checks)", responses={204: None, 404: _ERRORS[404]})
    def destroy(self, request, pk=None):
        services.coverage_remove(coverage=self._get(pk), actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EligibilityCheckViewSet(_BillingViewSet):
    """Eligibility checks: an X12 270 through the clearinghouse and the 271 read."""

    scopes = {"read": READ, "write": WRITE}
    perms = {"read": "billing.view_eligibilitycheck", "write": "billing.add_eligibilitycheck"}
    serializer_class = EligibilityCheckOutput
    queryset = EligibilityCheck.objects.none()

    @extend_schema(summary="Eligibility checks, newest first", parameters=[EligibilityFilterInput, OpenApiParameter("page_size", int)],
                   responses={200: EligibilityCheckOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(EligibilityFilterInput, request.query_params)
        qs = self.visible(EligibilityCheck.objects.order_by("-requested_at"))
        for name in ("patient", "coverage"):
            if params.get(name):
                qs = qs.filter(**{f"{name}_id": params[name]})
        return self.page(qs, EligibilityCheckOutput, "api_eligibility_list")

    @extend_schema(summary="An eligibility check", responses={200: EligibilityCheckOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        check = access.get(request.user, EligibilityCheck, pk)
        record("read", check)
        return Response(EligibilityCheckOutput(check).data)

    @extend_schema(
        summary="Check a coverage's eligibility (24-hour cache unless force)",
        description="Answers 201 with the check. `status` COMPLETE has `outcome` ACTIVE, INACTIVE, REJECTED (the "
                    "payer's reason in `message`) or UNKNOWN and the benefits in `result`; FAILED means the "
                    "clearinghouse could not be reached or its 271 could not be read (`message` says which) and "
                    "nothing is kept as a result. A check younger than 24 hours is returned with 200.",
        request=EligibilityCheckInput, responses={200: EligibilityCheckOutput, 201: EligibilityCheckOutput, **_ERRORS})
    def create(self, request):
        data = _parse(EligibilityCheckInput, request.data)
        coverage = access.get(request.user, Coverage.objects.select_related("payer", "patient"), data["coverage"], rules.CHECK)
        before = services.cached_check(coverage, data["service_type"]) if not data["force"] else None
        check = services.eligibility_check(coverage=coverage, actor=_actor(request), service_type=data["service_type"],
                                           service_date=data.get("service_date"), force=data["force"])
        fresh = before is None or check.pk != before.pk
        return Response(EligibilityCheckOutput(check).data, status=status.HTTP_201_CREATED if fresh else status.HTTP_200_OK)


class EstimateView(APIView):
    """What a patient will likely owe for a visit type on a day (fee schedule + eligibility)."""

    permission_classes = [ClinicAccess]
    scopes = {"read": READ, "write": WRITE}
    perms = {"read": "billing.view_coverage", "write": "billing.add_eligibilitycheck"}

    @extend_schema(summary="Estimate a visit's patient responsibility", request=EstimateInput,
                   responses={200: EstimateOutput, 400: _ERRORS[400], 404: _ERRORS[404]})
    def post(self, request):
        data = _parse(EstimateInput, request.data)
        access.scope(request.user, Coverage.objects.filter(patient=data["patient"]), rules.CHECK)
        estimate = services.estimate_visit(patient=data["patient"], visit_type=data["visit_type"], on_date=data["date"],
                                           actor=_actor(request))
        record("read", data["patient"], detail={"view": "api_estimate"})
        return Response(EstimateOutput(estimate).data)
