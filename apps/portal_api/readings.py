"""/api/v1/portal/readings/: health data from the patient's phone (README "Patient app API").

Thin over apps/records: the app posts readings its phone collected (steps, heart rate, blood
pressure, weight, glucose) and they are stored as patient-reported observations by
records.services.record_readings, through readings_post, which the offline sync also calls for
queued readings (action type `reading`); new readings reach the sync feed (kind `reading`). The
patient turns syncing on and off per type. Reads are the patient's own rows (core's access
layer), audited."""
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.audit.services import record, record_list
from apps.core import access
from apps.core.validation import QueryInput
from apps.portal_api import changes
from apps.portal_api.api import PortalListView, PortalView, _errors
from apps.portal_api.models import SyncChange
from apps.records import selectors, services
from apps.records.models import PatientReading, ReadingKind
from apps.records.services.readings import MAX_READINGS


class ReadingInput(serializers.Serializer):
    """One reading, as the app sends it (the service checks every field: ranges, units, time)."""

    kind = serializers.ChoiceField(choices=ReadingKind.choices)
    value = serializers.FloatField(help_text="The value; for blood pressure the systolic")
    diastolic = serializers.FloatField(required=False, help_text="Blood pressure only")
    unit = serializers.CharField(help_text="steps; /min or bpm; mm[Hg] or mmHg; kg or lb; mg/dL or mmol/L")
    measured_at = serializers.DateTimeField(help_text="ISO 8601 with an offset")
    source = serializers.CharField(max_length=100, help_text="The device or app that measured it")


class ReadingsInput(serializers.Serializer):
    readings = ReadingInput(many=True, help_text=f"At most {MAX_READINGS}")


class ReadingOutput(serializers.ModelSerializer):
    value = serializers.DecimalField(max_digits=9, decimal_places=2, coerce_to_string=False)
    diastolic = serializers.DecimalField(max_digits=9, decimal_places=2, coerce_to_string=False, allow_null=True)

    class Meta:
        model = PatientReading
        fields = ["id", "kind", "value", "diastolic", "unit", "measured_at", "source", "patient_reported", "created_at"]


class ReadingsRecordedOutput(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Ignored: the same type, source and time is stored already")
    readings = ReadingOutput(many=True)


class ReadingFilterInput(QueryInput):
    kind = serializers.ChoiceField(choices=ReadingKind.choices, required=False)


PERMISSIONS = {kind: serializers.BooleanField(required=False) for kind in ReadingKind.values}
ReadingPermissionsBody = type("ReadingPermissionsBody", (serializers.Serializer,), dict(PERMISSIONS))


def readings_post(request, data):
    """(status, body) of POST portal/readings/: the live view and the offline sync's `reading`
    action (offline.py) both come here. The body goes to the service as JSON gave it: the
    service checks each field and names it ("readings.3.value"). The readings it stores are
    made in bulk (no post_save), so their sync-feed rows are written here, in one INSERT in the
    same transaction (changes.objects_new_record)."""
    body = data if isinstance(data, dict) else {}
    with transaction.atomic():
        result = services.record_readings(request.patient, body.get("readings"), request.user)
        changes.objects_new_record(kind=SyncChange.Kind.READING, patient=request.patient,
                                   object_ids=[row.pk for row in result.created])
    return (status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
            {"accepted": len(result.created), "duplicates": result.duplicates,
             "readings": ReadingOutput(result.created, many=True).data})


class ReadingsView(PortalListView):
    @extend_schema(summary="My readings from the phone, newest first",
                   parameters=[ReadingFilterInput, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
                   responses={200: ReadingOutput(many=True), **_errors(400)})
    def get(self, request):
        params = ReadingFilterInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = access.scope(request.user, selectors.readings(), access.VIEW).order_by("-measured_at", "kind")
        if params.validated_data.get("kind"):
            rows = rows.filter(kind=params.validated_data["kind"])
        page = self.paginate_queryset(rows)
        record_list("read", page, detail={"view": "app_readings"})
        return self.get_paginated_response(ReadingOutput(page, many=True).data)

    @extend_schema(summary="Send readings the phone collected (patient-reported)", request=ReadingsInput,
                   responses={201: ReadingsRecordedOutput, 200: ReadingsRecordedOutput, **_errors(400)})
    def post(self, request):
        code, body = readings_post(request, request.data)
        return Response(body, status=code)


class ReadingPermissionsView(PortalView):
    @extend_schema(summary="Which types of reading the app may sync", responses={200: ReadingPermissionsBody, **_errors()})
    def get(self, request):
        record("read", object_type="records.readingpermission", patient_id=request.patient.pk,
               detail={"view": "app_reading_permissions"})
        return Response(selectors.reading_permissions(request.patient))

    @extend_schema(summary="Turn syncing of types of reading on or off", request=ReadingPermissionsBody,
                   responses={200: ReadingPermissionsBody, **_errors(400)})
    def patch(self, request):
        return Response(services.reading_permissions_set(patient=request.patient, changes=request.data,
                                                         actor=request.user))
