"""The records API (/api/v1/records/): problems, allergies, medications, refill requests, visit
notes (with addenda), lab results (create, release) and documents (upload, download, share).

Thin by design: parse input with apps/records/serializers.py, call a selector or a service,
render. Access: integrators need records:read / records:write on their API key; staff a
verified second factor and the model permission of each action (apps/records/roles.py);
patients use the portal (403 here). Writing and signing notes and deciding refills are never
open to an API key (no scope: the provider's clinical acts). ClinicAccess checks the endpoint;
each object named by id is read through core's access layer with the same action (404 when
missing). Every list page and every object read writes audit rows; errors come in the one
format (apps/core/api/errors.py)."""
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from apps.audit.services import record, record_many
from apps.core import access
from apps.core.api.permissions import ClinicAccess
from apps.core.exceptions import ValidationFailed
from apps.records import rules, selectors, services
from apps.records.models import Allergy, Document, LabResult, Medication, NoteAddendum, Problem, RefillRequest, VisitNote
from apps.records.portal_views import download_response
from apps.records.serializers import (
    AddendumInput, AddendumOutput, AllergyInput, AllergyOutput, DecisionInput, DocumentInput, DocumentOutput, LabFilterInput,
    LabInput, LabOutput, MedicationInput, MedicationOutput, NoteCreateInput, NoteFilterInput, NoteOutput,
    NoteUpdateInput, PatientFilterInput, ProblemInput, ProblemOutput, RefillFilterInput, RefillOutput, StatusInput,
)

READ, WRITE = rules.READ, rules.WRITE
_ERRORS = {
    400: OpenApiResponse(description="Bad input: {code, message, extra: {fields}}"),
    404: OpenApiResponse(description="No such object"),
    409: OpenApiResponse(description="Conflict: invalid_transition, note_signed, refill_already_open..."),
}
_ACCESS = {"read": access.VIEW, "write": access.CHANGE}


def _actor(request):
    """The API key itself for integrators (its name is kept on event rows), else the user."""
    return request.auth if access.is_api_key(request.auth) else request.user


def _parse(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class _RecordsViewSet(viewsets.GenericViewSet):
    permission_classes = [ClinicAccess]
    lookup_value_converter = "uuid"
    filter_backends = []
    action_kinds = {}
    model = None
    output = None
    filter_input = PatientFilterInput

    def access_action(self, name=None):
        kind = self.action_kinds.get(name or self.action) or ("read" if self.request.method in SAFE_METHODS else "write")
        return _ACCESS.get(kind, kind)

    def get_object_for(self, pk, action_name=None):
        return selectors.access_entry(_actor(self.request), self.model, pk, self.access_action(action_name))

    def visible(self):
        return selectors.visible(_actor(self.request), self.model)

    def answer(self, obj, code=status.HTTP_200_OK):
        return Response(self.output(obj).data, status=code)

    def filtered(self, queryset, params):
        if params.get("patient"):
            queryset = queryset.filter(patient_id=params["patient"])
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        return queryset

    def list(self, request):
        params = _parse(self.filter_input, request.query_params)
        page = self.paginate_queryset(self.filtered(self.visible(), params).order_by("-created_at", "id"))
        record_many("read", page, detail={"view": f"api_{self.basename}_list"})
        return self.get_paginated_response(self.output(page, many=True).data)

    def retrieve(self, request, pk=None):
        obj = self.get_object_for(pk)
        record("read", obj)
        return self.answer(obj)


def _chart_viewset(model, input_class, output_class, noun):
    name = model._meta.model_name
    perms = {"read": f"records.view_{name}", "write": f"records.change_{name}", "create": f"records.add_{name}"}

    @extend_schema(tags=["records"])
    class ChartViewSet(_RecordsViewSet):
        __doc__ = f"{noun.capitalize()} on patients' charts: list, read, add, change, move the status."
        scopes = {"read": READ, "write": WRITE, "create": WRITE}
        action_kinds = {"create": "create"}
        queryset = model.objects.none()
        serializer_class = output_class

        @extend_schema(summary=f"{noun.capitalize()}, newest first", parameters=[PatientFilterInput],
                       responses={200: output_class(many=True), 400: _ERRORS[400]})
        def list(self, request):
            return super().list(request)

        @extend_schema(summary=f"One of the {noun}", responses={200: output_class, 404: _ERRORS[404]})
        def retrieve(self, request, pk=None):
            return super().retrieve(request, pk)

        @extend_schema(summary=f"Add to the {noun}", request=input_class, responses={201: output_class, **_ERRORS})
        def create(self, request):
            data = _parse(input_class, request.data)
            patient = data.pop("patient")
            entry = services.chart_entry_create(model=model, patient=patient, actor=_actor(request), **data)
            return self.answer(entry, status.HTTP_201_CREATED)

        @extend_schema(summary="Change its fields", request=input_class, responses={200: output_class, **_ERRORS})
        def partial_update(self, request, pk=None):
            entry = self.get_object_for(pk)
            data = _parse(input_class, request.data, partial=True)
            data.pop("patient", None)
            return self.answer(services.chart_entry_update(entry=entry, actor=_actor(request), **data))

        @extend_schema(summary=f"Move the status ({', '.join(model.Status.values)})", request=StatusInput,
                       responses={200: output_class, **_ERRORS})
        @action(detail=True, methods=["post"], url_path="status")
        def set_status(self, request, pk=None):
            entry = self.get_object_for(pk)
            data = _parse(StatusInput, request.data)
            if data["status"] not in model.Status.values:
                raise ValidationFailed({"status": [f"One of {', '.join(model.Status.values)}."]})
            return self.answer(services.chart_entry_set_status(entry=entry, actor=_actor(request), **data))

    ChartViewSet.__name__ = ChartViewSet.__qualname__ = f"{model.__name__}ViewSet"
    ChartViewSet.model, ChartViewSet.output, ChartViewSet.perms = model, output_class, perms
    return ChartViewSet


ProblemViewSet = _chart_viewset(Problem, ProblemInput, ProblemOutput, "problems")
AllergyViewSet = _chart_viewset(Allergy, AllergyInput, AllergyOutput, "allergies")
MedicationViewSet = _chart_viewset(Medication, MedicationInput, MedicationOutput, "medications")


@extend_schema(tags=["records"])
class RefillRequestViewSet(_RecordsViewSet):
    """Patients' refill requests (asked in the portal): read them; the prescriber decides."""

    model, output, filter_input = RefillRequest, RefillOutput, RefillFilterInput
    scopes = {"read": READ}
    perms = {"read": "records.view_refillrequest", "decide": "records.decide_refillrequest"}
    action_kinds = {"decide": "decide"}
    queryset = RefillRequest.objects.none()
    serializer_class = RefillOutput

    @extend_schema(summary="Refill requests, newest first", parameters=[RefillFilterInput],
                   responses={200: RefillOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        return super().list(request)

    @extend_schema(summary="A refill request", responses={200: RefillOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        return super().retrieve(request, pk)

    @extend_schema(summary="Approve or deny a REQUESTED refill with a note (staff only; the patient is told)",
                   request=DecisionInput, responses={200: RefillOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        refill = self.get_object_for(pk)
        data = _parse(DecisionInput, request.data)
        return self.answer(services.refill_request_decide(refill=refill, actor=request.user, **data))


@extend_schema(tags=["records"])
class VisitNoteViewSet(_RecordsViewSet):
    """SOAP notes on visits: the visit's provider starts, edits and signs one; signed notes never
    change (409 note_signed) and take addenda. API keys read signed and draft notes alike."""

    model, output, filter_input = VisitNote, NoteOutput, NoteFilterInput
    scopes = {"read": READ}
    perms = {"read": "records.view_visitnote", "write": "records.change_visitnote", "create": "records.add_visitnote",
             "sign": "records.sign_visitnote", "addendum": "records.add_noteaddendum"}
    action_kinds = {"create": "create", "sign": "sign", "addenda": "addendum"}
    queryset = VisitNote.objects.none()
    serializer_class = NoteOutput

    def visible(self):
        return super().visible().prefetch_related("addenda")

    @extend_schema(summary="Visit notes, newest first", parameters=[NoteFilterInput],
                   responses={200: NoteOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        return super().list(request)

    @extend_schema(summary="A visit note with its addenda", responses={200: NoteOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        return super().retrieve(request, pk)

    @extend_schema(summary="Start the visit's note (its provider; returns the existing one if started)",
                   request=NoteCreateInput, responses={201: NoteOutput, **_ERRORS})
    def create(self, request):
        data = _parse(NoteCreateInput, request.data)
        visit = data["visit"]
        access.check(request.user, visit, access.VIEW)
        return self.answer(services.visit_note_start(visit=visit, actor=request.user), status.HTTP_201_CREATED)

    @extend_schema(summary="Edit a DRAFT note", request=NoteUpdateInput, responses={200: NoteOutput, **_ERRORS})
    def partial_update(self, request, pk=None):
        note = self.get_object_for(pk)
        data = _parse(NoteUpdateInput, request.data, partial=True)
        return self.answer(services.visit_note_update(note=note, actor=request.user, **data))

    @extend_schema(summary="Sign the note (final; releases the visit summary once the visit is completed)",
                   request=None, responses={200: NoteOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        note = self.get_object_for(pk, "sign")
        return self.answer(services.visit_note_sign(note=note, actor=request.user))

    @extend_schema(summary="Add an addendum to a SIGNED note", request=AddendumInput,
                   responses={201: AddendumOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def addenda(self, request, pk=None):
        note = selectors.access_entry(request.user, VisitNote, pk, access.VIEW)
        access.scope(request.user, NoteAddendum.objects.none(), rules.CREATE)
        data = _parse(AddendumInput, request.data)
        addendum = services.note_addendum_add(note=note, actor=request.user, text=data["text"])
        return Response(AddendumOutput(addendum).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["records"])
class LabResultViewSet(_RecordsViewSet):
    """Lab results: entered by staff or a lab interface, released to the patient (who is told)."""

    model, output, filter_input = LabResult, LabOutput, LabFilterInput
    scopes = {"read": READ, "create": WRITE, "release": WRITE}
    perms = {"read": "records.view_labresult", "create": "records.add_labresult", "release": "records.release_labresult"}
    action_kinds = {"create": "create", "release": "release"}
    queryset = LabResult.objects.none()
    serializer_class = LabOutput

    def filtered(self, queryset, params):
        queryset = super().filtered(queryset, params)
        if params.get("loinc_code"):
            queryset = queryset.filter(loinc_code=params["loinc_code"])
        return queryset

    @extend_schema(summary="Lab results, newest first", parameters=[LabFilterInput],
                   responses={200: LabOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        return super().list(request)

    @extend_schema(summary="A lab result", responses={200: LabOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        return super().retrieve(request, pk)

    @extend_schema(summary="Enter a result (ENTERED: the patient does not see it until released)",
                   request=LabInput, responses={201: LabOutput, **_ERRORS})
    def create(self, request):
        data = _parse(LabInput, request.data)
        patient = data.pop("patient")
        return self.answer(services.lab_result_create(patient=patient, actor=_actor(request), **data),
                           status.HTTP_201_CREATED)

    @extend_schema(summary="Release it to the patient (409 when released already)", request=None,
                   responses={200: LabOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        result = self.get_object_for(pk)
        return self.answer(services.lab_result_release(result=result, actor=_actor(request)))


@extend_schema(tags=["records"])
class DocumentViewSet(_RecordsViewSet):
    """Documents: upload (multipart; type by content, size limit), metadata, download, share."""

    model, output = Document, DocumentOutput
    scopes = {"read": READ, "upload": WRITE, "share": WRITE}
    perms = {"read": "records.view_document", "upload": "records.add_document", "share": "records.share_document"}
    action_kinds = {"create": "upload", "share": "share"}
    queryset = Document.objects.none()
    serializer_class = DocumentOutput

    @extend_schema(summary="Documents, newest first", parameters=[PatientFilterInput],
                   responses={200: DocumentOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        return super().list(request)

    @extend_schema(summary="A document's details", responses={200: DocumentOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        return super().retrieve(request, pk)

    @extend_schema(summary="Upload a document (multipart/form-data)", request={"multipart/form-data": DocumentInput},
                   responses={201: DocumentOutput, **_ERRORS})
    def create(self, request):
        data = _parse(DocumentInput, request.data)
        actor = _actor(request)
        document = services.document_upload(patient=data["patient"], actor=actor, upload=data["file"],
                                            category=data["category"], title=data["title"])
        if data["share"]:
            document = services.document_share(document=document, actor=actor)
        return self.answer(document, status.HTTP_201_CREATED)

    @extend_schema(summary="Download the file", responses={(200, "application/octet-stream"): bytes, 404: _ERRORS[404]},
                   parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH)])
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        document = self.get_object_for(pk)
        record("read", document, detail={"download": True})
        return download_response(document)

    @extend_schema(summary="Share it with the patient (who is told)", request=None,
                   responses={200: DocumentOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        document = self.get_object_for(pk)
        return self.answer(services.document_share(document=document, actor=_actor(request)))
