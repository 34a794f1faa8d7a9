"""The estimated cost on the portal's booking confirmation and accept-an-offer pages: scheduling
asks its booking_estimate hook, billing answers from the fee schedule ($125.00 for 99213, the
factories' visit type) and a fresh eligibility result through the clearinghouse simulator
(member W123456789 has a $25 copay, HDHP... a deductible, BUSY... cannot be reached)."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.billing import clearinghouse
from apps.billing.booking_estimates import booking_estimate
from apps.billing.clearinghouse import ClearinghouseUnavailable
from apps.billing.clearinghouse.simulator import SimulatorClearinghouse
from apps.billing.models import EligibilityCheck
from apps.scheduling import hooks
from apps.scheduling.models import Visit, VisitRequest
from tests.billing.factories import coverage
from tests.scheduling.factories import LocationFactory, ProviderFactory, SlotFactory, VisitRequestFactory, VisitTypeFactory
from tests.scheduling.portal_support import offer

pytestmark = pytest.mark.django_db

BOOK = "/portal/schedule/book/"


class CountingSimulator(SimulatorClearinghouse):
    """The simulator, counting the 270s it is sent (a cached result sends none)."""

    def __init__(self):
        self.sent = 0

    def exchange(self, inquiry):
        self.sent += 1
        return super().exchange(inquiry)


@pytest.fixture(autouse=True)
def simulator():
    clearinghouse.reset()
    instance = clearinghouse.use(CountingSimulator())
    yield instance
    clearinghouse.reset()


@pytest.fixture
def visit_type(fees):
    return VisitTypeFactory(name="Office visit", default_billing_codes=["99213"])


@pytest.fixture
def provider(visit_type):
    return ProviderFactory(offers=[visit_type])


@pytest.fixture
def make_slot(provider):
    location = LocationFactory()

    made = []

    def make(hours_from_now=72):
        # Each slot half an hour after the last one asked for: one provider, never the same start.
        start = (timezone.now() + datetime.timedelta(hours=hours_from_now, minutes=30 * len(made))).replace(second=0, microsecond=0)
        made.append(start)
        return SlotFactory(provider=provider, location=location, start=start, end=start + datetime.timedelta(minutes=30))

    return make


@pytest.fixture
def confirm_page(client_for, make_slot, visit_type):
    """confirm_page(patient) -> (client, slot, GET response of the confirm page of a held slot)."""

    def open_page(patient):
        client, slot = client_for(patient.user), make_slot()
        held = client.post(BOOK, {"slot": slot.pk, "visit_type": visit_type.pk})
        assert held.status_code == 302 and held["Location"] == confirm_url(slot)
        return client, slot, client.get(confirm_url(slot))

    return open_page


@pytest.fixture
def offered(make_slot, visit_type, front_desk):
    """offered(patient) -> a request of `patient` with two offered times."""

    def make(patient):
        request = VisitRequestFactory(patient=patient, visit_type=visit_type)
        offer(request, [make_slot(72), make_slot(96)], front_desk)
        request.refresh_from_db()
        assert request.status == VisitRequest.Status.AWAITING_PATIENT_CONFIRMATION
        return request

    return make


@pytest.fixture
def without_billing_receiver():
    hooks.booking_estimate.disconnect(booking_estimate)
    yield
    hooks.booking_estimate.connect(booking_estimate)


def confirm_url(slot):
    return f"{BOOK}{slot.pk}/confirm/"


def offer_url(request):
    return f"/portal/schedule/requests/{request.pk}/offer/"


def text(response):
    return response.content.decode()


# --- what the patient sees ----------------------------------------------------------------

def test_a_copay_plan_sees_the_copay_on_the_confirm_page(confirm_page, patient, simulator):
    coverage(patient, member_id="W123456789")

    _, _, page = confirm_page(patient)

    content = text(page)
    assert page.status_code == 200
    assert 'data-estimate="copay"' in content and "Estimated cost" in content
    assert "Your estimated share: <strong>$25.00</strong> (your copay) of a $125.00 fee." in content
    assert "copay for this visit is" not in content  # the box says it once
    assert "an estimate, not a bill" in content
    assert simulator.sent == 1
    check = EligibilityCheck.objects.get(patient=patient)
    assert check.status == EligibilityCheck.Status.COMPLETE and check.outcome == "ACTIVE"


def test_a_copay_plan_sees_the_copay_on_the_accept_offer_page(client_for, patient, offered, simulator):
    coverage(patient, member_id="W123456789")
    request = offered(patient)

    page = client_for(patient.user).get(offer_url(request))

    content = text(page)
    assert page.status_code == 200
    assert "Your estimated share: <strong>$25.00</strong> (your copay) of a $125.00 fee." in content
    # The box sits inside the accept form, before its submit button.
    assert content.index("data-estimate=") < content.index("Book this time")
    assert simulator.sent == 1


def test_reloading_the_page_uses_the_24_hour_eligibility_cache(client_for, patient, offered, simulator):
    coverage(patient, member_id="W123456789")
    request = offered(patient)
    client = client_for(patient.user)

    first, second = client.get(offer_url(request)), client.get(offer_url(request))

    assert "$25.00</strong> (your copay)" in text(first) and "$25.00</strong> (your copay)" in text(second)
    assert simulator.sent == 1
    assert EligibilityCheck.objects.filter(patient=patient).count() == 1


def test_a_refused_accept_writes_no_check_and_shows_no_estimate(client_for, patient, offered, simulator):
    coverage(patient, member_id="W123456789")
    request = offered(patient)

    response = client_for(patient.user).post(offer_url(request), {"action": "accept"})

    assert response.status_code == 400 and "Estimated cost" not in text(response)
    assert simulator.sent == 0 and not EligibilityCheck.objects.exists()


def test_a_deductible_plan_sees_deductible_and_coinsurance(confirm_page, patient):
    coverage(patient, member_id="HDHP1234")

    _, _, page = confirm_page(patient)

    content = text(page)
    # All of the $125.00 goes toward the $2100 deductible left.
    assert 'data-estimate="deductible_coinsurance"' in content
    assert "Your estimated share: <strong>$125.00</strong> (deductible and coinsurance) of a $125.00 fee." in content
    assert "$125.00 toward your deductible ($2100.00 left), then 20% coinsurance on the rest." in content


def test_a_patient_without_coverage_sees_the_self_pay_fee(confirm_page, patient, simulator):
    _, _, page = confirm_page(patient)

    content = text(page)
    assert 'data-estimate="self_pay"' in content
    assert "Self-pay estimate: <strong>$125.00</strong> (the visit's fee)." in content
    assert simulator.sent == 0 and not EligibilityCheck.objects.exists()


def test_an_inactive_plan_is_a_self_pay_estimate(client_for, patient, offered):
    coverage(patient, member_id="INACTIVE77")

    page = client_for(patient.user).get(offer_url(offered(patient)))

    content = text(page)
    assert 'data-estimate="self_pay"' in content and "Self-pay estimate: <strong>$125.00</strong>" in content
    assert "No active insurance was confirmed" in content


def test_when_the_clearinghouse_cannot_be_reached_the_estimate_is_self_pay_and_says_why(confirm_page, patient):
    class Unreachable(SimulatorClearinghouse):
        def exchange(self, inquiry):
            raise ClearinghouseUnavailable("connection refused")

    clearinghouse.use(Unreachable())
    coverage(patient, member_id="W123456789")

    _, _, page = confirm_page(patient)

    content = text(page)
    assert page.status_code == 200
    assert 'data-estimate="self_pay"' in content and "Self-pay estimate: <strong>$125.00</strong>" in content
    assert "We could not reach your insurance plan just now" in content
    assert EligibilityCheck.objects.get(patient=patient).status == EligibilityCheck.Status.FAILED


def test_a_payer_that_cannot_answer_now_is_a_self_pay_estimate(confirm_page, patient):
    coverage(patient, member_id="BUSY0001")

    _, _, page = confirm_page(patient)

    content = text(page)
    assert page.status_code == 200
    assert 'data-estimate="self_pay"' in content and "Self-pay estimate: <strong>$125.00</strong>" in content


def test_a_visit_type_without_priced_codes_shows_no_estimate(client_for, patient, provider, make_slot):
    unpriced = VisitTypeFactory(default_billing_codes=["99999"])
    provider.visit_types.add(unpriced)
    client, slot = client_for(patient.user), make_slot()
    client.post(BOOK, {"slot": slot.pk, "visit_type": unpriced.pk})

    page = client.get(confirm_url(slot))

    assert page.status_code == 200 and "Estimated cost" not in text(page)


# --- without billing, or when billing fails ------------------------------------------------

@pytest.mark.usefixtures("without_billing_receiver")
def test_without_billings_receiver_the_pages_show_no_estimate(client_for, confirm_page, patient, offered, simulator):
    coverage(patient, member_id="W123456789")

    client, slot, page = confirm_page(patient)
    offer_page = client.get(offer_url(offered(patient)))

    assert page.status_code == offer_page.status_code == 200
    assert "Estimated cost" not in text(page) and "data-estimate" not in text(offer_page)
    assert simulator.sent == 0
    # Booking itself is untouched.
    assert 'name="idempotency_key"' in text(page)


def test_a_receiver_that_raises_leaves_the_page_working_without_an_estimate(client_for, confirm_page, patient, offered):
    def broken(**kwargs):
        raise RuntimeError("estimate service down")

    receivers = hooks.booking_estimate.receivers
    for receiver in receivers:
        hooks.booking_estimate.disconnect(receiver)
    hooks.booking_estimate.connect(broken)
    try:
        client, slot, page = confirm_page(patient)
        offer_page = client.get(offer_url(offered(patient)))
    finally:
        hooks.booking_estimate.disconnect(broken)
        for receiver in receivers:
            hooks.booking_estimate.connect(receiver)

    assert page.status_code == offer_page.status_code == 200
    assert "Estimated cost" not in text(page) and "Estimated cost" not in text(offer_page)
    assert "Confirm booking" in text(page) and "Book this time" in text(offer_page)


def test_confirming_after_seeing_the_estimate_books_the_visit(confirm_page, patient):
    coverage(patient, member_id="W123456789")
    client, slot, page = confirm_page(patient)
    content = text(page)
    marker = 'name="idempotency_key" value="'
    key = content[content.index(marker) + len(marker):].split('"', 1)[0]

    response = client.post(confirm_url(slot), {"idempotency_key": key})

    visit = Visit.objects.get(patient=patient)
    assert response.status_code == 302 and response["Location"] == f"/portal/schedule/visits/{visit.pk}/"


# --- someone else's slot or offer ----------------------------------------------------------

def test_another_patients_offer_is_404_and_shows_no_estimate(client_for, patient, other_patient, offered, simulator):
    coverage(patient, member_id="W123456789")
    request = offered(patient)

    page = client_for(other_patient.user).get(offer_url(request))

    assert page.status_code == 404 and "Estimated cost" not in text(page)
    assert simulator.sent == 0 and not EligibilityCheck.objects.exists()


def test_another_patients_held_slot_is_refused_as_before_and_shows_no_estimate(client_for, confirm_page, patient, other_patient,
                                                                              simulator):
    coverage(patient, member_id="W123456789")
    coverage(other_patient, member_id="W987654321")
    _, slot, _ = confirm_page(patient)
    sent = simulator.sent

    page = client_for(other_patient.user).get(confirm_url(slot))

    # Not held for this patient (scheduling's existing answer: 409, "no longer held for you").
    assert page.status_code == 409 and "Estimated cost" not in text(page)
    assert simulator.sent == sent and not EligibilityCheck.objects.filter(patient=other_patient).exists()



# --- cost -----------------------------------------------------------------------------------

def test_a_cached_estimate_costs_five_queries_on_the_offer_page(client_for, patient, offered, simulator):
    coverage(patient, member_id="W123456789")
    request = offered(patient)
    client = client_for(patient.user)
    client.get(offer_url(request))  # the first view checks eligibility (and writes the session)

    with CaptureQueriesContext(connection) as with_estimate:
        assert "(your copay)" in text(client.get(offer_url(request)))
    hooks.booking_estimate.disconnect(booking_estimate)
    try:
        with CaptureQueriesContext(connection) as without:
            client.get(offer_url(request))
    finally:
        hooks.booking_estimate.connect(booking_estimate)

    # The visit type's codes, their fee rows (one code here), the primary coverage, the cached
    # check and the audit row of reading it; nothing per offered time, no new check.
    assert len(with_estimate.captured_queries) - len(without.captured_queries) == 5
    assert not any("INSERT INTO \"billing_eligibilitycheck\"" in q["sql"] for q in with_estimate.captured_queries)
    assert simulator.sent == 1
