"""The telehealth API (/api/v1/telehealth/): sessions (list, retrieve, join token, start, end,
quality), the waiting-room entry (enter, device check, pre-visit answers, leave), admission and
"running late", and the staff queue.

Thin: parse with serializers.py, call a selector or a service, render. Access: integrators by
scope (telehealth:read / telehealth:write; never a join token or an admission), staff by
permission after their second factor, and, unlike most of the API, patients signed in to the
portal for their own sessions (the waiting-room page calls these endpoints): every session
named by id is read through core's access layer, so another patient's is a 404. Refusals are
409 with a stable code (waiting_room_not_open, telehealth_consent_required,
provider_not_licensed, patient_state_required, not_admitted, invalid_transition...)."""
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.services import record, record_many
from apps.core import access
from apps.core.exceptions import PermissionDenied
from apps.telehealth import rules, selectors, services
from apps.telehealth.models import Recording, TelehealthSession
from apps.telehealth.serializers import (
    AnswersInput, DeviceCheckInput, EndInput, EntryOutput, JoinTokenOutput, QualityInput, QueueRowOutput,
    RebookInput, RecordingFilterInput, RecordingOutput, RecordingUploadInput, RunningLateInput, SessionFilterInput, SessionOutput,
    StartInput,
)

_ERRORS = {
    400: OpenApiResponse(description="Bad input: {code, message, extra: {fields}}"),
    403: OpenApiResponse(description="Not permitted (not_a_participant, not_the_patient, permission_denied)"),
    404: OpenApiResponse(description="No such session for this caller"),
    409: OpenApiResponse(description="Refused with a stable code: waiting_room_not_open, telehealth_consent_required, "
                                     "provider_not_licensed, patient_state_required, not_in_waiting_room, not_admitted, "
                                     "session_closed, video_provider_unavailable, invalid_transition"),
}


class TelehealthAccess(BasePermission):
    """API keys by scope; staff (verified: MFASessionAuthentication) by the permission; a
    patient with a record for their own sessions (narrowed by core's access layer)."""

    def has_permission(self, request, view):
        wanted = getattr(view, "access_action", lambda: access.VIEW)()
        actor = request.auth if access.is_api_key(request.auth) else request.user
        return access.may(actor, TelehealthSession, wanted)


def _actor(request):
    return request.auth if access.is_api_key(request.auth) else request.user


def _parse(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _user_only(request):
    if access.is_api_key(request.auth):
        raise PermissionDenied("Only a signed-in person can do this.", code="user_required")
    return request.user


def _the_patient(request, session):
    user = _user_only(request)
    if services.participant_role(session, user) != services.GUEST:
        raise PermissionDenied("Only the visit's patient can do this.", code="not_the_patient")
    return user


class TelehealthSessionViewSet(viewsets.GenericViewSet):
    permission_classes = [TelehealthAccess]
    lookup_value_converter = "uuid"
    filter_backends = []
    serializer_class = SessionOutput
    queryset = TelehealthSession.objects.none()
    action_access = {"admit": rules.ADMIT}

    def access_action(self):
        if self.action in self.action_access:
            return self.action_access[self.action]
        return access.VIEW if self.request.method in ("GET", "HEAD", "OPTIONS") else access.CHANGE

    def _get(self, pk):
        return selectors.access_session(_actor(self.request), pk, self.access_action())

    def _answer(self, session, code=status.HTTP_200_OK):
        return Response(SessionOutput(selectors.sessions().get(pk=session.pk)).data, status=code)

    @extend_schema(summary="Video sessions, soonest first", parameters=[SessionFilterInput, OpenApiParameter("page_size", int)],
                   responses={200: SessionOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(SessionFilterInput, request.query_params)
        rows = access.scope(_actor(request), selectors.sessions(), access.VIEW).order_by("scheduled_start", "id")
        if params.get("status"):
            rows = rows.filter(status=params["status"])
        page = self.paginate_queryset(rows)
        record_many("read", page, detail={"view": "api_telehealth_sessions"})
        return self.get_paginated_response(SessionOutput(page, many=True).data)

    @extend_schema(summary="A video session", responses={200: SessionOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        session = self._get(pk)
        record("read", session)
        return Response(SessionOutput(session).data)

    @extend_schema(summary="A join token for the signed-in participant (the patient once admitted, or the provider)",
                   request=None, responses={200: JoinTokenOutput, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="join-token")
    def join_token(self, request, pk=None):
        session = self._get(pk)
        user = _user_only(request)
        session, token = services.session_join_token(session=session, user=user)
        record("read", session, detail={"view": "api_telehealth_join_token"})
        return Response(JoinTokenOutput({**token.__dict__, "role": services.participant_role(session, user)}).data)

    @extend_schema(summary="Enter the waiting room (the patient; opens TELEHEALTH_WAITING_ROOM_OPENS_MINUTES before)",
                   request=None, responses={200: EntryOutput, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="waiting-room")
    def waiting_room(self, request, pk=None):
        session = self._get(pk)
        entry = services.waiting_room_enter(session=session, actor=_the_patient(request, session))
        return Response(EntryOutput(entry).data)

    @extend_schema(summary="Store the browser's device check (camera, microphone, connection)", request=DeviceCheckInput,
                   responses={200: EntryOutput, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="waiting-room/device-check")
    def device_check(self, request, pk=None):
        data = _parse(DeviceCheckInput, request.data)
        session = self._get(pk)
        entry = services.waiting_room_device_check(session=session, actor=_the_patient(request, session), data=data)
        return Response(EntryOutput(entry).data)

    @extend_schema(summary="Answer the pre-visit questions (current US state, at home)", request=AnswersInput,
                   responses={200: EntryOutput, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="waiting-room/answers")
    def answers(self, request, pk=None):
        data = _parse(AnswersInput, request.data)
        session = self._get(pk)
        entry = services.waiting_room_answer(session=session, actor=_the_patient(request, session), **data)
        return Response(EntryOutput(entry).data)

    @extend_schema(summary="Leave the waiting room", request=None, responses={200: SessionOutput, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="waiting-room/leave")
    def leave(self, request, pk=None):
        session = self._get(pk)
        services.waiting_room_leave(session=session, actor=_the_patient(request, session))
        return self._answer(session)

    @extend_schema(summary="Admit the waiting patient (consent and licensure gates; the visit is checked in)",
                   request=None, responses={200: SessionOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def admit(self, request, pk=None):
        session = self._get(pk)
        services.waiting_room_admit(session=session, actor=_user_only(request))
        return self._answer(session)

    @extend_schema(summary="Tell the waiting patient the provider is running late", request=RunningLateInput,
                   responses={200: SessionOutput, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="running-late")
    def running_late(self, request, pk=None):
        data = _parse(RunningLateInput, request.data)
        session = self._get(pk)
        if not access.is_staff(request.user):
            raise PermissionDenied()
        services.waiting_room_running_late(session=session, actor=request.user, **data)
        return self._answer(session)

    @extend_schema(summary="Start the call (the provider; licensure gate; the visit goes in progress)", request=StartInput,
                   responses={200: SessionOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        data = _parse(StartInput, request.data)
        session = self._get(pk)
        user = _user_only(request)
        if services.participant_role(session, user) != services.HOST:
            raise PermissionDenied("Only the visit's provider can start the call.", code="not_the_provider")
        return self._answer(services.session_start(session=session, actor=user, provider_state=data["provider_state"]))

    @extend_schema(summary="End the call (COMPLETED, the visit completed), or mark TECHNICAL_ISSUES", request=EndInput,
                   responses={200: SessionOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        data = _parse(EndInput, request.data)
        session = self._get(pk)
        actor = _actor(request)
        if data["technical_issues"]:
            services.session_mark_technical_issues(session=session, actor=actor, reason=data["reason"] or "Technical issues")
        else:
            services.session_end(session=session, actor=actor, reason=data["reason"] or "Call ended")
        return self._answer(session)

    @extend_schema(summary="Report this side's call quality (getStats: rtt, loss, bitrate)", request=QualityInput,
                   responses={200: SessionOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def quality(self, request, pk=None):
        data = _parse(QualityInput, request.data)
        session = self._get(pk)
        user = _user_only(request)
        if services.participant_role(session, user) is None:
            raise PermissionDenied("Only the call's participants report its quality.", code="not_a_participant")
        return self._answer(services.session_save_quality(session=session, actor=user, metrics=data))


    @extend_schema(summary="Rebook a session that ended with technical issues (a new visit and session), or give an "
                           "open one to another provider's slot (licensure); through scheduling's services",
                   request=RebookInput, responses={200: SessionOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def rebook(self, request, pk=None):
        session = self._get(pk)  # a session that is not there is a 404 before the body is read
        data = _parse(RebookInput, request.data)
        if not access.is_staff(request.user):
            raise PermissionDenied("Only staff rebook or reassign a video visit.", code="staff_only")
        moved = services.session_move_to_slot(session=session, slot_id=data["slot"], actor=request.user)
        return self._answer(moved)

    @extend_schema(summary="Start recording the call (the provider; the patient's RECORDING consent is verified)",
                   request=None, responses={201: RecordingOutput, **_ERRORS})
    @action(detail=True, methods=["post"], url_path="recordings")
    def record(self, request, pk=None):
        session = self._get(pk)
        recording = services.recording_start(session=session, actor=_user_only(request))
        return Response(RecordingOutput(selectors.recordings().get(pk=recording.pk)).data, status=status.HTTP_201_CREATED)


class RecordingAccess(BasePermission):
    """Staff by permission, keys by scope; a signed-in patient is let through to the access
    layer, which answers 404 for every recording (as for anything not theirs)."""

    def has_permission(self, request, view):
        actor = _actor(request)
        if not (access.is_api_key(actor) or access.is_staff(actor)):
            return access.patient_of(actor) is not None
        return access.may(actor, Recording, view.access_action())


class RecordingViewSet(viewsets.GenericViewSet):
    """Recordings of video visits: the list and one (staff who may see recordings, integrators
    with telehealth:read), the media (staff who may play recordings; never an API key), and the
    upload of the built-in provider's recording by the visit's provider. Every access is
    audited; a patient gets 404 for every recording."""

    permission_classes = [RecordingAccess]
    lookup_value_converter = "uuid"
    filter_backends = []
    serializer_class = RecordingOutput
    queryset = Recording.objects.none()

    def access_action(self):
        return {"download": rules.MEDIA, "upload": access.VIEW}.get(self.action, access.VIEW)

    @extend_schema(summary="Recordings of video visits, newest first", parameters=[RecordingFilterInput],
                   responses={200: RecordingOutput(many=True), 400: _ERRORS[400]})
    def list(self, request):
        params = _parse(RecordingFilterInput, request.query_params)
        rows = access.scope(_actor(request), selectors.recordings(), access.VIEW).order_by("-started_at", "id")
        if params.get("session"):
            rows = rows.filter(session_id=params["session"])
        if params.get("status"):
            rows = rows.filter(status=params["status"])
        page = self.paginate_queryset(rows)
        record_many("read", page, detail={"view": "api_telehealth_recordings"})
        return self.get_paginated_response(RecordingOutput(page, many=True).data)

    @extend_schema(summary="A recording", responses={200: RecordingOutput, 404: _ERRORS[404]})
    def retrieve(self, request, pk=None):
        recording = selectors.access_recording(_actor(request), pk)
        record("read", recording, detail={"view": "api_telehealth_recording"})
        return Response(RecordingOutput(recording).data)

    @extend_schema(summary="Download a stored recording (staff who may play recordings)",
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **_ERRORS})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        recording = selectors.access_recording(_actor(request), pk, rules.MEDIA)
        handle = selectors.recording_open(recording)
        record("read", recording, detail={"view": "api_telehealth_recording_download"})
        response = FileResponse(handle, as_attachment=True, content_type=recording.content_type,
                                filename=f"recording-{recording.pk}.{recording.file.name.rsplit('.', 1)[-1]}")
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(summary="Upload the built-in provider's recording (the visit's provider, when the call ends)",
                   request={"multipart/form-data": RecordingUploadInput}, responses={200: RecordingOutput, **_ERRORS})
    @action(detail=True, methods=["post"])
    def upload(self, request, pk=None):
        user = _user_only(request)
        recording = selectors.access_recording(user, pk)
        data = _parse(RecordingUploadInput, request.data)
        recording = services.recording_store(recording=recording, actor=user, upload=data["file"])
        return Response(RecordingOutput(selectors.recordings().get(pk=recording.pk)).data)


class QueueView(APIView):
    """The virtual queue for staff: who is waiting (or admitted, not yet in the call), for
    which provider, since when, device check, state, consent status and licensure."""

    permission_classes = [TelehealthAccess]

    def access_action(self):
        return access.VIEW

    @extend_schema(summary="The virtual waiting-room queue (staff and integrators)", responses={200: QueueRowOutput(many=True)})
    def get(self, request):
        actor = _actor(request)
        if not (access.is_api_key(actor) or access.is_staff(actor)):
            raise PermissionDenied()
        rows = selectors.queue()
        record_many("read", [row["session"] for row in rows], detail={"view": "api_telehealth_queue"})
        data = [{**row, "patient_name": row["session"].patient.display_name} for row in rows]
        return Response(QueueRowOutput(data, many=True).data)
