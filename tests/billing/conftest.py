import pytest

from apps.billing.gateways import reset
from tests.billing.factories import fee_schedule
from tests.consents.factories import verified


@pytest.fixture(autouse=True)
def _fresh_gateway(settings):
    settings.BILLING_PAYMENT_GATEWAY = "test"
    reset()
    yield
    reset()


@pytest.fixture
def fees(db):
    return fee_schedule()


@pytest.fixture
def biller(billing_user):
    """The cast's billing user as a service actor (second factor passed)."""
    return verified(billing_user)
