"""The consent gate (through consents' verification: missing, expired, revoked, tampered) and
the licensure gate, at admission and at the start of the call: 409 with stable codes, nothing
changed, and the failed verification audited."""
import datetime

import pytest

from apps.audit.models import AccessLog
from apps.consents.models import ConsentForm
from apps.consents.services import consent_revoke, consents_expire
from apps.scheduling.models import Visit
from apps.telehealth import services
from apps.telehealth.exceptions import ConsentRequired, ProviderNotLicensed, StateRequired
from apps.telehealth.models import WaitingRoomEntry
from tests.consents.factories import verified
from tests.telehealth.factories import session_for, sign_consent, telehealth_template, waiting

pytestmark = pytest.mark.django_db


def _admit(session):
    return services.waiting_room_admit(session=session, actor=verified(session.provider.user))


def _nothing_changed(session):
    assert WaitingRoomEntry.objects.get(session=session).status == "WAITING"
    assert Visit.objects.get(pk=session.visit_id).status == "PLANNED"


def test_admission_without_a_telehealth_consent_is_refused(patient):
    session = session_for(patient)
    waiting(session)
    with pytest.raises(ConsentRequired) as refused:
        _admit(session)
    assert refused.value.status_code == 409 and refused.value.code == "telehealth_consent_required"
    assert refused.value.extra["problems"] == [{"kind": "TELEHEALTH_GENERAL", "jurisdiction": "", "code": "consent_missing"}]
    _nothing_changed(session)


def test_an_expired_consent_is_refused(patient):
    session = session_for(patient)
    consent = sign_consent(patient)
    consents_expire(now=consent.expires_at + datetime.timedelta(minutes=1))  # consents' own expiry job
    assert ConsentForm.objects.get(pk=consent.pk).status == "EXPIRED"
    waiting(session)
    with pytest.raises(ConsentRequired) as refused:
        _admit(session)
    assert refused.value.extra["problems"][0]["code"] == "consent_expired"
    _nothing_changed(session)


def test_a_revoked_consent_is_refused(patient):
    session = session_for(patient)
    consent = sign_consent(patient)
    consent_revoke(consent=consent, reason="Changed my mind")
    waiting(session)
    with pytest.raises(ConsentRequired) as refused:
        _admit(session)
    assert refused.value.extra["problems"][0]["code"] == "consent_revoked"


def test_a_tampered_consent_fails_its_hash_is_refused_and_the_failure_is_audited(patient):
    session = session_for(patient)
    consent = sign_consent(patient)
    ConsentForm.objects.filter(pk=consent.pk).update(typed_name="Someone Else")
    waiting(session)
    with pytest.raises(ConsentRequired) as refused:
        _admit(session)
    assert refused.value.extra["problems"][0]["code"] == "consent_tampered"
    logged = AccessLog.objects.filter(object_id=str(consent.pk), detail__purpose="telehealth_gate").get()
    assert logged.detail["verification"] == "failed"
    _nothing_changed(session)


def test_a_state_specific_consent_is_required_where_the_clinic_says_so(patient, settings):
    settings.TELEHEALTH_STATE_CONSENT_STATES = ["NY"]
    session = session_for(patient)
    sign_consent(patient)
    waiting(session, state="NY")
    with pytest.raises(ConsentRequired) as refused:
        _admit(session)
    assert refused.value.extra["problems"] == [{"kind": "STATE_SPECIFIC", "jurisdiction": "NY", "code": "consent_missing"}]
    patient.state = "NY"
    patient.save(update_fields=["state"])
    sign_consent(patient, "STATE_SPECIFIC", "NY")
    _admit(session)
    assert WaitingRoomEntry.objects.get(session=session).status == "ADMITTED"


def test_a_recorded_visit_needs_the_recording_consent(patient):
    session = session_for(patient)
    session.recording_planned = True
    session.save(update_fields=["recording_planned"])
    sign_consent(patient)
    waiting(session)
    with pytest.raises(ConsentRequired) as refused:
        _admit(session)
    assert refused.value.extra["problems"][0]["kind"] == "RECORDING"


def test_a_provider_not_licensed_in_the_patients_state_cannot_admit(patient):
    session = session_for(patient, licensed=("NY",))
    sign_consent(patient)
    waiting(session, state="CA")
    with pytest.raises(ProviderNotLicensed) as refused:
        _admit(session)
    assert refused.value.status_code == 409 and refused.value.code == "provider_not_licensed"
    assert refused.value.extra["state"] == "CA" and refused.value.extra["licensed_states"] == ["NY"]
    _nothing_changed(session)


def test_a_provider_with_no_licence_list_is_not_waved_through(patient):
    session = session_for(patient, licensed=())
    sign_consent(patient)
    waiting(session, state="NY")
    with pytest.raises(ProviderNotLicensed):
        _admit(session)


def test_the_patients_current_state_is_required(patient):
    session = session_for(patient)
    sign_consent(patient)
    waiting(session, state=None)
    with pytest.raises(StateRequired) as refused:
        _admit(session)
    assert refused.value.code == "patient_state_required"


def test_the_patient_can_be_sent_the_missing_consent_to_sign(patient):
    telehealth_template()
    session = session_for(patient)
    to_sign = services.telehealth_consents_to_sign(session=session, actor=patient.user, state="NY")
    assert [c.kind for c in to_sign] == ["TELEHEALTH_GENERAL"] and to_sign[0].status == "PENDING"
    again = services.telehealth_consents_to_sign(session=session, actor=patient.user, state="NY")
    assert [c.pk for c in again] == [to_sign[0].pk]  # the pending one is reused, not sent twice
