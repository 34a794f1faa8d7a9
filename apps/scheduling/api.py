"""The scheduling API (/api/v1/): providers, visit types, free slots, visit requests, visits.

Thin by design: parse input with apps/scheduling/serializers.py, call a selector or a service,
render. Access: integrators need scheduling:read / scheduling:write on their API key; staff a
verified second factor and the model permission of each action (apps/accounts/roles.py);
patients use the portal (403 here). Clinical decisions (triage, review, severity override) are
not open to API keys: they need an accountable clinician. ClinicAccess checks the endpoint;
every object named by id in the URL, and every list, is read through core's access layer
(apps/scheduling/rules.py) with the same action. Reads of requests and visits are audited here
(one record_many per page); services audit their writes."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from apps.audit.services import record, record_many
from apps.core import access
from apps.core.api.pagination import RowsPagination
from apps.core.api.permissions import ClinicAccess
from apps.scheduling import selectors, services
from apps.scheduling.models import IdempotencyRecord, Visit, VisitRequest, VisitSlot
from apps.scheduling.serializers import (
    AcceptInput, AssignImmediateInput, OfferInput, OverrideSeverityInput, ProviderOutput, ReasonInput, RescheduleInput,
    ReviewInput, SlotGenerateInput, SlotGenerateOutput, SlotOutput, SlotSearchInput, TriageInput, VisitFilterInput,
    VisitInput, VisitOutput, VisitRequestCreatedOutput, VisitRequestFilterInput, VisitRequestInput, VisitRequestOutput,
    VisitTypeOutput,
)

READ = "scheduling:read"
WRITE = "scheduling:write"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_IDEMPOTENCY_KEY = IdempotencyRecord.MAX_KEY_LENGTH

_ERRORS = {
    400: OpenApiResponse(description="Bad input: {code, message, extra: {fields}}"),
    404: OpenApiResponse(description="No such object"),
    409: OpenApiResponse(description="Conflict: slot unavailable, transition not allowed (stable `code`)"),
}


def _actor(request):
    """The user for event rows and *_by fields; None for an API key (the access log still
    names the key)."""
    return None if access.is_api_key(request.auth) else request.user


def _for_clinic(request):
    return access.is_api_key(request.auth)


def _parse(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# ClinicAccess's kinds of action, as core's access layer names them (the others, "triage",
# "review", "override", "offer", are named alike in apps/scheduling/rules.py).
_ACCESS_ACTIONS = {"read": access.VIEW, "write": access.CHANGE}


class _SchedulingViewSet(viewsets.GenericViewSet):
    permission_classes = [ClinicAccess]
    lookup_value_converter = "uuid"
    filter_backends = []  # filters are parsed by the input serializers and applied by selectors
    action_kinds = {}

    def access_action(self):
        """This call's action for core's access layer: the kind ClinicAccess checked."""
        kind = self.action_kinds.get(self.action) or ("read" if self.request.method in SAFE_METHODS else "write")
        return _ACCESS_ACTIONS.get(kind, kind)

    def visible(self, queryset):
        """The rows of a list this caller may see (the user, or the API key: request.user)."""
        return access.scope(self.request.user, queryset, access.VIEW)


# --- reference data -------------------------------------------------------------------------

@extend_schema_view(list=extend_schema(summary="Active providers and the visit types they offer",
                                       parameters=[OpenApiParameter("page_size", int)]))
class ProviderViewSet(mixins.ListModelMixin, _SchedulingViewSet):
    scopes = {"read": READ}
    perms = {"read": "scheduling.view_provider"}
    serializer_class = ProviderOutput

    def get_queryset(self):
        return selectors.provider_list()


@extend_schema_view(list=extend_schema(summary="Active visit types", parameters=[OpenApiParameter("page_size", int)]))
class VisitTypeViewSet(mixins.ListModelMixin, _SchedulingViewSet):
    scopes = {"read": READ}
    perms = {"read": "scheduling.view_visittype"}
    serializer_class = VisitTypeOutput

    def get_queryset(self):
        return selectors.visit_type_list()


# --- slots ----------------------------------------------------------------------------------

class SlotViewSet(_SchedulingViewSet):
    """Free-slot search, generation from availability, blocking."""

    scopes = {"read": READ, "write": WRITE, "generate": WRITE}
    perms = {"read": "scheduling.view_visitslot", "write": "scheduling.change_visitslot",
             "generate": "scheduling.change_availabilitywindow"}
    action_kinds = {"generate": "generate"}
    serializer_class = SlotOutput
    queryset = VisitSlot.objects.none()  # for the schema's path parameter type only
    pagination_class = RowsPagination  # the search answers rows of row_columns, page and total in one query
    row_columns = selectors.SLOT_SEARCH_COLUMNS

    @extend_schema(summary="Search FREE slots", parameters=[SlotSearchInput, OpenApiParameter("page_size", int)],
                   responses={200: SlotOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        # Rows (values() of row_columns), not model instances, rendered by SlotOutput's row
        # path; the total comes with the page. Two queries: the API key, the page.
        params = _parse(SlotSearchInput, request.query_params)
        slots = self.visible(selectors.slot_search(
            start=params["start"], end=params["end"], provider=params.get("provider"), visit_type=params.get("visit_type"),
            mode=params.get("mode"), location=params.get("location"),
        ))
        page = self.paginate_queryset(slots)
        return self.get_paginated_response(SlotOutput(page, many=True).data)

    @extend_schema(summary="A slot", responses={200: SlotOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        return Response(SlotOutput(self._get(pk)).data)

    def _get(self, pk):
        return selectors.access_slot(self.request.user, pk, self.access_action())

    @extend_schema(summary="Generate slots from availability, retiring FREE slots it no longer produces (idempotent)",
                   request=SlotGenerateInput,
                   responses={200: SlotGenerateOutput, 400: _ERRORS[400]})
    @action(detail=False, methods=["post"])
    def generate(self, request):
        data = _parse(SlotGenerateInput, request.data)
        result = services.slots_generate(days=data.get("days"), providers=data.get("providers"))
        return Response(SlotGenerateOutput(result).data)

    @extend_schema(summary="Block a FREE or HELD slot", request=ReasonInput, responses={200: SlotOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def block(self, request, pk=None):
        data = _parse(ReasonInput, request.data)
        slot = services.slot_block(slot=self._get(pk), actor=_actor(request), reason=data["reason"])
        return Response(SlotOutput(selectors.slot_get(slot.pk)).data)

    @extend_schema(summary="Unblock a BLOCKED slot", request=ReasonInput, responses={200: SlotOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def unblock(self, request, pk=None):
        data = _parse(ReasonInput, request.data)
        slot = services.slot_unblock(slot=self._get(pk), actor=_actor(request), reason=data["reason"])
        return Response(SlotOutput(selectors.slot_get(slot.pk)).data)


# --- visit requests -------------------------------------------------------------------------

def _request_action(summary, request_serializer=None):
    return extend_schema(summary=summary, request=request_serializer, responses={200: VisitRequestOutput, **_ERRORS})


class VisitRequestViewSet(_SchedulingViewSet):
    """Visit requests: creation with triage, staff triage, provider review, severity overrides,
    offers, walk-ins."""

    scopes = {"read": READ, "write": WRITE, "create": WRITE, "offer": WRITE}
    perms = {
        "read": "scheduling.view_visitrequest",
        "write": "scheduling.change_visitrequest",
        "create": "scheduling.add_visitrequest",
        "triage": "scheduling.triage_visitrequest",
        "review": "scheduling.review_visitrequest",
        "override": "scheduling.override_severity_visitrequest",
        "offer": "scheduling.offer_slots_visitrequest",
    }
    action_kinds = {
        "create": "create", "triage": "triage", "review": "review", "override_severity": "override",
        "offer": "offer", "accept": "offer", "decline": "offer", "assign_immediate": "offer",
    }
    serializer_class = VisitRequestOutput
    queryset = VisitRequest.objects.none()  # for the schema's path parameter type only

    def _get(self, pk):
        return selectors.access_visit_request(self.request.user, pk, self.access_action())

    def _answer(self, visit_request):
        return Response(VisitRequestOutput(selectors.visit_request_get(visit_request.pk)).data)

    @extend_schema(summary="Visit requests, oldest first",
                   parameters=[VisitRequestFilterInput, OpenApiParameter("page_size", int)],
                   responses={200: VisitRequestOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(VisitRequestFilterInput, request.query_params)
        qs = self.visible(selectors.visit_request_list(status=params.get("status"), severity=params.get("severity"),
                                                       request_type=params.get("type"), patient=params.get("patient"),
                                                       location=params.get("location")))
        page = self.paginate_queryset(qs)
        record_many("read", page, detail={"view": "api_visit_request_list"})
        return self.get_paginated_response(VisitRequestOutput(page, many=True).data)

    @extend_schema(summary="A visit request", responses={200: VisitRequestOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        visit_request = self._get(pk)
        record("read", visit_request)
        return Response(VisitRequestOutput(visit_request).data)

    @extend_schema(
        summary="Create a visit request (walk-in or scheduled), triaged at once",
        description="RED answers 201 with `outcome.emergency` true and the instructions to give the patient: "
                    "nothing can be scheduled for it and staff are alerted.",
        request=VisitRequestInput, responses={201: VisitRequestCreatedOutput, 400: _ERRORS[400]},
    )
    def create(self, request):
        data = _parse(VisitRequestInput, request.data)
        common = dict(patient=data["patient"], reason=data["reason"], symptoms=data["symptoms"], answers=data["answers"],
                      visit_type=data["visit_type"], actor=_actor(request))
        if data["request_type"] == VisitRequest.Type.WALK_IN:
            outcome = services.visit_request_create_walk_in(location=data["location"], **common)
        else:
            outcome = services.visit_request_create(
                request_type=data["request_type"], preferred_dates=data["preferred_dates"],
                preferred_mode=data["preferred_mode"], preferred_provider=data["preferred_provider"],
                location=data["location"], **common,
            )
        visit_request = outcome.request
        visit_request.outcome = {"emergency": outcome.emergency, "instructions": outcome.instructions,
                                 "can_self_book": outcome.can_self_book}
        return Response(VisitRequestCreatedOutput(visit_request).data, status=status.HTTP_201_CREATED)

    @_request_action("Triage a NEW request (optionally overriding the severity, with a reason)", TriageInput)
    @action(detail=True, methods=["post"])
    def triage(self, request, pk=None):
        data = _parse(TriageInput, request.data)
        visit_request = services.visit_request_triage(request=self._get(pk), actor=_actor(request), severity=data.get("severity"),
                                                      reason=data["reason"], visit_type=data["visit_type"])
        return self._answer(visit_request)

    @_request_action("A provider's review (required for ORANGE before offers)", ReviewInput)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        data = _parse(ReviewInput, request.data)
        visit_request = services.visit_request_review(request=self._get(pk), actor=_actor(request), note=data["note"],
                                                      severity=data.get("severity"))
        return self._answer(visit_request)

    @_request_action("Override the severity (the reason is kept)", OverrideSeverityInput)
    @action(detail=True, methods=["post"], url_path="override-severity")
    def override_severity(self, request, pk=None):
        data = _parse(OverrideSeverityInput, request.data)
        visit_request = services.visit_request_override_severity(request=self._get(pk), actor=_actor(request),
                                                                 severity=data["severity"], reason=data["reason"])
        return self._answer(visit_request)

    @_request_action("Offer 1 to 5 FREE slots, held until a deadline", OfferInput)
    @action(detail=True, methods=["post"])
    def offer(self, request, pk=None):
        data = _parse(OfferInput, request.data)
        visit_request = services.visit_request_offer_slots(request=self._get(pk), slots=data["slots"], actor=_actor(request),
                                                           hold_hours=data.get("hold_hours"), visit_type=data["visit_type"])
        return self._answer(visit_request)

    @extend_schema(summary="Accept one offered slot (for the patient): the visit is booked", request=AcceptInput,
                   responses={201: VisitOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        data = _parse(AcceptInput, request.data)
        visit = services.visit_request_accept_offer(request=self._get(pk), slot=data["slot"], actor=_actor(request))
        return Response(VisitOutput(selectors.visit_get(visit.pk)).data, status=status.HTTP_201_CREATED)

    @_request_action("Decline the offered slots (for the patient): back to TRIAGED", ReasonInput)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        data = _parse(ReasonInput, request.data)
        visit_request = services.visit_request_decline_offer(request=self._get(pk), actor=_actor(request), reason=data["reason"])
        return self._answer(visit_request)

    @extend_schema(summary="Walk-in: a visit now with a provider", request=AssignImmediateInput,
                   responses={201: VisitOutput, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="assign-immediate")
    def assign_immediate(self, request, pk=None):
        data = _parse(AssignImmediateInput, request.data)
        visit = services.visit_request_assign_immediate(request=self._get(pk), provider=data["provider"], actor=_actor(request),
                                                        visit_type=data["visit_type"])
        return Response(VisitOutput(selectors.visit_get(visit.pk)).data, status=status.HTTP_201_CREATED)

    @_request_action("Cancel a NEW or TRIAGED request", ReasonInput)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = _parse(ReasonInput, request.data)
        visit_request = services.visit_request_cancel(request=self._get(pk), actor=_actor(request), reason=data["reason"],
                                                      for_clinic=_for_clinic(request))
        return self._answer(visit_request)


# --- visits ---------------------------------------------------------------------------------

def _visit_action(summary, request_serializer=None):
    return extend_schema(summary=summary, request=request_serializer, responses={200: VisitOutput, **_ERRORS})


_VISIT_OUTPUT_RELATIONS = ("patient", "provider", "visit_type", "location")


def _shows_everything(visit):
    """The visit has every related row VisitOutput shows loaded (a visit just created by the
    booking services: the slot's lock loads the provider's user and the location), so the
    answer needs no re-read (selectors.visit_get)."""
    meta = Visit._meta
    return (all(meta.get_field(name).is_cached(visit) for name in _VISIT_OUTPUT_RELATIONS)
            and type(visit.provider)._meta.get_field("user").is_cached(visit.provider))


def _booked_body(visit):
    """The answer to a booking: the visit as VisitOutput shows it, from the booked visit itself
    when it has every row the output shows loaded, else read again."""
    return VisitOutput(visit if _shows_everything(visit) else selectors.visit_get(visit.pk)).data


def _owner(request):
    """Whose Idempotency-Keys these are: the API key, or the signed-in user."""
    return f"api_key:{request.auth.pk}" if access.is_api_key(request.auth) else f"user:{request.user.pk}"


class VisitViewSet(_SchedulingViewSet):
    """Booking and the visit lifecycle."""

    scopes = {"read": READ, "write": WRITE, "create": WRITE}
    perms = {"read": "scheduling.view_visit", "write": "scheduling.change_visit", "create": "scheduling.add_visit"}
    action_kinds = {"create": "create"}
    serializer_class = VisitOutput
    queryset = Visit.objects.none()  # for the schema's path parameter type only

    def _get(self, pk):
        return selectors.access_visit(self.request.user, pk, self.access_action())

    def _answer(self, visit):
        return Response(VisitOutput(selectors.visit_get(visit.pk)).data)

    @extend_schema(summary="Visits in start order", parameters=[VisitFilterInput, OpenApiParameter("page_size", int)],
                   responses={200: VisitOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(VisitFilterInput, request.query_params)
        qs = self.visible(selectors.visit_list(patient=params.get("patient"), provider=params.get("provider"),
                                               day=params.get("date")))
        page = self.paginate_queryset(qs)
        record_many("read", page, detail={"view": "api_visit_list"})
        return self.get_paginated_response(VisitOutput(page, many=True).data)

    @extend_schema(summary="A visit", responses={200: VisitOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        visit = self._get(pk)
        record("read", visit)
        return Response(VisitOutput(visit).data)

    @extend_schema(
        summary="Book a FREE slot for a patient (any active visit type the slot's provider offers)",
        description="The clinic books for the patient: any active visit type the slot's provider offers in the slot's "
                    "mode, self-bookable or not (`slot_does_not_fit` 400 otherwise). A patient with an open RED request "
                    "answers 400 `emergency_care_required`. A slot taken meanwhile answers 409 `slot_unavailable`. The "
                    "patient is told by SMS/email and reminded.\n\n"
                    "**Idempotency-Key** (as payment APIs have it): the first answer for a key, whatever its status, is "
                    "saved and every later request with the same key, the same patient and the same parameters gets that "
                    "same status and body again, with `Idempotent-Replayed: true`, and books nothing. A request sent "
                    "while the first one with its key is still running waits for it and answers its result. The same "
                    "key with a different slot, visit type or request answers 422 `idempotency_key_reused` and saves "
                    "nothing. Keys belong to the caller (API key or user) and the patient; a request refused before "
                    "it runs (400 for bad input, 401/403) saves nothing.",
        request=VisitInput,
        parameters=[OpenApiParameter(IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                                     description=f"Up to {MAX_IDEMPOTENCY_KEY} characters, unique per intended booking")],
        responses={201: VisitOutput, 400: _ERRORS[400], 409: _ERRORS[409],
                   422: OpenApiResponse(description="`idempotency_key_reused`: the key was used with other parameters")},
    )
    def create(self, request):
        data = _parse(VisitInput, request.data)
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise ValidationError({IDEMPOTENCY_HEADER: [f"At most {MAX_IDEMPOTENCY_KEY} characters."]})
        booking = dict(patient=data["patient"], slot=data["slot"], visit_type=data["visit_type"], request=data["request"],
                       actor=_actor(request))
        # Staff (scheduling.add_visit, checked by ClinicAccess) and integrators book for the clinic; patients are
        # refused before this (they book in the portal), their rules if not.
        by_clinic = _for_clinic(request) or request.user.is_staff
        if key:
            answer = services.visit_book_once(owner=_owner(request), key=key, by_clinic=by_clinic,
                                              for_clinic=_for_clinic(request), render=_booked_body, **booking)
            response = Response(answer.body, status=answer.status)
            if answer.replayed:
                response[REPLAYED_HEADER] = "true"
            return response
        if by_clinic:
            visit = services.visit_book_for_patient(for_clinic=_for_clinic(request), **booking)
        else:
            visit = services.booking_create(**booking)
        return Response(_booked_body(visit), status=status.HTTP_201_CREATED)

    @_visit_action("Check the patient in (PLANNED -> CHECKED_IN)")
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        return self._answer(services.visit_check_in(visit=self._get(pk), actor=_actor(request)))

    @_visit_action("Start the visit (CHECKED_IN -> IN_PROGRESS)")
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._answer(services.visit_start(visit=self._get(pk), actor=_actor(request)))

    @_visit_action("Complete the visit (IN_PROGRESS -> COMPLETED)")
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._answer(services.visit_complete(visit=self._get(pk), actor=_actor(request)))

    @_visit_action("Cancel a PLANNED visit (late cancels are recorded); the slot is freed", ReasonInput)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = _parse(ReasonInput, request.data)
        visit = services.visit_cancel(visit=self._get(pk), actor=_actor(request), reason=data["reason"],
                                      for_clinic=_for_clinic(request))
        return self._answer(visit)

    @_visit_action("Mark a PLANNED visit whose start has passed as a no-show")
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        return self._answer(services.visit_mark_no_show(visit=self._get(pk), actor=_actor(request)))

    @_visit_action("Move a PLANNED visit to another FREE slot, atomically", RescheduleInput)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        data = _parse(RescheduleInput, request.data)
        visit = services.visit_reschedule(visit=self._get(pk), new_slot=data["slot"], actor=_actor(request),
                                          reason=data["reason"], for_clinic=_for_clinic(request))
        return self._answer(visit)

