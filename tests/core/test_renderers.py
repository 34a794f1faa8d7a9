"""The API's orjson renderer writes the bytes DRF's JSONRenderer writes."""
import datetime
import decimal
import uuid

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from apps.core.api.renderers import JSONRenderer

UTC = datetime.timezone.utc


@pytest.mark.parametrize("data", [
    {"count": 2, "next": None, "results": [{"id": "a", "ok": True, "n": 1.5}, {"name": "Zoë 日本"}]},
    {"at": datetime.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC), "day": datetime.date(2026, 1, 2),
     "time": datetime.time(7, 30), "naive": datetime.datetime(2026, 1, 2, 3, 4), "span": datetime.timedelta(minutes=90)},
    {"id": uuid.UUID("12345678-1234-5678-1234-567812345678"), "amount": decimal.Decimal("12.50"), "lazy": gettext_lazy("Read")},
    {"line": "a\u2028b\u2029c", "nested": {"k": [1, None, "x"]}, 1: "int key"},
    {"big": 2**70},
    [],
    "text",
])
def test_same_bytes_as_drf(data):
    assert JSONRenderer().render(data) == DrfJSONRenderer().render(data)


def test_none_renders_nothing():
    assert JSONRenderer().render(None) == b""


def test_indented_output_is_drfs():
    data = {"a": [1, 2]}
    media = "application/json; indent=2"

    assert JSONRenderer().render(data, media) == DrfJSONRenderer().render(data, media)


def test_an_aware_time_fails_as_in_drf():
    with pytest.raises(ValueError):
        JSONRenderer().render({"t": datetime.time(7, 30, tzinfo=UTC)})


def test_the_api_answers_with_it(api_client, integrator_key):
    response = api_client.get("/api/v1/patients/", HTTP_AUTHORIZATION=f"Api-Key {integrator_key[1]}")

    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert response.json()["count"] == 0
