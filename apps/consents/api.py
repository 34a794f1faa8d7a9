"""The consents API (/api/v1/): procedure plans and their transitions, consent templates (read),
consents (create and send, retrieve, revoke, verify, the signed PDF), surgical cases (create, retrieve,
transitions, theatre booking, consumables), operating-room availability, the lot-number trace and
a patient's workflow.

Thin by design: parse input with apps/consents/serializers.py, call a selector or a service,
render. Access: integrators need consents:read / consents:write on their API key; staff a
verified second factor and the model permission of each action (apps/consents/roles.py);
patients use the portal (403 here, whatever the id: nothing is revealed). Approving a plan is
never open to an API key: it needs the plan's own surgeon. ClinicAccess checks the endpoint;
every object named by id is read through core's access layer (apps/consents/rules.py) with the
same action. A step out of the chronology answers 409 with a stable code naming what is missing;
nothing is half-written (each service is one transaction)."""
import datetime

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.services import record, record_many
from apps.consents import rules, selectors, services
from apps.consents.models import ConsentForm, ConsentTemplate, OperatingRoom, ProcedurePlan, SurgicalCase
from apps.consents.pdf_response import pdf_response
from apps.consents.serializers import (
    AvailabilityInput, BookingInput, BookingOutput, BusyOutput, CaseFilterInput, CaseInput, CaseOutput,
    ConsentFilterInput, ConsentInput, ConsentOutput, ItemInput, ItemOutput, PlanFilterInput,
    PlanInput, PlanOutput, PlanUpdateInput, PreOpCompleteInput, ConsentsReasonInput, RoomOutput, TemplateOutput, TraceInput,
    TraceOutput, VerificationOutput, WorkflowOutput,
)
from apps.consents.workflow import workflow_for_patient
from apps.core import access
from apps.core.api.permissions import ClinicAccess
from apps.core.exceptions import NotFound
from apps.core.timezones import clinic_zone

READ, WRITE = rules.READ, rules.WRITE

_ERRORS = {
    400: OpenApiResponse(description="Bad input: {code, message, extra: {fields}}"),
    404: OpenApiResponse(description="No such object"),
    409: OpenApiResponse(description="Out of order or conflict: a stable `code` names what is missing "
                                     "(consultation_not_completed, plan_not_approved, consent_not_signed, "
                                     "consent_tampered, preop_incomplete, theatre_unavailable, invalid_transition...)"),
}
_ACCESS_ACTIONS = {"read": access.VIEW, "write": access.CHANGE}


def _actor(request):
    """The user for event rows and *_by fields; the API key itself otherwise (its name is kept
    on event rows, and the access log names it)."""
    return request.auth if access.is_api_key(request.auth) else request.user


def _parse(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _ConsentsViewSet(viewsets.GenericViewSet):
    permission_classes = [ClinicAccess]
    lookup_value_converter = "uuid"
    filter_backends = []
    action_kinds = {}

    def access_action(self):
        kind = self.action_kinds.get(self.action) or ("read" if self.request.method in SAFE_METHODS else "write")
        return _ACCESS_ACTIONS.get(kind, kind)

    def visible(self, queryset):
        return access.scope(self.request.user, queryset, access.VIEW)

    def page(self, queryset, output, view):
        page = self.paginate_queryset(queryset)
        record_many("read", page, detail={"view": view})
        return self.get_paginated_response(output(page, many=True).data)


# --- plans ----------------------------------------------------------------------------------------

class ProcedurePlanViewSet(_ConsentsViewSet):
    """Procedure plans: drafted from a completed consultation, edited while DRAFT, submitted,
    approved by their own surgeon, cancelled, or replaced by a new version."""

    scopes = {"read": READ, "write": WRITE, "create": WRITE, "preop": WRITE}
    perms = {"read": "consents.view_procedureplan", "write": "consents.change_procedureplan",
             "create": "consents.add_procedureplan", "approve": "consents.approve_procedureplan",
             "preop": "consents.change_preopitem"}
    action_kinds = {"create": "create", "approve": "approve", "preop_complete": "preop"}
    serializer_class = PlanOutput
    queryset = ProcedurePlan.objects.none()

    def _get(self, pk, action_name=None):
        return selectors.access_plan(self.request.user, pk, action_name or self.access_action())

    def _answer(self, plan, code=status.HTTP_200_OK):
        return Response(PlanOutput(selectors.plans().get(pk=plan.pk)).data, status=code)

    @extend_schema(summary="Procedure plans, newest first", parameters=[PlanFilterInput, OpenApiParameter("page_size", int)],
                   responses={200: PlanOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(PlanFilterInput, request.query_params)
        qs = self.visible(selectors.plans().order_by("-created_at"))
        if params.get("patient"):
            qs = qs.filter(patient_id=params["patient"])
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        return self.page(qs, PlanOutput, "api_plan_list")

    @extend_schema(summary="A procedure plan", responses={200: PlanOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        plan = self._get(pk)
        record("read", plan)
        return Response(PlanOutput(plan).data)

    @extend_schema(summary="Draft a plan from a COMPLETED consultation of the patient", request=PlanInput,
                   responses={201: PlanOutput, **_ERRORS})
    def create(self, request):
        data = _parse(PlanInput, request.data)
        plan = services.procedure_plan_create(patient=data["patient"], consultation=data["consultation"],
                                              surgeon=data["surgeon"], lines=[dict(line) for line in data["lines"]],
                                              notes=data["notes"], planned_date=data["planned_date"], actor=_actor(request))
        return self._answer(plan, status.HTTP_201_CREATED)

    @extend_schema(summary="Edit a DRAFT plan (409 plan_frozen after that: make a new version); the planned date alone "
                           "may change until the theatre is booked", request=PlanUpdateInput,
                   responses={200: PlanOutput, **_ERRORS})
    def partial_update(self, request, pk=None):
        plan = self._get(pk)
        data = _parse(PlanUpdateInput, request.data)
        plan = services.procedure_plan_update(plan=plan, actor=_actor(request), surgeon=data.get("surgeon"),
                                              notes=data.get("notes"),
                                              lines=[dict(line) for line in data["lines"]] if "lines" in data else None,
                                              planned_date=data.get("planned_date", services.plans.UNCHANGED))
        return self._answer(plan)

    @extend_schema(summary="Submit a DRAFT plan for the surgeon's approval", request=None, responses={200: PlanOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._answer(services.procedure_plan_submit(plan=self._get(pk), actor=_actor(request)))

    @extend_schema(summary="Approve the plan (only its surgeon, signed in with a verified second factor; never an API key)",
                   request=None, responses={200: PlanOutput, 403: OpenApiResponse(description="not_plan_surgeon"), **_ERRORS})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._answer(services.procedure_plan_approve(plan=self._get(pk), actor=request.user))

    @extend_schema(summary="Cancel the plan (any state before COMPLETED), with a reason", request=ConsentsReasonInput,
                   responses={200: PlanOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = _parse(ConsentsReasonInput, request.data)
        return self._answer(services.procedure_plan_cancel(plan=self._get(pk), actor=_actor(request), reason=data["reason"]))

    @extend_schema(summary="A new DRAFT version of a plan that is no longer a draft (this one is kept, cancelled)",
                   request=ConsentsReasonInput, responses={201: PlanOutput, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        data = _parse(ConsentsReasonInput, request.data)
        new = services.procedure_plan_new_version(plan=self._get(pk), actor=_actor(request), reason=data["reason"])
        return self._answer(new, status.HTTP_201_CREATED)

    @extend_schema(summary="Mark a pre-op checklist item of the plan done", request=PreOpCompleteInput,
                   responses={200: PlanOutput, **_ERRORS})
    @action(detail=True, methods=["post"], url_path=r"preop/(?P<item_id>[0-9]{1,18})/complete")
    def preop_complete(self, request, pk=None, item_id=None):
        plan = self._get(pk, access.VIEW)
        item = selectors.access_preop_item(request.user, item_id, access.CHANGE)
        if item.plan_id != plan.pk:
            raise NotFound()
        data = _parse(PreOpCompleteInput, request.data)
        services.preop_item_complete(item=item, actor=_actor(request), note=data["note"])
        return self._answer(plan)


# --- templates and consents ----------------------------------------------------------------------

class ConsentTemplateViewSet(_ConsentsViewSet):
    """Published consent templates (read only: they are written in the admin)."""

    scopes = {"read": READ}
    perms = {"read": "consents.view_consenttemplate"}
    serializer_class = TemplateOutput
    queryset = ConsentTemplate.objects.none()

    @extend_schema(summary="Published consent templates", parameters=[OpenApiParameter("page_size", int)],
                   responses={200: TemplateOutput(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.visible(selectors.published_templates()))
        return self.get_paginated_response(TemplateOutput(page, many=True).data)

    @extend_schema(summary="A published consent template", responses={200: TemplateOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        return Response(TemplateOutput(access.get(request.user, selectors.published_templates(), pk)).data)


class ConsentViewSet(_ConsentsViewSet):
    """Consents given to patients: create and send, read, revoke, verify. Patients sign in the
    portal; the API never signs for them."""

    scopes = {"read": READ, "send": WRITE, "revoke": WRITE, "verify": READ}
    perms = {"read": "consents.view_consentform", "send": "consents.send_consentform",
             "revoke": "consents.revoke_consentform", "verify": "consents.verify_consentform"}
    action_kinds = {"create": "send", "revoke": "revoke", "verify": "verify"}
    serializer_class = ConsentOutput
    queryset = ConsentForm.objects.none()

    def _get(self, pk):
        return selectors.access_consent(self.request.user, pk, self.access_action())

    @extend_schema(summary="Consents, newest first", parameters=[ConsentFilterInput, OpenApiParameter("page_size", int)],
                   responses={200: ConsentOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(ConsentFilterInput, request.query_params)
        qs = self.visible(selectors.consents().order_by("-created_at"))
        for name in ("patient", "plan", "status"):
            if params.get(name):
                qs = qs.filter(**{f"{name}_id" if name != "status" else name: params[name]})
        return self.page(qs, ConsentOutput, "api_consent_list")

    @extend_schema(summary="A consent", responses={200: ConsentOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        consent = self._get(pk)
        record("read", consent)
        return Response(ConsentOutput(consent).data)

    @extend_schema(summary="Create a consent from a published template and send it to the patient to sign",
                   description="A PROCEDURE consent needs `plan`, approved by its surgeon, after its completed consultation "
                               "(409 plan_required, plan_not_approved, consultation_not_completed, consent_already_active).",
                   request=ConsentInput, responses={201: ConsentOutput, **_ERRORS})
    def create(self, request):
        data = _parse(ConsentInput, request.data)
        consent = services.consent_create(patient=data["patient"], template=data["template"], plan=data["plan"],
                                          actor=_actor(request))
        return Response(ConsentOutput(selectors.consents().get(pk=consent.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Revoke a SIGNED consent on the patient's behalf, with a reason", request=ConsentsReasonInput,
                   responses={200: ConsentOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        data = _parse(ConsentsReasonInput, request.data)
        consent = services.consent_revoke(consent=self._get(pk), actor=_actor(request), reason=data["reason"])
        return Response(ConsentOutput(selectors.consents().get(pk=consent.pk)).data)

    @extend_schema(summary="The signed consent's PDF (what the patient was given: document text, signing details, hash)",
                   description="application/pdf; 409 consent_not_signed before signing. Every download is audited.",
                   responses={(200, "application/pdf"): OpenApiResponse(description="The signed PDF"), 404: _ERRORS[404],
                              409: _ERRORS[409]})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        return pdf_response(request, self._get(pk), view="api_consent_pdf")

    @extend_schema(summary="Verify a consent: signed, in force and intact (its document matches its SHA-256)",
                   description="200 with `valid` and the reason's `code`; every verification is audited.",
                   request=None, responses={200: VerificationOutput, 404: _ERRORS[404]})
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        result = services.consent_verify(consent=self._get(pk), purpose="api_verify", raise_error=False)
        return Response(VerificationOutput(result).data)


# --- cases ----------------------------------------------------------------------------------------

class SurgicalCaseViewSet(_ConsentsViewSet):
    """Surgical cases: created on a verified consent, theatre booked, started, consumables and
    implants recorded, completed or cancelled."""

    scopes = {"read": READ, "write": WRITE, "create": WRITE, "book": WRITE, "items": WRITE}
    perms = {"read": "consents.view_surgicalcase", "write": "consents.change_surgicalcase",
             "create": "consents.add_surgicalcase", "book": "consents.add_theatrebooking", "items": "consents.add_caseitem"}
    action_kinds = {"create": "create", "book_theatre": "book", "items": "items"}
    serializer_class = CaseOutput
    queryset = SurgicalCase.objects.none()

    def access_action(self):
        kind = super().access_action()
        return access.CHANGE if kind in ("book", "items") else kind

    def _get(self, pk):
        return selectors.access_case(self.request.user, pk, self.access_action())

    def _answer(self, case, code=status.HTTP_200_OK):
        return Response(CaseOutput(selectors.cases().get(pk=case.pk)).data, status=code)

    @extend_schema(summary="Surgical cases, newest first", parameters=[CaseFilterInput, OpenApiParameter("page_size", int)],
                   responses={200: CaseOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(CaseFilterInput, request.query_params)
        qs = self.visible(selectors.cases().order_by("-created_at"))
        if params.get("patient"):
            qs = qs.filter(patient_id=params["patient"])
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        return self.page(qs, CaseOutput, "api_case_list")

    @extend_schema(summary="A surgical case", responses={200: CaseOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        case = self._get(pk)
        record("read", case)
        return Response(CaseOutput(case).data)

    @extend_schema(summary="Create a case from a plan and its signed, unexpired, verified procedure consent",
                   description="409 consent_not_signed, consent_expired, consent_revoked, consent_tampered (audited), "
                               "plan_not_approved, case_exists.",
                   request=CaseInput, responses={201: CaseOutput, **_ERRORS})
    def create(self, request):
        data = _parse(CaseInput, request.data)
        case = services.surgical_case_create(plan=data["plan"], consent=data["consent"],
                                             anaesthesia_type=data["anaesthesia_type"], actor=_actor(request))
        return self._answer(case, status.HTTP_201_CREATED)

    @extend_schema(summary="Book an operating room (and the case's surgeon) for a SCHEDULED case",
                   description="409 theatre_unavailable when the room or the surgeon is already booked then.",
                   request=BookingInput, responses={200: BookingOutput, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="book-theatre")
    def book_theatre(self, request, pk=None):
        data = _parse(BookingInput, request.data)
        booking = services.theatre_book(case=self._get(pk), room=data["room"], start=data["start"], end=data["end"],
                                        actor=_actor(request))
        return Response(BookingOutput(booking).data)

    @extend_schema(summary="Start the case (theatre booked, pre-op checklist done, consent verified)", request=None,
                   responses={200: CaseOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._answer(services.case_start(case=self._get(pk), actor=_actor(request)))

    @extend_schema(summary="Record a consumable or an implant used on an IN_PROGRESS case", request=ItemInput,
                   responses={201: ItemOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def items(self, request, pk=None):
        data = _parse(ItemInput, request.data)
        item = services.case_item_record(case=self._get(pk), actor=_actor(request), **data)
        return Response(ItemOutput(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Complete the case (billing is told: procedure codes and billable items)", request=None,
                   responses={200: CaseOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._answer(services.case_complete(case=self._get(pk), actor=_actor(request)))

    @extend_schema(summary="Cancel a SCHEDULED case, with a reason (its theatre booking is released)", request=ConsentsReasonInput,
                   responses={200: CaseOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = _parse(ConsentsReasonInput, request.data)
        return self._answer(services.case_cancel(case=self._get(pk), actor=_actor(request), reason=data["reason"]))


class OperatingRoomViewSet(_ConsentsViewSet):
    scopes = {"read": READ}
    perms = {"read": "consents.view_operatingroom"}
    serializer_class = RoomOutput
    queryset = OperatingRoom.objects.none()

    @extend_schema(summary="Operating rooms in use", responses={200: RoomOutput(many=True)})
    def list(self, request):
        page = self.paginate_queryset(self.visible(OperatingRoom.objects.filter(is_active=True)))
        return self.get_paginated_response(RoomOutput(page, many=True).data)

    @extend_schema(summary="A room's booked times on a day (the clinic's day)", parameters=[AvailabilityInput],
                   responses={200: BusyOutput(many=True), **_ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None)  # one day's bookings, a plain list
    def availability(self, request, pk=None):
        room = selectors.access_room(request.user, pk)
        day = _parse(AvailabilityInput, request.query_params)["date"]
        zone = clinic_zone()
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
        end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
        return Response(BusyOutput(selectors.room_bookings(room, start=start, end=end), many=True).data)


class LotTraceView(APIView):
    """Every patient who received an item of a lot (a recall)."""

    permission_classes = [ClinicAccess]
    scopes = {"read": READ}
    perms = {"read": "consents.view_caseitem"}

    @extend_schema(summary="Trace a lot or batch number to the cases and patients who received it",
                   parameters=[TraceInput], responses={200: TraceOutput(many=True), 400: _ERRORS[400]})
    def get(self, request):
        lot = _parse(TraceInput, request.query_params)["lot"]
        items = list(access.scope(request.user, selectors.items_with_lot(lot))[:500])
        record_many("read", [item.case for item in items], detail={"view": "api_lot_trace"})
        return Response(TraceOutput(items, many=True).data)


class PatientWorkflowView(APIView):
    """The patient's 14-stage workflow (the seed's workflow-status shape)."""

    permission_classes = [ClinicAccess]
    scopes = {"read": READ}
    perms = {"read": "consents.view_procedureplan"}

    @extend_schema(summary="A patient's workflow: the 14 stages, current stage, next step and blockers",
                   responses={200: WorkflowOutput, 404: _ERRORS[404]})
    def get(self, request, patient_id):
        patient = selectors.access_workflow_patient(request.user, patient_id)
        record("read", patient, detail={"view": "api_workflow"})
        return Response(workflow_for_patient(patient).as_api())


__all__ = ["ConsentTemplateViewSet", "ConsentViewSet", "LotTraceView", "OperatingRoomViewSet", "PatientWorkflowView",
           "ProcedurePlanViewSet", "SurgicalCaseViewSet"]
