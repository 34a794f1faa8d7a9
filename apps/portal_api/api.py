"""/api/v1/portal/: the signed-in patient's own data, for phone apps (README "Patient app API").

Thin by design, over the same selectors and services as the portal pages, so a rule lives in
one place: booking, cancelling and moving a visit answer the same 400 (a rule such as the
cancellation window), 409 (a slot taken meanwhile) and 404 (not yours) as the portal. Every
object named by id is read through the patient-scoped access selectors: another patient's id
is 404, like a missing one. Every read of patient data is audited."""
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.generics import GenericAPIView
from rest_framework.views import APIView

from apps.audit.services import record, record_many
from apps.core.api.pagination import Pagination
from apps.messaging import preferences
from apps.messaging import selectors as messaging_selectors
from apps.messaging import services as messaging_services
from apps.messaging.threads import selectors as thread_selectors
from apps.messaging.threads import services as thread_services
from apps.patients.services import patient_update_contact
from apps.portal_api import serializers as s
from apps.portal_api.operations import appointment_body, appointment_book, parse, thread_reply, thread_start
from apps.portal_api.permissions import IsPatient
from apps.scheduling import selectors, services
from apps.scheduling.models import IdempotencyRecord

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

ERRORS = {
    400: OpenApiResponse(description="Bad input or a rule refused it: {code, message, extra: {fields}}"),
    401: OpenApiResponse(description="Not signed in, or the session token ended: sign in again"),
    403: OpenApiResponse(description="Not a patient, or the patient record is not ready yet"),
    404: OpenApiResponse(description="No such object of yours"),
    409: OpenApiResponse(description="Conflict: a slot taken meanwhile, a visit that can no longer change"),
}


def _errors(*codes):
    return {code: ERRORS[code] for code in (401, 403, *codes)}


# The name the other modules of this app import (devices.py, notifications.py).
_parse = parse


def _answer(result):
    status_code, body = result
    return Response(body, status=status_code)


class PortalView(APIView):
    permission_classes = [IsPatient]


class PortalListView(GenericAPIView):
    """A view whose GET answers a page (the API's Pagination): the schema says so too."""

    permission_classes = [IsPatient]
    pagination_class = Pagination
    filter_backends = []


# --- profile and preferences ---------------------------------------------------------------

class ProfileView(PortalView):
    @extend_schema(summary="My profile", responses={200: s.AppProfileOutput, **_errors()})
    def get(self, request):
        record("read", request.patient, detail={"view": "app_profile"})
        return Response(s.AppProfileOutput(request.patient).data)

    @extend_schema(summary="Change my contact details and preferences", request=s.AppProfileInput,
                   responses={200: s.AppProfileOutput, **_errors(400)})
    def patch(self, request):
        data = parse(s.AppProfileInput, request.data, instance=request.patient, partial=True)
        patient = patient_update_contact(patient=request.patient, data=dict(data))
        return Response(s.AppProfileOutput(patient).data)


class PreferencesView(PortalView):
    @extend_schema(summary="My notification preferences", responses={200: s.AppPreferencesOutput, **_errors()})
    def get(self, request):
        record("read", request.patient, detail={"view": "app_notification_preferences"})
        return Response(s.AppPreferencesOutput(preferences.notification_preferences(request.patient)).data)

    @extend_schema(summary="Change my notification preferences", request=s.AppPreferencesInput,
                   responses={200: s.AppPreferencesOutput, **_errors(400)})
    def patch(self, request):
        data = parse(s.AppPreferencesInput, request.data)
        patient = preferences.notification_preferences_update(patient=request.patient, data=dict(data))
        return Response(s.AppPreferencesOutput(preferences.notification_preferences(patient)).data)


# --- what can be booked ------------------------------------------------------------------

class VisitTypesView(PortalView):
    @extend_schema(summary="Visit types I may book myself", responses={200: s.AppVisitTypeOutput(many=True), **_errors()})
    def get(self, request):
        return Response(s.AppVisitTypeOutput(selectors.self_bookable_visit_types(), many=True).data)


class AvailabilityView(PortalView):
    @extend_schema(summary="Free times on a day for a visit type", parameters=[s.AppAvailabilityInput],
                   responses={200: s.AppAvailabilityOutput, **_errors(400)})
    def get(self, request):
        params = parse(s.AppAvailabilityInput, request.query_params)
        day = params.get("day") or timezone.localdate()
        if day < timezone.localdate():
            raise ValidationError({"day": ["Choose today or a later day."]})
        slots = selectors.free_slots_on_day(day=day, visit_type=params["visit_type"], provider=params.get("provider"))
        following = selectors.next_free_slot(after_day=day, visit_type=params["visit_type"], provider=params.get("provider"))
        return Response(s.AppAvailabilityOutput({
            "day": day, "slots": slots, "next_day": following.local_start().date() if following else None,
        }).data)


# --- appointments ---------------------------------------------------------------------------

def _appointment_body(visit):
    return appointment_body(selectors.access_visit_for_patient(visit.patient.user, visit.pk), timezone.now())


class AppointmentsView(PortalListView):
    @extend_schema(summary="My appointments (upcoming soonest first, or past latest first)",
                   parameters=[s.AppAppointmentFilterInput, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
                   responses={200: s.AppAppointmentOutput(many=True), **_errors(400)})
    def get(self, request):
        params = parse(s.AppAppointmentFilterInput, request.query_params)
        now = timezone.now()
        rows = (selectors.portal_past_visits if params["when"] == "past" else selectors.portal_upcoming_visits)(request.patient, now=now)
        page = self.paginate_queryset(rows)
        record_many("read", page, detail={"view": "app_appointments"})
        return self.get_paginated_response([appointment_body(v, now) for v in page])

    @extend_schema(
        summary="Book a free time",
        description="The patient's own booking, with the portal's rules (a self-bookable visit type the slot fits; "
                    "no booking while an emergency request is open). A slot taken meanwhile answers 409 "
                    "`slot_unavailable`. With an **Idempotency-Key** a repeated request (a retry, a double tap) gets the "
                    "first answer again with `Idempotent-Replayed: true` and books nothing; the same key with another "
                    "slot or visit type answers 422.",
        request=s.AppBookInput,
        parameters=[OpenApiParameter(IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
        responses={201: s.AppAppointmentOutput, **_errors(400, 409),
                   422: OpenApiResponse(description="`idempotency_key_reused`: the key was used with other parameters")},
    )
    def post(self, request):
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if not key:
            return _answer(appointment_book(request, request.data))
        data = parse(s.AppBookInput, request.data)
        if len(key) > IdempotencyRecord.MAX_KEY_LENGTH:
            raise ValidationError({IDEMPOTENCY_HEADER: [f"At most {IdempotencyRecord.MAX_KEY_LENGTH} characters."]})
        answer = services.visit_book_once(owner=f"user:{request.user.pk}", key=key, by_clinic=False, render=_appointment_body,
                                          patient=request.patient, slot=data["slot"], visit_type=data["visit_type"],
                                          request=None, actor=request.user)
        response = Response(answer.body, status=answer.status)
        if answer.replayed:
            response[REPLAYED_HEADER] = "true"
        return response


class AppointmentView(PortalView):
    @extend_schema(summary="One of my appointments", responses={200: s.AppAppointmentOutput, **_errors(404)})
    def get(self, request, visit_id):
        visit = selectors.access_visit_for_patient(request.user, visit_id)
        record("read", visit, detail={"view": "app_appointment"})
        return Response(appointment_body(visit, timezone.now()))


class AppointmentCancelView(PortalView):
    @extend_schema(summary="Cancel my appointment (outside the cancellation window)", request=s.AppCancelInput,
                   responses={200: s.AppAppointmentOutput, **_errors(400, 404, 409)})
    def post(self, request, visit_id):
        visit = selectors.access_visit_for_patient(request.user, visit_id)
        data = parse(s.AppCancelInput, request.data)
        visit = services.visit_cancel(visit=visit, actor=request.user, reason=data["reason"])
        return Response(_appointment_body(visit))


class AppointmentRescheduleView(PortalView):
    @extend_schema(summary="Move my appointment to another free time (outside the cancellation window)",
                   request=s.AppRescheduleInput, responses={200: s.AppAppointmentOutput, **_errors(400, 404, 409)})
    def post(self, request, visit_id):
        visit = selectors.access_visit_for_patient(request.user, visit_id)
        data = parse(s.AppRescheduleInput, request.data)
        visit = services.visit_reschedule(visit=visit, new_slot=data["slot"], actor=request.user, reason="Moved by the patient in the app")
        return Response(_appointment_body(visit))


# --- notification inbox ---------------------------------------------------------------------

class NotificationsView(PortalListView):
    @extend_schema(summary="My notifications, newest first",
                   parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
                   responses={200: s.AppNotificationOutput(many=True), **_errors(400)})
    def get(self, request):
        page = self.paginate_queryset(messaging_selectors.notifications_for(request.user))
        return self.get_paginated_response(s.AppNotificationOutput(page, many=True).data)


class NotificationReadView(PortalView):
    @extend_schema(summary="Mark one notification read", request=None, responses={200: s.AppUnreadOutput, **_errors(404)})
    def post(self, request, notification_id):
        notification = messaging_selectors.access_notification(request.user, notification_id)
        messaging_services.notification_mark_read(user=request.user, notification=notification)
        return Response({"unread": messaging_selectors.unread_count(request.user)})


class NotificationsReadAllView(PortalView):
    @extend_schema(summary="Mark every notification read", request=None, responses={200: s.AppUnreadOutput, **_errors()})
    def post(self, request):
        messaging_services.notification_mark_all_read(user=request.user)
        return Response({"unread": 0})


class UnreadCountView(PortalView):
    @extend_schema(summary="How many notifications are unread", responses={200: s.AppUnreadOutput, **_errors()})
    def get(self, request):
        return Response({"unread": messaging_selectors.unread_count(request.user)})


# --- secure messages with the care team -------------------------------------------------------

class ThreadsView(PortalListView):
    @extend_schema(summary="My message threads, newest activity first",
                   parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
                   responses={200: s.AppThreadOutput(many=True), **_errors(400)})
    def get(self, request):
        page = self.paginate_queryset(thread_selectors.threads_for_patient(request.patient))
        record_many("read", page, detail={"view": "app_threads"})
        return self.get_paginated_response(s.AppThreadOutput(page, many=True).data)

    @extend_schema(summary="Write to my care team (a new thread)", request=s.AppThreadStartInput,
                   responses={201: s.AppThreadOutput, **_errors(400)})
    def post(self, request):
        return _answer(thread_start(request, request.data))


class ThreadMessagesView(PortalListView):
    @extend_schema(summary="The messages of one of my threads, oldest first (reading marks them read)",
                   parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
                   responses={200: s.AppMessageOutput(many=True), **_errors(400, 404)})
    def get(self, request, thread_id):
        thread = thread_selectors.access_thread(request.user, thread_id)
        page = self.paginate_queryset(thread_selectors.thread_messages(thread))
        record("read", thread, detail={"view": "app_thread_messages"})
        if page:
            thread_services.thread_mark_read(thread=thread, user=request.user, up_to=max(m.created_at for m in page))
        return self.get_paginated_response(s.AppMessageOutput(page, many=True).data)

    @extend_schema(summary="Reply in one of my threads", request=s.AppReplyInput,
                   responses={201: s.AppMessageOutput, **_errors(400, 404),
                              409: OpenApiResponse(description="The thread is closed")})
    def post(self, request, thread_id):
        return _answer(thread_reply(request, thread_id, request.data))
