"""/api/v1/threads/ and /api/v1/patients/{id}/notification-preferences/ for staff and
integrators (scopes messaging:read, messaging:write). Patients use the portal."""
import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.services import record, record_many
from apps.core import access, validation
from apps.core.api.pagination import Pagination
from apps.core.api.permissions import ClinicAccess
from apps.core.exceptions import ValidationFailed
from apps.core.lookups import get_or_not_found
from apps.messaging import preferences, rules
from apps.messaging.threads import selectors, services
from apps.messaging.threads.attachments import download_response
from apps.messaging.threads.models import Attachment, Thread, unread_for_staff_q
from apps.messaging.threads.serializers import (
    MessageInput, MessageOutput, NotificationPreferences, ThreadCreateInput, ThreadOutput,
)
from apps.patients.models import Patient


def _actor(request):
    """Who asks, as core's access layer takes it: the integrator's key, or the staff user."""
    return request.auth if access.is_api_key(request.auth) else request.user


def _writer(request):
    """(author, api_key) for a service call."""
    if access.is_api_key(request.auth):
        return None, request.auth
    return request.user, None


class ThreadFilter(validation.StrictFilterSet):
    """Every filter refuses what it cannot read (a non-boolean `unread`, an `assigned_to` past
    64 bits, an empty `status`) with a 400 naming it, rather than ignoring it."""

    status = django_filters.ChoiceFilter(choices=Thread.Status.choices)
    patient = django_filters.UUIDFilter(field_name="patient_id")
    assigned_to = validation.Int64Filter(field_name="assigned_to_id", help_text="A staff user's id.")
    unassigned = validation.StrictBooleanFilter(field_name="assigned_to", lookup_expr="isnull")
    unread = validation.StrictBooleanFilter(method="filter_unread", label="Waiting for the care team")

    class Meta:
        model = Thread
        fields = ["status", "patient", "assigned_to", "unassigned", "unread"]

    def filter_unread(self, queryset, name, value):
        return queryset.filter(unread_for_staff_q()) if value else queryset.exclude(unread_for_staff_q())


@extend_schema_view(
    list=extend_schema(summary="Patient message threads", parameters=[OpenApiParameter("page_size", int)]),
    retrieve=extend_schema(summary="A thread"),
    create=extend_schema(summary="Start a thread with a patient", request=ThreadCreateInput, responses={201: ThreadOutput}),
)
class ThreadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Secure threads between patients and the care team."""

    permission_classes = [ClinicAccess]
    scopes = {"read": rules.READ_SCOPE, "write": rules.WRITE_SCOPE, "create": rules.WRITE_SCOPE}
    perms = {"read": rules.VIEW_PERM, "write": rules.REPLY_PERM, "create": rules.ADD_PERM}
    action_kinds = {"create": "create"}
    serializer_class = ThreadOutput
    filterset_class = ThreadFilter
    lookup_value_converter = "uuid"

    queryset = Thread.objects.none()  # the model, for the schema; get_queryset() answers requests

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return Thread.objects.none()
        # The rows this key or staff user may see (core's access rule for Thread); retrieve's
        # get_object() looks the id up in them, so a missing one is 404.
        return access.scope(_actor(self.request), selectors.staff_threads(), rules.VIEW)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        record_many("read", page, detail={"view": "api_thread_list"})
        return self.get_paginated_response(ThreadOutput(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        thread = self.get_object()
        record("read", thread, detail={"view": "api_thread"})
        return Response(ThreadOutput(thread).data)

    def create(self, request, *args, **kwargs):
        data = ThreadCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        patient = Patient.objects.active().filter(pk=data.validated_data["patient"]).first()
        if patient is None:
            raise ValidationFailed({"patient": ["No active patient has this id."]})
        author, api_key = _writer(request)
        thread = services.thread_create(
            patient=patient, subject=data.validated_data["subject"], body=data.validated_data["body"],
            author=author, api_key=api_key,
        )
        thread = self.get_queryset().get(pk=thread.pk)
        return Response(ThreadOutput(thread).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], summary="Messages of a thread, oldest first",
        parameters=[OpenApiParameter("page_size", int)], responses=MessageOutput(many=True), filters=False,
    )
    @extend_schema(
        methods=["POST"], summary="Post a message to a thread", request=MessageInput,
        responses={201: MessageOutput, 409: OpenApiResponse(description="The thread is closed.")}, filters=False,
    )
    # pagination_class: the GET answers a page (paginated below), and the schema says so.
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=Pagination)
    def messages(self, request, pk=None):
        thread = selectors.access_thread(_actor(request), pk, rules.REPLY if request.method == "POST" else rules.VIEW)
        if request.method == "POST":
            data = MessageInput(data=request.data)
            data.is_valid(raise_exception=True)
            author, api_key = _writer(request)
            message = services.message_post(thread=thread, body=data.validated_data["body"], author=author, api_key=api_key,
                                            files=data.validated_data["attachments"])
            message = selectors.thread_messages(thread).get(pk=message.pk)
            return Response(MessageOutput(message).data, status=status.HTTP_201_CREATED)
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.thread_messages(thread), request, view=self)
        record("read", thread, detail={"view": "api_thread_messages"})
        return paginator.get_paginated_response(MessageOutput(page, many=True).data)


    @extend_schema(
        summary="Download an attachment of a thread", filters=False,
        parameters=[OpenApiParameter("attachment_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: OpenApiResponse(description="No such attachment in this thread.")},
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[^/.]+)", url_name="attachment",
            filterset_class=None, pagination_class=None)
    def attachment(self, request, pk=None, attachment_id=None):
        """The file, as the portal's download gives it (nosniff, sandboxed, not cached), to a key
        with messaging:read or staff who may view threads; audited on the patient's record."""
        thread = selectors.access_thread(_actor(request), pk, rules.VIEW)
        attachment = get_or_not_found(Attachment.objects.filter(message__thread=thread).select_related("message"), pk=attachment_id)
        record("read", attachment, patient_id=thread.patient_id, detail={"view": "api_attachment_download"})
        return download_response(attachment)


class NotificationPreferencesView(APIView):
    """A patient's SMS and email opt-in and quiet hours (messaging:read / messaging:write;
    staff need patients.view_patient / patients.change_patient)."""

    permission_classes = [ClinicAccess]
    scopes = {"read": "messaging:read", "write": "messaging:write"}
    perms = {"read": "patients.view_patient", "write": "patients.change_patient"}

    def _patient(self, patient_id):
        # The endpoint's own scopes (messaging:*) and permissions (patients.*) were checked by
        # ClinicAccess; core's Patient rule asks patients:* scopes of a key, which integrators
        # of this endpoint need not hold, so the record is looked up as the endpoint allows.
        return get_or_not_found(Patient.objects.all(), pk=patient_id)

    @extend_schema(summary="A patient's notification preferences", responses=NotificationPreferences)
    def get(self, request, patient_id):
        patient = self._patient(patient_id)
        record("read", patient, detail={"view": "api_notification_preferences"})
        return Response(NotificationPreferences(preferences.notification_preferences(patient)).data)

    @extend_schema(summary="Change a patient's notification preferences", request=NotificationPreferences, responses=NotificationPreferences)
    def patch(self, request, patient_id):
        patient = self._patient(patient_id)
        data = NotificationPreferences(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        patient = preferences.notification_preferences_update(patient=patient, data=dict(data.validated_data))
        return Response(NotificationPreferences(preferences.notification_preferences(patient)).data)
