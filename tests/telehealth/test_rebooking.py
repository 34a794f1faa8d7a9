"""After technical issues the provider (or staff) rebooks the patient into a new video visit;
before the call, a visit whose provider is not licensed where the patient is can be given to
another provider's slot. Both go through scheduling's own services (booking, cancellation,
reschedule), offer only free future video slots of providers who fit, and refuse the rest."""
import datetime

import pytest
from django.utils import timezone

from apps.scheduling.models import Mode, Visit, VisitSlot
from apps.telehealth import selectors, services
from apps.telehealth.models import TelehealthSession
from tests.conftest import api_session
from tests.telehealth.factories import session_for, verified, waiting
from tests.scheduling.factories import ProviderFactory, SlotFactory

pytestmark = pytest.mark.django_db
S = TelehealthSession.Status


def _slot_for(session, *, provider=None, hours=3, mode=Mode.VIRTUAL):
    provider = provider or session.provider
    provider.visit_types.add(session.visit.visit_type)
    start = (timezone.now() + datetime.timedelta(hours=hours)).replace(second=0, microsecond=0)
    return SlotFactory(provider=provider, mode=mode, start=start, end=start + datetime.timedelta(minutes=30))


def _failed(patient):
    session = session_for(patient)
    waiting(session)
    services.session_mark_technical_issues(session=session, actor=verified(session.provider.user), reason="No audio")
    session.refresh_from_db()
    return session


def test_a_failed_visit_is_rebooked_into_a_new_visit_and_session_the_old_one_cancelled(patient, client_for):
    session = _failed(patient)
    slot = _slot_for(session)
    page = client_for(session.provider.user).get(f"/staff/telehealth/{session.pk}/rebook/")
    assert page.status_code == 200 and str(slot.pk) in page.content.decode() and "Choose a new time" in page.content.decode()

    response = client_for(session.provider.user).post(f"/staff/telehealth/{session.pk}/rebook/", {"slot": str(slot.pk)})
    assert response.status_code == 302 and response["Location"] == "/staff/telehealth/queue/"
    session.refresh_from_db()
    new = session.rebooked_to
    assert new is not None and new.status == S.SCHEDULED and new.scheduled_start == slot.start
    assert Visit.objects.get(pk=new.visit_id).status == Visit.Status.PLANNED
    assert Visit.objects.get(pk=session.visit_id).status == Visit.Status.CANCELLED
    assert VisitSlot.objects.get(pk=slot.pk).status == VisitSlot.Status.BOOKED
    assert session.events.filter(reason="Rebooked after technical issues").exists()

    again = client_for(session.provider.user).post(f"/staff/telehealth/{session.pk}/rebook/", {"slot": str(_slot_for(session, hours=5).pk)})
    assert again.status_code == 409 and "Rebooked already" in again.content.decode()
    assert TelehealthSession.objects.filter(patient=patient).count() == 2


def test_rebooking_refuses_a_slot_not_offered_and_a_session_that_did_not_fail(patient):
    session = _failed(patient)
    in_person = _slot_for(session, mode=Mode.IN_PERSON, hours=2)
    client = api_session(session.provider.user)
    bad = client.post(f"/api/v1/telehealth/sessions/{session.pk}/rebook/", {"slot": str(in_person.pk)}, format="json")
    assert bad.status_code == 400 and "slot" in bad.json()["extra"]["fields"]
    assert client.post(f"/api/v1/telehealth/sessions/{session.pk}/rebook/", {"slot": "x" * 40}, format="json").status_code == 400
    ok = client.post(f"/api/v1/telehealth/sessions/{session.pk}/rebook/", {"slot": str(_slot_for(session).pk)}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "SCHEDULED" and ok.json()["id"] != str(session.pk)
    replay = client.post(f"/api/v1/telehealth/sessions/{session.pk}/rebook/", {"slot": str(_slot_for(session, hours=6).pk)},
                         format="json")
    assert replay.status_code == 409 and replay.json()["code"] == "already_rebooked"


def test_a_patient_cannot_rebook(patient):
    session = _failed(patient)
    slot = _slot_for(session)
    refused = api_session(patient.user).post(f"/api/v1/telehealth/sessions/{session.pk}/rebook/", {"slot": str(slot.pk)},
                                             format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "staff_only"
    assert VisitSlot.objects.get(pk=slot.pk).status == VisitSlot.Status.FREE


def test_a_waiting_patient_is_reassigned_to_a_provider_licensed_in_their_state(patient, client_for, front_desk):
    session = session_for(patient, licensed=("NJ",))
    waiting(session, state="NY")
    unlicensed = _slot_for(session, provider=ProviderFactory(licensed_states=["CA"]))
    licensed_provider = ProviderFactory(licensed_states=["NY"])
    licensed = _slot_for(session, provider=licensed_provider, hours=1)
    assert [s.pk for s in selectors.rebook_slots(session)] == [licensed.pk]
    queue = client_for(front_desk).get("/staff/telehealth/queue/").content.decode()
    assert "data-reassign" in queue

    bad = client_for(front_desk).post(f"/staff/telehealth/{session.pk}/rebook/", {"slot": str(unlicensed.pk)})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    done = client_for(front_desk).post(f"/staff/telehealth/{session.pk}/rebook/", {"slot": str(licensed.pk)})
    assert done.status_code == 302
    session.refresh_from_db()
    assert session.provider_id == licensed_provider.pk and session.status == S.WAITING
    assert session.scheduled_start == licensed.start and session.rebooked_to is None
    assert Visit.objects.get(pk=session.visit_id).provider_id == licensed_provider.pk


def test_an_admitted_patient_is_not_reassigned(patient):
    from tests.telehealth.factories import admitted

    session = admitted(session_for(patient))
    slot = _slot_for(session)
    client = api_session(session.provider.user)
    refused = client.post(f"/api/v1/telehealth/sessions/{session.pk}/rebook/", {"slot": str(slot.pk)}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "session_not_reassignable"
    assert VisitSlot.objects.get(pk=slot.pk).status == VisitSlot.Status.FREE


def test_the_queue_lists_failed_visits_to_rebook(patient, client_for, front_desk, billing_user):
    session = _failed(patient)
    body = client_for(front_desk).get("/staff/telehealth/queue/").content.decode()
    assert "data-needs-rebooking" in body and f"/staff/telehealth/{session.pk}/rebook/" in body
    assert client_for(billing_user).get(f"/staff/telehealth/{session.pk}/rebook/").status_code == 403
    assert "data-needs-rebooking" not in client_for(billing_user).get("/staff/telehealth/queue/").content.decode()
