"""PlannedRepresentationMixin gives DRF's generic output, and falls back to it where a plan
could differ."""
import datetime
from types import SimpleNamespace

from rest_framework import serializers

from apps.core.api.serializers import PlannedRepresentationMixin
from apps.patients.models import Patient
from tests.factories import PatientFactory, PortalPatientFactory


class Planned(PlannedRepresentationMixin, serializers.ModelSerializer):
    initials = serializers.SerializerMethodField()
    login = serializers.PrimaryKeyRelatedField(source="user", read_only=True)
    login_email = serializers.CharField(source="user.email", default=None)
    display = serializers.CharField(source="__str__")
    tags = serializers.ListField(child=serializers.CharField(), source="get_tags", required=False)

    class Meta:
        model = Patient
        fields = ["id", "mrn", "first_name", "date_of_birth", "quiet_hours_start", "created_at", "sms_opt_in",
                  "initials", "login", "login_email", "display", "tags"]

    def get_initials(self, obj) -> str:
        return (obj.first_name[:1] + obj.last_name[:1]).upper()


class Generic(Planned):
    def to_representation(self, instance):
        return serializers.ModelSerializer.to_representation(self, instance)


class WithNested(PlannedRepresentationMixin, serializers.Serializer):
    patient = Planned()


def test_the_plan_gives_drfs_output(db):
    patients = [
        PatientFactory(quiet_hours_start=datetime.time(21, 0)),
        PortalPatientFactory(),
    ]
    for patient in patients:
        assert Planned(patient).data == Generic(patient).data
        assert list(Planned(patient).data) == list(Generic(patient).data)
    assert Planned(patients, many=True).data == Generic(patients, many=True).data
    assert Planned.representation_plan() is not None


def test_a_nested_serializer_means_drfs_path():
    assert WithNested.representation_plan() is None


def test_an_object_of_another_class_goes_through_drfs_path(db):
    patient = PatientFactory()
    other = SimpleNamespace(
        id=patient.pk, mrn=patient.mrn, first_name="Ann", last_name="Lee", date_of_birth=patient.date_of_birth,
        quiet_hours_start=None, created_at=patient.created_at, sms_opt_in=True, user=None,
    )

    data = Planned(other).data

    assert data == Generic(other).data
    assert data["initials"] == "AL" and data["first_name"] == "Ann"
