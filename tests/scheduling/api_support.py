"""Shared by tests/scheduling/test_api_*.py: clients for each kind of caller and a few
builders. Import the fixtures by name into a test module to use them."""
import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.scheduling import services
from tests.conftest import api_keyed_client as keyed, api_session as session  # noqa: F401 (re-exported)

API = "/api/v1"
FULL_SCOPES = ("scheduling:read", "scheduling:write")


def random_id():
    return str(uuid.uuid4())


def assert_error(response, status, code=None):
    assert response.status_code == status, (response.status_code, getattr(response, "data", response.content))
    body = response.json()
    assert set(body) == {"code", "message", "extra"}, body
    if code is not None:
        assert body["code"] == code, body
    return body


def count_queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response


def later(hours):
    return (timezone.now() + datetime.timedelta(hours=hours)).replace(second=0, microsecond=0)


@pytest.fixture
def integrator(api_key_factory):
    """An API client with scheduling:read and scheduling:write."""
    return keyed(api_key_factory(*FULL_SCOPES)[1])


@pytest.fixture
def desk(front_desk):
    return session(front_desk)


@pytest.fixture
def book(patient, visit_type):
    """book(slot, patient=patient) -> a PLANNED visit through the service."""

    def make(slot, who=None):
        return services.booking_create(patient=who or patient, slot=slot, visit_type=visit_type)

    return make
