import pytest

from tests.consents.factories import Flow, preop_catalogue


@pytest.fixture
def flow(patient):
    """The chronology for the cast's patient, through the services (tests/consents/factories.py)."""
    preop_catalogue()
    return Flow(patient)


@pytest.fixture
def other_flow(other_patient):
    preop_catalogue()
    return Flow(other_patient)
