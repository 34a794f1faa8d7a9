"""Staff alerts when a consent is declined or revoked: the plan's surgeon and every nurse get one
in-app notification each (no patient name in it, a link to the consent's staff page), others
get none; the move itself is audited and has its event row; a second decline or revoke is
refused (409) and alerts nobody again."""
import pytest

from apps.audit.models import AccessLog
from apps.consents import services
from apps.core.exceptions import InvalidTransition
from apps.messaging.models import Notification
from tests.consents.factories import TemplateFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _alerts(kind):
    return Notification.objects.filter(kind=kind)


@pytest.fixture
def staff(nurse, front_desk):
    return {"nurse": nurse, "second_nurse": StaffFactory(role="nurse"), "front_desk": front_desk}


def test_a_declined_consent_alerts_the_surgeon_and_the_nurses(flow, staff):
    consent = flow.send()

    services.consent_decline(consent=consent, actor=flow.patient.user, reason="I need more time")

    alerts = _alerts("consent_declined")
    assert set(alerts.values_list("recipient_id", flat=True)) == {
        flow.surgeon_user.pk, staff["nurse"].pk, staff["second_nurse"].pk}
    assert alerts.count() == 3
    for alert in alerts:
        assert alert.title == "A patient declined a consent"
        assert alert.link == f"/staff/surgery/consents/{consent.pk}/"
        assert flow.patient.last_name not in alert.title + alert.body
    assert consent.events.filter(to_status="DECLINED", reason="I need more time").count() == 1
    assert AccessLog.objects.filter(object_id=str(consent.pk), action="update").exists()
    with pytest.raises(InvalidTransition):
        services.consent_decline(consent=consent, actor=flow.patient.user)
    assert _alerts("consent_declined").count() == 3


def test_a_revoked_consent_alerts_the_surgeon_and_the_nurses_whoever_revokes(flow, staff):
    consent = flow.sign()

    services.consent_revoke(consent=consent, actor=staff["front_desk"], reason="Patient phoned to withdraw")

    alerts = _alerts("consent_revoked")
    assert set(alerts.values_list("recipient_id", flat=True)) == {
        flow.surgeon_user.pk, staff["nurse"].pk, staff["second_nurse"].pk}
    assert all(a.title == "A signed consent was revoked" and a.link == f"/staff/surgery/consents/{consent.pk}/"
               for a in alerts)
    assert not Notification.objects.filter(recipient=staff["front_desk"], kind="consent_revoked").exists()
    consent.refresh_from_db()
    assert (consent.status, consent.revoked_by_id, consent.revoke_reason) == (
        "REVOKED", staff["front_desk"].pk, "Patient phoned to withdraw")
    with pytest.raises(InvalidTransition):
        services.consent_revoke(consent=consent, actor=flow.patient.user, reason="again")
    assert _alerts("consent_revoked").count() == 3


def test_a_consent_without_a_plan_alerts_the_nurses_only(patient, nurse):
    template = TemplateFactory(kind="HIPAA", key="hipaa-alerts")
    consent = services.consent_create(patient=patient, template=template)

    services.consent_decline(consent=consent, actor=patient.user)

    assert list(_alerts("consent_declined").values_list("recipient_id", flat=True)) == [nurse.pk]
