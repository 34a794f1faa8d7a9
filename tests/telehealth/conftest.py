import pytest

from apps.telehealth.providers import registry


@pytest.fixture
def clean_registry():
    """The video providers' registry as settings build it, before and after the test (tests
    that install a provider with a fake HTTP layer leave nothing behind)."""
    registry.reset()
    yield
    registry.reset()
