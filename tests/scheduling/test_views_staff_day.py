"""A provider's day schedule, slot blocking, the front desk's today and a visit's actions
(check in, start, complete, no-show, cancel with late cancels recorded, reschedule)."""
import datetime

import pytest
from django.utils import timezone

from apps.scheduling.models import Visit, VisitSlot
from tests.factories import PortalPatientFactory
from tests.scheduling.factories import SlotFactory
from tests.scheduling.staff_pages import (
    assert_login_redirect, assert_mfa_redirect, assert_portal_redirect, count_queries, make_visit, reads_logged,
)

DAY = "/staff/scheduling/day/"
DESK = "/staff/scheduling/front-desk/"
V = Visit.Status


def visit_url(visit, action=""):
    return f"/staff/scheduling/visits/{visit.pk}/" + (f"{action}/" if action else "")


@pytest.fixture
def day_with_slots(provider, location):
    """make(n) -> n slots of `provider` on one local day ten days ahead, every other one booked."""
    day = timezone.localdate() + datetime.timedelta(days=10)

    def make(n, *, start_index=0, visit_type=None):
        slots = []
        for i in range(start_index, start_index + n):
            start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(7, 0))) + datetime.timedelta(minutes=15 * i)
            slot = SlotFactory(provider=provider, location=location, start=start, end=start + datetime.timedelta(minutes=15))
            if visit_type is not None and i % 2 == 0:
                make_visit(slot, visit_type, patient=PortalPatientFactory())
            slots.append(slot)
        return slots

    return day, make


# --- day schedule ---------------------------------------------------------------------------

def test_day_schedule_permissions(client, client_for, patient, front_desk, nurse, provider_user, billing_user):
    assert_login_redirect(client.get(DAY))
    assert_portal_redirect(client_for(patient.user).get(DAY))
    assert_mfa_redirect(client_for(front_desk, verified=False).get(DAY))
    assert client_for(billing_user).get(DAY).status_code == 403
    for user in (front_desk, nurse, provider_user):
        response = client_for(user).get(DAY)
        assert response.status_code == 200
        assert f"{timezone.localdate():%A}" in response.content.decode()  # the day shown: today


def test_day_schedule_shows_slots_with_status_and_visits_with_patient_names(client_for, front_desk, provider, location,
                                                                             visit_type, day_with_slots):
    day, make = day_with_slots
    slots = make(4, visit_type=visit_type)
    booked = Visit.objects.get(slot=slots[0])
    response = client_for(front_desk).get(f"{DAY}?date={day.isoformat()}&provider={provider.pk}&location={location.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"{booked.patient.last_name}, {booked.patient.first_name}" in html
    assert "Booked" in html and "Free" in html
    assert [r["slot"].pk for r in response.context["rows"]] == [s.pk for s in slots]
    visits = Visit.objects.filter(slot__in=slots)
    assert reads_logged("scheduling.visit", [v.pk for v in visits]) == {str(v.pk) for v in visits}


def test_day_schedule_query_count_is_the_same_for_5_and_30_rows(client_for, front_desk, provider, visit_type, day_with_slots):
    day, make = day_with_slots
    client = client_for(front_desk)
    url = f"{DAY}?date={day.isoformat()}&provider={provider.pk}"
    client.get(url)
    make(5, visit_type=visit_type)
    five = count_queries(client, url)
    make(25, start_index=5, visit_type=visit_type)
    thirty = count_queries(client, url)
    assert len(client.get(url).context["rows"]) == 30
    assert five == thirty


def test_front_desk_blocks_and_unblocks_a_slot(client_for, front_desk, make_slot):
    slot = make_slot()
    client = client_for(front_desk)
    assert client.post(f"/staff/scheduling/slots/{slot.pk}/block/", {"reason": "Meeting"}).status_code == 302
    slot.refresh_from_db()
    assert slot.status == VisitSlot.Status.BLOCKED
    assert client.post(f"/staff/scheduling/slots/{slot.pk}/unblock/").status_code == 302
    slot.refresh_from_db()
    assert slot.status == VisitSlot.Status.FREE


def test_blocking_a_booked_slot_is_refused_with_409_on_the_day_page(client_for, front_desk, make_slot, visit_type):
    slot = make_slot()
    make_visit(slot, visit_type)
    response = client_for(front_desk).post(f"/staff/scheduling/slots/{slot.pk}/block/")
    assert response.status_code == 409
    assert "invalid_transition" in response.content.decode()
    slot.refresh_from_db()
    assert slot.status == VisitSlot.Status.BOOKED


def test_a_provider_cannot_block_slots(client_for, provider_user, make_slot):
    slot = make_slot()
    assert client_for(provider_user).post(f"/staff/scheduling/slots/{slot.pk}/block/").status_code == 403


# --- front desk -----------------------------------------------------------------------------

@pytest.fixture
def todays_visit(provider, location, visit_type):
    """A planned visit that started 30 minutes ago, today."""
    start = (timezone.now() - datetime.timedelta(minutes=30)).replace(second=0, microsecond=0)
    if timezone.localtime(start).date() != timezone.localdate():
        start = timezone.now().replace(second=0, microsecond=0)
    slot = SlotFactory(provider=provider, location=location, start=start, end=start + datetime.timedelta(minutes=30))
    return make_visit(slot, visit_type)


def test_front_desk_page_permissions(client, client_for, patient, front_desk, billing_user, todays_visit):
    assert_login_redirect(client.get(DESK))
    assert_portal_redirect(client_for(patient.user).get(DESK))
    assert_mfa_redirect(client_for(front_desk, verified=False).get(DESK))
    # Billing may see today's visits (view_visit) but gets no action buttons.
    billing = client_for(billing_user).get(DESK)
    assert billing.status_code == 200 and "Check in" not in billing.content.decode()
    desk = client_for(front_desk).get(DESK)
    assert "Check in" in desk.content.decode()


def test_front_desk_lists_todays_visits_and_logs_the_reads(client_for, front_desk, todays_visit):
    response = client_for(front_desk).get(DESK)
    assert [v.pk for v in response.context["visits"]] == [todays_visit.pk]
    assert todays_visit.patient.last_name in response.content.decode()
    assert reads_logged("scheduling.visit", [todays_visit.pk]) == {str(todays_visit.pk)}


def test_the_visit_lifecycle_from_the_front_desk(client_for, front_desk, provider_user, todays_visit):
    desk, doctor = client_for(front_desk), client_for(provider_user)
    response = desk.post(visit_url(todays_visit, "check-in"), {"next": DESK})
    assert response.status_code == 302 and response["Location"] == DESK
    assert doctor.post(visit_url(todays_visit, "start")).status_code == 302
    assert doctor.post(visit_url(todays_visit, "complete")).status_code == 302
    todays_visit.refresh_from_db()
    assert todays_visit.status == V.COMPLETED and todays_visit.checked_in_at and todays_visit.started_at


def test_an_action_not_allowed_from_the_status_is_409(client_for, front_desk, todays_visit):
    response = client_for(front_desk).post(visit_url(todays_visit, "complete"))
    assert response.status_code == 409
    assert "invalid_transition" in response.content.decode()


def test_an_unknown_action_is_404(client_for, front_desk, todays_visit):
    assert client_for(front_desk).post(visit_url(todays_visit, "teleport")).status_code == 404


def test_billing_cannot_check_in(client_for, billing_user, todays_visit):
    assert client_for(billing_user).post(visit_url(todays_visit, "check-in")).status_code == 403


def test_marking_a_no_show_after_the_start(client_for, front_desk, todays_visit):
    assert client_for(front_desk).post(visit_url(todays_visit, "no-show")).status_code == 302
    todays_visit.refresh_from_db()
    assert todays_visit.status == V.NO_SHOW


def test_marking_a_no_show_before_the_start_is_409(client_for, front_desk, make_slot, visit_type):
    visit = make_visit(make_slot(hours_from_now=5), visit_type)
    response = client_for(front_desk).post(visit_url(visit, "no-show"))
    assert response.status_code == 409
    assert "too_early_for_no_show" in response.content.decode()


def test_staff_cancel_inside_the_window_is_recorded_as_late(client_for, front_desk, make_slot, visit_type):
    visit = make_visit(make_slot(hours_from_now=5), visit_type)
    response = client_for(front_desk).post(visit_url(visit, "cancel"), {"cancel-reason": "Patient phoned"}, follow=True)
    assert "late cancel" in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == V.CANCELLED and visit.late_cancel
    assert visit.slot.status == VisitSlot.Status.FREE


def test_cancel_outside_the_window_is_not_late(client_for, front_desk, make_slot, visit_type):
    visit = make_visit(make_slot(hours_from_now=72), visit_type)
    client_for(front_desk).post(visit_url(visit, "cancel"), {"cancel-reason": "Travelling"})
    visit.refresh_from_db()
    assert visit.status == V.CANCELLED and not visit.late_cancel


def test_cancelling_a_checked_in_visit_is_409(client_for, front_desk, todays_visit):
    client = client_for(front_desk)
    client.post(visit_url(todays_visit, "check-in"))
    response = client.post(visit_url(todays_visit, "cancel"), {"cancel-reason": "x"})
    assert response.status_code == 409
    assert "A visit cannot go from CHECKED_IN to CANCELLED. (409 invalid_transition)" in response.content.decode()
    todays_visit.refresh_from_db()
    assert todays_visit.status == V.CHECKED_IN


def test_visit_page_permissions_and_audit(client, client_for, patient, billing_user, front_desk, todays_visit):
    assert_login_redirect(client.get(visit_url(todays_visit)))
    assert_portal_redirect(client_for(patient.user).get(visit_url(todays_visit)))
    assert client_for(billing_user).get(visit_url(todays_visit)).status_code == 200
    assert client_for(front_desk).get(visit_url(todays_visit)).status_code == 200
    assert reads_logged("scheduling.visit", [todays_visit.pk]) == {str(todays_visit.pk)}


# --- reschedule -----------------------------------------------------------------------------

def test_front_desk_reschedules_to_a_free_slot(client_for, front_desk, make_slot, visit_type, patient, notifications):
    visit = make_visit(make_slot(hours_from_now=72), visit_type, patient=patient)
    old_slot = visit.slot
    target = make_slot(hours_from_now=96)
    client = client_for(front_desk)
    page = client.get(visit_url(visit, "reschedule"))
    assert target in page.context["options"]
    response = client.post(visit_url(visit, "reschedule"), {"slot": target.pk, "reason": "Clash"})
    assert response.status_code == 302
    visit.refresh_from_db()
    old_slot.refresh_from_db()
    assert visit.slot == target and visit.start == target.start
    assert old_slot.status == VisitSlot.Status.FREE
    assert "visit_rescheduled" in notifications(patient.user)


def test_rescheduling_to_a_slot_taken_meanwhile_is_409(client_for, front_desk, make_slot, visit_type):
    visit = make_visit(make_slot(hours_from_now=72), visit_type)
    taken = make_slot(hours_from_now=96, status=VisitSlot.Status.BLOCKED)
    response = client_for(front_desk).post(visit_url(visit, "reschedule"), {"slot": taken.pk})
    assert response.status_code == 409
    assert "slot_unavailable" in response.content.decode()
    visit.refresh_from_db()
    assert visit.slot_id != taken.pk


def test_rescheduling_without_choosing_a_slot_is_400(client_for, front_desk, make_slot, visit_type):
    visit = make_visit(make_slot(hours_from_now=72), visit_type)
    assert client_for(front_desk).post(visit_url(visit, "reschedule"), {"slot": ""}).status_code == 400
