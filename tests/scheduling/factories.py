import datetime

import factory
from django.utils import timezone

from apps.scheduling.models import (
    AvailabilityWindow, Location, Mode, Provider, Severity, TriageRule, VisitRequest, VisitSlot, VisitType,
)
from tests.factories import PortalPatientFactory, StaffFactory


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Clinic {n}")
    timezone = "America/New_York"


class VisitTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitType

    name = factory.Sequence(lambda n: f"Visit type {n}")
    duration_minutes = 30
    mode = Mode.IN_PERSON
    self_bookable = True
    default_billing_codes = ["99213"]


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    user = factory.SubFactory(StaffFactory, role="provider")
    specialty = "Family medicine"
    credentials = "MD"
    licensed_states = ["NY"]

    @factory.post_generation
    def offers(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.visit_types.add(*extracted)


class WindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AvailabilityWindow

    provider = factory.SubFactory(ProviderFactory)
    location = factory.SubFactory(LocationFactory)
    weekday = 0
    start_time = datetime.time(8, 0)
    end_time = datetime.time(17, 0)
    mode = Mode.IN_PERSON
    slot_minutes = 30
    effective_from = datetime.date(2020, 1, 1)


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitSlot

    provider = factory.SubFactory(ProviderFactory)
    location = factory.SubFactory(LocationFactory)
    start = factory.Sequence(lambda n: (timezone.now() + datetime.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
                             + datetime.timedelta(minutes=30 * n))
    end = factory.LazyAttribute(lambda o: o.start + datetime.timedelta(minutes=30))
    mode = Mode.IN_PERSON


class VisitRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitRequest

    patient = factory.SubFactory(PortalPatientFactory)
    request_type = VisitRequest.Type.SCHEDULED
    reason = "Routine check"
    severity = Severity.GREEN
    computed_severity = factory.SelfAttribute("severity")
    status = VisitRequest.Status.TRIAGED


class TriageRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TriageRule

    name = factory.Sequence(lambda n: f"rule {n}")
    severity = Severity.YELLOW
