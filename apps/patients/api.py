import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from apps.audit.services import record, record_list
from apps.core import access, validation
from apps.core.api.pagination import RowsPagination
from apps.core.api.permissions import ClinicAccess
from apps.patients import selectors, services
from apps.patients.models import Patient
from apps.patients.serializers import PatientInput, PatientOutput


class SupportedDateFilter(django_filters.DateFilter):
    """A date within the supported years (validation.DateField): year 1 or 9999 is a 400 naming
    the parameter."""

    field_class = validation.DateField


class PatientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Name, MRN or phone")
    date_of_birth = SupportedDateFilter()
    mrn = django_filters.CharFilter()
    phone = django_filters.CharFilter(method="filter_phone")

    class Meta:
        model = Patient
        fields = ["q", "date_of_birth", "mrn", "phone"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    def filter_phone(self, queryset, name, value):
        return queryset.filter(selectors.phone_filter(value)) if value else queryset


@extend_schema_view(
    list=extend_schema(summary="Search patients", parameters=[OpenApiParameter("page_size", int)]),
    retrieve=extend_schema(summary="A patient"),
    create=extend_schema(summary="Register a patient", request=PatientInput, responses={201: PatientOutput}),
    partial_update=extend_schema(summary="Change some of a patient's details", request=PatientInput, responses=PatientOutput),
    update=extend_schema(summary="Replace a patient's details", request=PatientInput, responses=PatientOutput),
)
class PatientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Patients for staff and integrators (scopes patients:read, patients:write)."""

    permission_classes = [ClinicAccess]
    scopes = {"read": "patients:read", "write": "patients:write", "create": "patients:write"}
    perms = {"read": "patients.view_patient", "write": "patients.change_patient", "create": "patients.add_patient"}
    action_kinds = {"create": "create"}
    serializer_class = PatientOutput
    queryset = Patient.objects.none()  # the model, for the schema; rows come from get_queryset()
    filterset_class = PatientFilter
    lookup_value_converter = "uuid"
    pagination_class = RowsPagination  # the list reads rows of row_columns, page and total in one query

    @property
    def row_columns(self):
        return PatientOutput.row_columns()

    def _access_action(self):
        return access.VIEW if self.request.method in SAFE_METHODS else access.CHANGE

    # Patients are fetched through core's access layer, for the API key or the staff user
    # (request.user is the key for a key): ClinicAccess answers "may call this endpoint",
    # the access rule (apps/patients/rules.py) "which rows".
    def get_queryset(self):
        patients = selectors.access_patients(self.request.user, action=self._access_action())
        return patients.for_rows() if self.action == "list" else patients

    def get_object(self):
        return selectors.access_patient(self.request.user, self.kwargs[self.lookup_field], action=self._access_action())

    def filter_queryset(self, queryset):
        # With no filter in the query string the FilterSet would build and validate an empty
        # form and change nothing; skipping it saves ~8% of a list request's CPU (bench/README.md).
        if not any(name in self.request.query_params for name in PatientFilter.base_filters):
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        # One access-log entry naming every patient shown (not one row each): bench/README.md.
        record_list("read", page, model=Patient, detail={"view": "api_patient_list"})
        return self.get_paginated_response(PatientOutput(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        patient = self.get_object()
        record("read", patient)
        return Response(PatientOutput(patient).data)

    def create(self, request, *args, **kwargs):
        serializer = PatientInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_create(data=serializer.validated_data)
        return Response(PatientOutput(patient).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        patient = self.get_object()
        serializer = PatientInput(patient, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        patient = services.patient_update(patient=patient, data=serializer.validated_data)
        return Response(PatientOutput(patient).data)

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)
