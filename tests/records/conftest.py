import pytest

from tests.records.factories import make_visit, provider_for


@pytest.fixture
def provider(provider_user):
    return provider_for(provider_user)


@pytest.fixture
def visit(patient, provider):
    return make_visit(patient, provider)


@pytest.fixture(autouse=True)
def _no_channel_layer(monkeypatch):
    # Notifications publish after commit; tests need no Redis for that.
    monkeypatch.setattr("apps.messaging.events.get_channel_layer", lambda *a, **k: None, raising=False)
