"""The hostile-input walk (tests/hardening/test_hostile_walk.py) over every FHIR route: each
hostile class in each query parameter, NUL in an unknown parameter, hostile ids in the path.
Never a 5xx; a 400 naming the parameter or a 404; nothing written."""
import pytest
from django.urls import get_resolver

from tests.fhir.walk_rows import FHIR_ROUTES
from tests.hardening.test_hostile_walk import _path_id_urls, send, walk, world  # noqa: F401 (world: a fixture)
from tests.scheduling.conftest import default_triage_questions  # noqa: F401 (a fixture the world needs)

pytestmark = pytest.mark.django_db

NAMES = [route.name for route in FHIR_ROUTES]


def test_every_fhir_route_has_a_row():
    served = {pattern.name for pattern in get_resolver("apps.fhir.urls").url_patterns}

    assert served == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_hostile_fhir_input_gets_a_clear_answer(world, name):
    route = next(route for route in FHIR_ROUTES if route.name == name)

    assert walk(world, route) == []


@pytest.mark.parametrize("name", [route.name for route in FHIR_ROUTES if route.path])
def test_a_hostile_id_in_a_fhir_path_is_not_found(world, name):
    route = next(route for route in FHIR_ROUTES if route.name == name)
    problems = []

    for kwarg, bad, url in _path_id_urls(route, world):
        response, written = send(world, route, "GET", url)
        if response.status_code != 404 or written or not response["Content-Type"].startswith("application/fhir+json"):
            problems.append(f"{kwarg}={bad[:25]}: {response.status_code} {response['Content-Type']}")

    assert problems == []
