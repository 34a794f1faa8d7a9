"""Races on PostgreSQL with real threads and a barrier: two tabs entering the waiting room at
once make one stay; two staff admitting at once make one admission (the other 409), and the
visit is checked in once."""
from unittest import mock

import pytest

from apps.core.exceptions import DomainError
from apps.scheduling.models import Visit
from apps.telehealth import services
from apps.telehealth.models import WaitingRoomEntry
from tests.consents.factories import verified
from tests.factories import StaffFactory
from tests.scheduling.test_races import Crowd
from tests.telehealth.factories import session_for, sign_consent, waiting

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _quiet_layers():
    with mock.patch("apps.telehealth.events.get_channel_layer", return_value=None), \
            mock.patch("apps.scheduling.events.get_channel_layer", return_value=None), \
            mock.patch("apps.messaging.events.get_channel_layer", return_value=None):
        yield


@pytest.fixture
def crowd():
    crowds = []
    yield lambda size: crowds.append(Crowd(size)) or crowds[-1]
    for c in crowds:
        c.close()


def test_two_tabs_entering_at_once_make_one_stay(requires_postgres, patient, crowd):
    session = session_for(patient)
    outcomes = crowd(4).run([lambda: services.waiting_room_enter(session=session, actor=patient.user)] * 4)
    assert [kind for kind, _ in outcomes] == ["ok"] * 4
    assert len({entry.pk for _, entry in outcomes}) == 1
    assert WaitingRoomEntry.objects.filter(session=session).count() == 1


def test_two_staff_admitting_at_once_admit_once(requires_postgres, patient, crowd):
    session = session_for(patient)
    sign_consent(patient)
    waiting(session)
    nurses = [verified(StaffFactory(role="nurse")) for _ in range(3)]
    outcomes = crowd(3).run([lambda n=n: services.waiting_room_admit(session=session, actor=n) for n in nurses])
    winners = [o for kind, o in outcomes if kind == "ok"]
    losers = [o for kind, o in outcomes if kind == "error"]
    assert len(winners) == 1 and len(losers) == 2
    assert all(isinstance(e, DomainError) and e.status_code == 409 for e in losers), losers
    assert WaitingRoomEntry.objects.get(session=session).status == "ADMITTED"
    assert Visit.objects.get(pk=session.visit_id).events.filter(to_status="CHECKED_IN").count() == 1
