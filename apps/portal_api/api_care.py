"""/api/v1/portal/ for consents, video visits, bills and records: the patient's own, over the
services and selectors the portal pages call (never a second copy of a rule). Every object
named by id is read through the apps' access selectors (another patient's is 404, like a
missing one); every read of patient data is audited; refusals are the apps' own domain errors
(a consent no longer pending 409, a stale step-up 403 step_up_required, a waiting room not
open 409, a declined card 402...)."""
from types import SimpleNamespace

from django.contrib.sessions.backends.base import SessionBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.audit import context as audit_context
from apps.audit.services import record, record_many
from apps.billing import rules as billing_rules
from apps.billing import selectors as billing_selectors
from apps.billing import services as billing_services
from apps.billing.models import PaymentRequest
from apps.billing.serializers import BalanceOutput, InvoiceDetailOutput, InvoiceOutput, MoneyInput, PaymentOutput
from apps.consents import selectors as consent_selectors
from apps.consents import services as consent_services
from apps.consents import stepup
from apps.consents.serializers import ConsentOutput, TemplateOutput
from apps.consents.signature import decode_data_url
from apps.core import access
from apps.portal_api.api import IDEMPOTENCY_HEADER, REPLAYED_HEADER, PortalListView, PortalView, _answer, _errors
from apps.portal_api.operations import parse, refill_request
from apps.portal_api import serializers as s
from apps.records import selectors as records_selectors
from apps.records import serializers as records_serializers
from apps.records.models import Document, LabResult, VisitSummary
from apps.telehealth import selectors as telehealth_selectors
from apps.telehealth import services as telehealth_services
from apps.telehealth.serializers import DeviceCheckInput, EntryOutput, JoinTokenOutput, SessionOutput

PAGE = [OpenApiParameter("page", int), OpenApiParameter("page_size", int)]


# --- consents --------------------------------------------------------------------------------------

class AppConsentDetailOutput(ConsentOutput):
    document = TemplateOutput(source="template", help_text="What is signed: sections, clauses, understanding checks.")
    acknowledged = serializers.ListField(child=serializers.CharField())
    answers = serializers.DictField(child=serializers.CharField())


class AppConsentSignInput(serializers.Serializer):
    acknowledged = serializers.ListField(child=serializers.CharField(max_length=100), max_length=200,
                                         help_text="The keys of every clause read and understood.")
    answers = serializers.DictField(child=serializers.CharField(max_length=300), help_text="Check key -> the choice.")
    typed_name = serializers.CharField(max_length=300, help_text="The patient's full legal name.")
    signature_png = serializers.CharField(max_length=300_000, required=False, allow_blank=True, default="",
                                          help_text="A drawn signature: data:image/png;base64,...")
    typed_signature = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    secret = serializers.CharField(max_length=128, required=False, allow_blank=True, default="", trim_whitespace=False,
                                   help_text="The password (or the authenticator code with MFA): the step-up. "
                                             "Left out within 5 minutes of a step-up on this sign-in.")

    def validate_signature_png(self, value):
        if value:
            try:
                decode_data_url(value)  # the signing service checks the image itself
            except Exception as exc:  # its domain error, as this field's error
                raise ValidationError(getattr(exc, "message", None) or "The drawn signature must be a PNG image.")
        return value

    def validate_answers(self, value):
        if len(value) > 200:
            raise ValidationError("At most 200 answers.")
        return value

    def validate(self, data):
        if not data["signature_png"] and not data["typed_signature"]:
            raise ValidationError({"signature_png": ["Draw a signature, or type one in typed_signature."]})
        return data


def _sign_in_session(request):
    """Where the step-up is kept: the app token's own session (request.auth), or the portal's."""
    return request.auth if isinstance(request.auth, SessionBase) else request._request.session


class ConsentsView(PortalListView):
    @extend_schema(summary="My consents, newest first", parameters=PAGE, responses={200: ConsentOutput(many=True), **_errors(400)})
    def get(self, request):
        page = self.paginate_queryset(consent_selectors.consents_for_patient(request.patient))
        record_many("read", page, detail={"view": "app_consents"})
        return self.get_paginated_response(ConsentOutput(page, many=True).data)


class ConsentView(PortalView):
    @extend_schema(summary="One of my consents, with the document to read and sign",
                   responses={200: AppConsentDetailOutput, **_errors(404)})
    def get(self, request, consent_id):
        consent = consent_selectors.access_consent_for_patient(request.user, consent_id)
        record("read", consent, detail={"view": "app_consent"})
        return Response(AppConsentDetailOutput(consent).data)


class ConsentSignView(PortalView):
    @extend_schema(
        summary="Sign my consent (with the step-up)",
        description="The portal's signing service: every clause acknowledged, every check answered right (the wrong "
                    "ones come back with explanations, 400 understanding_check_failed), the legal name typed, a "
                    "signature, and a step-up within 5 minutes (`secret`; 403 step_up_failed / step_up_required).",
        request=AppConsentSignInput, responses={200: AppConsentDetailOutput, **_errors(400, 404, 409)})
    def post(self, request, consent_id):
        consent = consent_selectors.access_consent_for_patient(request.user, consent_id, action=access.CHANGE)
        data = parse(AppConsentSignInput, request.data)
        session = _sign_in_session(request)
        holder = SimpleNamespace(user=request.user, session=session)
        if data["secret"]:
            stepup.step_up(holder, data["secret"])
            if session is request.auth:
                session.save()
        ctx = audit_context.current()
        consent_services.consent_sign(
            consent=consent, actor=request.user, acknowledged=data["acknowledged"], answers=data["answers"],
            typed_name=data["typed_name"],
            signature_png=decode_data_url(data["signature_png"]) if data["signature_png"] else None,
            typed_signature="" if data["signature_png"] else data["typed_signature"],
            stepped_up_at=stepup.stepped_up_at(holder), ip=getattr(ctx, "ip", None) or request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        consent = consent_selectors.access_consent_for_patient(request.user, consent_id)
        return Response(AppConsentDetailOutput(consent).data)


# --- video visits ----------------------------------------------------------------------------------

class TelehealthSessionsView(PortalListView):
    @extend_schema(summary="My video visits, soonest first", parameters=PAGE, responses={200: SessionOutput(many=True), **_errors(400)})
    def get(self, request):
        rows = access.scope(request.user, telehealth_selectors.sessions()).order_by("scheduled_start", "id")
        page = self.paginate_queryset(rows)
        record_many("read", page, detail={"view": "app_telehealth_sessions"})
        return self.get_paginated_response(SessionOutput(page, many=True).data)


class TelehealthJoinTokenView(PortalView):
    @extend_schema(summary="A token to join my video visit (once admitted from the waiting room)", request=None,
                   responses={200: JoinTokenOutput, **_errors(404, 409)})
    def post(self, request, session_id):
        session = telehealth_selectors.access_session(request.user, session_id, access.CHANGE)
        session, token = telehealth_services.session_join_token(session=session, user=request.user)
        record("read", session, detail={"view": "app_telehealth_join_token"})
        return Response(JoinTokenOutput({**token.__dict__, "role": telehealth_services.participant_role(session, request.user)}).data)


class TelehealthDeviceCheckView(PortalView):
    @extend_schema(summary="Store my phone's device check (camera, microphone, connection) in the waiting room",
                   request=DeviceCheckInput, responses={200: EntryOutput, **_errors(400, 404, 409)})
    def post(self, request, session_id):
        data = parse(DeviceCheckInput, request.data)
        session = telehealth_selectors.access_session(request.user, session_id, access.CHANGE)
        entry = telehealth_services.waiting_room_device_check(session=session, actor=request.user, data=data)
        return Response(EntryOutput(entry).data)


# --- bills -----------------------------------------------------------------------------------------

class AppPayInput(serializers.Serializer):
    amount = MoneyInput()
    source = serializers.CharField(max_length=200, help_text="A test card number (test gateway) or a Stripe PaymentMethod id.")


class BillsView(PortalListView):
    @extend_schema(summary="My bills, newest first", parameters=PAGE, responses={200: InvoiceOutput(many=True), **_errors(400)})
    def get(self, request):
        page = self.paginate_queryset(billing_selectors.portal_invoices(request.patient))
        record_many("read", page, detail={"view": "app_bills"})
        return self.get_paginated_response(InvoiceOutput(page, many=True).data)


class BalanceView(PortalView):
    @extend_schema(summary="What I owe on open bills", responses={200: BalanceOutput, **_errors()})
    def get(self, request):
        record("read", request.patient, detail={"view": "app_balance"})
        return Response(BalanceOutput({"patient": request.patient.pk, "balance": billing_selectors.balance_for(request.patient)}).data)


class BillView(PortalView):
    @extend_schema(summary="One of my bills with its lines", responses={200: InvoiceDetailOutput, **_errors(404)})
    def get(self, request, invoice_id):
        invoice = billing_selectors.access_invoice(request.user, invoice_id)
        record("read", invoice, detail={"view": "app_bill"})
        return Response(InvoiceDetailOutput(invoice).data)


class BillPayView(PortalView):
    @extend_schema(
        summary="Pay my bill (with an Idempotency-Key)",
        description="Billing's payment service: a repeated request with the key charges once and answers the first "
                    "result with `Idempotent-Replayed: true`; 402 card_declined; 409 when the bill cannot be paid.",
        request=AppPayInput,
        parameters=[OpenApiParameter(IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)],
        responses={201: PaymentOutput, **_errors(400, 404, 409), 402: OpenApiResponse(description="card_declined")})
    def post(self, request, invoice_id):
        invoice = billing_selectors.access_invoice(request.user, invoice_id, billing_rules.PAY)
        data = parse(AppPayInput, request.data)
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if not key.strip():
            raise ValidationError({IDEMPOTENCY_HEADER: ["Every payment needs an Idempotency-Key header."]})
        if len(key) > PaymentRequest.MAX_KEY_LENGTH:
            raise ValidationError({IDEMPOTENCY_HEADER: [f"At most {PaymentRequest.MAX_KEY_LENGTH} characters."]})
        answer = billing_services.payment_submit(owner=f"user:{request.user.pk}", key=key, invoice=invoice,
                                                 amount=data["amount"], source=data["source"], actor=request.user,
                                                 render=lambda payment: PaymentOutput(payment).data)
        response = Response(answer.body, status=answer.status)
        if answer.replayed:
            response[REPLAYED_HEADER] = "true"
        return response


class PaymentsView(PortalListView):
    @extend_schema(summary="My payments, newest first", parameters=PAGE, responses={200: PaymentOutput(many=True), **_errors(400)})
    def get(self, request):
        page = self.paginate_queryset(billing_selectors.portal_payments(request.patient))
        record_many("read", page, detail={"view": "app_payments"})
        return self.get_paginated_response(PaymentOutput(page, many=True).data)


# --- records ---------------------------------------------------------------------------------------

class AppHealthSummaryOutput(serializers.Serializer):
    problems = records_serializers.ProblemOutput(many=True)
    allergies = records_serializers.AllergyOutput(many=True)
    medications = records_serializers.MedicationOutput(many=True)


class HealthSummaryView(PortalView):
    @extend_schema(summary="My health summary: active problems and allergies, current medications",
                   responses={200: AppHealthSummaryOutput, **_errors()})
    def get(self, request):
        summary = records_selectors.patient_summary(request.patient)
        record_many("read", [*summary["problems"], *summary["allergies"], *summary["medications"]],
                    detail={"view": "app_health_summary"})
        return Response(AppHealthSummaryOutput(summary).data)


def _record_list(model, output, order, view):
    class RecordListView(PortalListView):
        @extend_schema(summary=f"My {model._meta.verbose_name_plural} released to me", parameters=PAGE,
                       responses={200: output(many=True), **_errors(400)})
        def get(self, request):
            page = self.paginate_queryset(records_selectors.visible(request.user, model).order_by(order, "-pk"))
            record_many("read", page, detail={"view": view})
            return self.get_paginated_response(output(page, many=True).data)

    RecordListView.__name__ = RecordListView.__qualname__ = f"{model.__name__}ListView"
    return RecordListView


VisitSummariesView = _record_list(VisitSummary, s.AppVisitSummaryOutput, "-released_at", "app_visit_summaries")
LabResultsView = _record_list(LabResult, records_serializers.LabOutput, "-collected_at", "app_lab_results")
DocumentsView = _record_list(Document, records_serializers.DocumentOutput, "-created_at", "app_documents")


class RefillRequestView(PortalView):
    @extend_schema(summary="Ask for a refill of one of my current medications", request=s.AppRefillInput,
                   responses={201: records_serializers.RefillOutput, **_errors(400, 404, 409)})
    def post(self, request, medication_id):
        return _answer(refill_request(request, medication_id, request.data))
