import datetime
import importlib
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from apps.messaging.models import Notification
from apps.scheduling.models import TriageQuestion, TriageRule
from tests.scheduling.factories import (
    LocationFactory, ProviderFactory, SlotFactory, VisitRequestFactory, VisitTypeFactory,
)


@pytest.fixture
def location(db):
    return LocationFactory()


@pytest.fixture
def visit_type(db):
    return VisitTypeFactory()


@pytest.fixture
def provider(visit_type):
    return ProviderFactory(offers=[visit_type])


@pytest.fixture
def make_slot(provider, location):
    """make_slot(hours_from_now=72, **fields) -> a FREE in-person slot of `provider`."""

    def make(hours_from_now=72, **fields):
        start = (timezone.now() + datetime.timedelta(hours=hours_from_now)).replace(second=0, microsecond=0)
        fields.setdefault("provider", provider)
        fields.setdefault("location", location)
        return SlotFactory(start=start, end=start + datetime.timedelta(minutes=30), **fields)

    return make


@pytest.fixture
def make_request(patient, visit_type):
    """make_request(**fields) -> a TRIAGED GREEN scheduled request of `patient` for `visit_type`."""

    def make(**fields):
        fields.setdefault("patient", patient)
        fields.setdefault("visit_type", visit_type)
        return VisitRequestFactory(**fields)

    return make


@pytest.fixture
def notifications():
    """notifications(user) -> list of kinds notified to user, oldest first."""
    def kinds(user):
        return list(Notification.objects.filter(recipient=user).order_by("created_at", "id").values_list("kind", flat=True))

    return kinds


@pytest.fixture
def default_triage_questions(db):
    """The data migration's portal questions (0007), loaded again when a flush removed them."""
    if not TriageQuestion.objects.exists():
        importlib.import_module("apps.scheduling.migrations.0007_default_triage_questions").load(django_apps, None)
    return TriageQuestion.objects.all()


@pytest.fixture
def default_triage_rules(db, default_triage_questions):
    """The data migration's rules (and the questions they read). Transactional tests (the race
    tests) flush tables, which removes migration data for later tests with --reuse-db; load them
    again when missing."""
    if not TriageRule.objects.exists():
        importlib.import_module("apps.scheduling.migrations.0003_default_triage_rules").load(django_apps, None)
    return TriageRule.objects.all()


@pytest.fixture
def without_channel_layer():
    """Real-time publishing is not what the race tests measure: keep their threads off the
    channel layer (board events and notifications are dropped)."""
    with mock.patch("apps.scheduling.events.get_channel_layer", return_value=None), \
            mock.patch("apps.messaging.events.get_channel_layer", return_value=None):
        yield
