"""Coverages and eligibility: cards added with their rules, a check through the clearinghouse
(the simulator by default), the 24-hour cache and the re-check, failures that store no result,
the nightly job for tomorrow's visits; the database keeps the rules when services are bypassed."""
import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.billing import services
from apps.billing.clearinghouse import Clearinghouse, ClearinghouseUnavailable
from apps.billing.models import Coverage, EligibilityCheck
from apps.billing.tasks import eligibility_recheck_tomorrow
from apps.core.exceptions import ValidationFailed
from apps.scheduling.models import Visit
from tests.billing.factories import PayerFactory, coverage
from tests.billing.test_x12 import fixture
from tests.consents.factories import visit
from tests.scheduling.factories import ProviderFactory, VisitTypeFactory

pytestmark = pytest.mark.django_db


class Recorded(Clearinghouse):
    """Answers with fixed text and keeps what it was sent."""

    def __init__(self, answer):
        self.answer, self.sent = answer, []

    def exchange(self, inquiry):
        self.sent.append(inquiry)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_a_coverage_is_added_and_audited(patient):
    card = coverage(patient)

    assert card.is_active and card.relationship == "18" and card.member_id_masked.endswith("6789")
    assert AccessLog.objects.filter(action="create", object_id=str(card.pk), patient_id=patient.pk).exists()


def test_a_second_active_primary_card_is_a_field_error(patient):
    coverage(patient)

    with pytest.raises(ValidationFailed) as caught:
        coverage(patient, member_id="OTHER123")

    assert "priority" in caught.value.extra["fields"]
    assert coverage(patient, member_id="SEC12345", priority="SECONDARY").priority == "SECONDARY"


def test_someone_elses_plan_needs_the_subscriber_named(patient):
    with pytest.raises(ValidationFailed) as caught:
        coverage(patient, relationship="19")

    assert set(caught.value.extra["fields"]) == {"subscriber_first_name", "subscriber_last_name", "subscriber_date_of_birth"}
    assert not Coverage.objects.exists()


def test_the_database_refuses_two_active_primaries_and_an_unnamed_subscriber(patient):
    card = coverage(patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        Coverage.objects.create(patient=patient, payer=card.payer, member_id="X1234", priority="PRIMARY")
    with pytest.raises(IntegrityError), transaction.atomic():
        Coverage.objects.create(patient=patient, payer=card.payer, member_id="X1234", priority="SECONDARY", relationship="01")


def test_an_update_names_the_fields_changed_not_their_values(patient):
    card = coverage(patient)

    services.coverage_update(coverage=card, actor=None, member_id="NEW12345")

    card.refresh_from_db()
    assert card.member_id == "NEW12345"
    log = AccessLog.objects.get(action="update", object_id=str(card.pk))
    assert log.detail == {"fields": ["member_id"]}


def test_a_check_through_the_simulator_reads_copay_and_deductible(patient, biller):
    card = coverage(patient)

    check = services.eligibility_check(coverage=card, actor=biller)

    assert (check.status, check.outcome) == ("COMPLETE", "ACTIVE")
    copays = [b for b in check.result["benefits"] if b["info"] == "B" and "98" in b["service_types"]]
    assert copays[0]["amount"] == "25" and copays[0]["in_network"] is True
    assert list(check.events.values_list("to_status", flat=True)) == ["PENDING", "COMPLETE"]


def test_the_270_sent_carries_the_patient_and_a_fresh_control_number(patient, biller):
    card = coverage(patient)
    clearinghouse = Recorded(fixture("271_active_copay.x12"))

    first = services.eligibility_check(coverage=card, actor=biller, clearinghouse=clearinghouse)
    second = services.eligibility_check(coverage=card, actor=biller, force=True, clearinghouse=clearinghouse)

    assert second.control_number == first.control_number + 1
    sent = clearinghouse.sent[0]
    assert f"*{first.control_number:09d}*0*T*:~" in sent and "GS*HS*" in sent
    assert f"NM1*IL*1*{patient.last_name.upper()}*{patient.first_name.upper()}****MI*W123456789~" in sent


def test_a_check_younger_than_24_hours_answers_from_the_cache_and_a_recheck_asks_again(patient, biller):
    card = coverage(patient)
    clearinghouse = Recorded(fixture("271_active_copay.x12"))
    first = services.eligibility_check(coverage=card, actor=biller, clearinghouse=clearinghouse)

    again = services.eligibility_check(coverage=card, actor=biller, clearinghouse=clearinghouse)
    assert again.pk == first.pk and len(clearinghouse.sent) == 1

    EligibilityCheck.objects.filter(pk=first.pk).update(completed_at=timezone.now() - datetime.timedelta(hours=25))
    later = services.eligibility_check(coverage=card, actor=biller, clearinghouse=clearinghouse)
    assert later.pk != first.pk and len(clearinghouse.sent) == 2

    forced = services.eligibility_check(coverage=card, actor=biller, force=True, clearinghouse=clearinghouse)
    assert forced.pk not in (first.pk, later.pk) and len(clearinghouse.sent) == 3


@pytest.mark.parametrize("answer, words", [
    ("<html>502 Bad Gateway</html>", "could not be read: This is not an X12 interchange"),
    (fixture("271_active_copay.x12").replace("SE*27*", "SE*3*"), "SE01 says 3 segments"),
    (ClearinghouseUnavailable("timed out"), "could not be reached: timed out"),
])
def test_a_failed_check_stores_the_reason_and_no_result_and_is_not_cached(patient, biller, answer, words):
    card = coverage(patient)

    check = services.eligibility_check(coverage=card, actor=biller, clearinghouse=Recorded(answer))

    assert check.status == "FAILED" and words in check.message
    assert check.result == {} and check.outcome == ""
    assert services.cached_check(card) is None


def test_a_rejection_is_a_complete_check_with_the_reason_in_words(patient, biller):
    card = coverage(patient, member_id="NOTFOUND1")

    check = services.eligibility_check(coverage=card, actor=biller)

    assert (check.status, check.outcome) == ("COMPLETE", "REJECTED")
    assert check.message.startswith("The member ID is invalid or missing")


def test_the_database_keeps_results_off_failed_checks(patient, biller):
    check = services.eligibility_check(coverage=coverage(patient), actor=biller, clearinghouse=Recorded("junk"))

    with pytest.raises(IntegrityError), transaction.atomic():
        EligibilityCheck.objects.filter(pk=check.pk).update(result={"status": "ACTIVE"})


def _visit_tomorrow(patient, *, status=Visit.Status.PLANNED):
    v = visit(patient, ProviderFactory(), VisitTypeFactory(), status=status)
    start = timezone.now() + datetime.timedelta(days=1)
    Visit.objects.filter(pk=v.pk).update(start=start, end=start + datetime.timedelta(minutes=30))
    return v


def test_the_nightly_job_checks_tomorrows_patients_once(patient, other_patient):
    covered = coverage(patient)
    coverage(other_patient, member_id="OTHER999")  # no visit tomorrow
    _visit_tomorrow(patient)

    first = eligibility_recheck_tomorrow()
    second = eligibility_recheck_tomorrow()

    assert first == {"checked": 1, "cached": 0, "failed": 0}
    assert second == {"checked": 0, "cached": 1, "failed": 0}
    assert list(EligibilityCheck.objects.values_list("coverage_id", flat=True)) == [covered.pk]


def test_a_removed_coverage_is_not_checked(patient, biller):
    card = services.coverage_remove(coverage=coverage(patient), actor=biller)

    with pytest.raises(ValidationFailed):
        services.eligibility_check(coverage=card, actor=biller)
    assert not EligibilityCheck.objects.exists()


def test_an_inactive_payer_cannot_be_put_on_a_card(patient):
    payer = PayerFactory(payer_id="OLD01", name="Gone", is_active=False)

    with pytest.raises(ValidationFailed) as caught:
        coverage(patient, payer=payer)

    assert "payer" in caught.value.extra["fields"]
