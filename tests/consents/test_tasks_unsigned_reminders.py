"""The hourly job that reminds a patient of a consent still unsigned, on a frozen clock: once two
days after it was sent, and once in the days before the plan's planned surgery date; exactly
one reminder per consent per reminder point, whatever the number of runs; a moved date is a new
point; a signed or declined consent gets none. The words name the date, never the procedure."""
import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.utils import timezone

from apps.consents import services, tasks
from apps.consents.models import ConsentForm
from apps.consents.services.consents import REMIND_BEFORE_DAYS
from apps.core.exceptions import DomainError, ValidationFailed
from apps.messaging.models import Channel, Notification, OutboundMessage

pytestmark = pytest.mark.django_db
ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)


class FrozenClock:
    """timezone.now() answers `now` until moved (every service reads the clock through it)."""

    def __init__(self, now):
        self.now = now

    def move(self, **delta):
        self.now += datetime.timedelta(**delta)

    def to(self, day, hour=12):
        self.now = datetime.datetime.combine(day, datetime.time(hour), tzinfo=ZONE)

    @property
    def today(self):
        return timezone.localdate(self.now)


@pytest.fixture
def clock(monkeypatch):
    # Noon in the clinic's zone: far from quiet hours and from midnight.
    start = datetime.datetime.combine(timezone.localdate() + datetime.timedelta(days=1), datetime.time(12), tzinfo=ZONE)
    frozen = FrozenClock(start)
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def _rows(consent, kind):
    return OutboundMessage.objects.filter(kind=kind, dedupe_key__startswith=f"consent:{consent.pk}:reminder")


def _before(consent):
    return _rows(consent, "consent_reminder_before_date")


def _after_sending(consent):
    return _rows(consent, "consent_reminder")


def _sent_with_date(flow, clock, days_ahead):
    flow.approve()
    services.procedure_plan_set_planned_date(plan=flow.plan, planned_date=clock.today + datetime.timedelta(days=days_ahead),
                                             actor=flow.surgeon_user)
    return flow.send()


def test_an_unsigned_consent_is_reminded_once_before_the_planned_date(flow, clock):
    consent = _sent_with_date(flow, clock, days_ahead=10)
    planned = clock.today + datetime.timedelta(days=10)

    clock.to(planned - datetime.timedelta(days=REMIND_BEFORE_DAYS + 1))
    tasks.remind_unsigned()
    assert not _before(consent).exists()

    clock.to(planned - datetime.timedelta(days=REMIND_BEFORE_DAYS))
    assert tasks.remind_unsigned() == 1
    assert tasks.remind_unsigned() == 0  # the next hourly run
    clock.move(days=1)
    assert tasks.remind_unsigned() == 0
    clock.to(planned - datetime.timedelta(days=1), hour=18)
    assert tasks.remind_unsigned() == 0

    rows = list(_before(consent))
    assert {row.channel for row in rows} == {Channel.SMS, Channel.EMAIL}
    assert all(row.dedupe_key.startswith(f"consent:{consent.pk}:reminder:before:{planned.isoformat()}:") for row in rows)
    sms = next(row for row in rows if row.channel == Channel.SMS)
    assert f"{planned:%a %d %b %Y}" in sms.body and "signature" in sms.body
    assert "blepharoplasty" not in sms.body.lower() and flow.patient.last_name not in sms.body
    consent.refresh_from_db()
    assert consent.reminded_before_date == planned
    assert Notification.objects.filter(recipient=flow.patient.user, kind="consent_reminder_before_date").count() == 1


def test_the_reminder_two_days_after_sending_comes_once_and_then_the_one_before_the_date(flow, clock):
    consent = _sent_with_date(flow, clock, days_ahead=12)
    planned = clock.today + datetime.timedelta(days=12)

    clock.move(hours=47)
    assert tasks.remind_unsigned() == 0
    clock.move(hours=2)
    assert tasks.remind_unsigned() == 1
    assert tasks.remind_unsigned() == 0
    assert _after_sending(consent).count() == 2 and not _before(consent).exists()

    clock.to(planned - datetime.timedelta(days=2))
    assert tasks.remind_unsigned() == 1
    assert tasks.remind_unsigned() == 0
    assert _after_sending(consent).count() == 2 and _before(consent).count() == 2


def test_a_consent_due_at_both_points_in_one_run_gets_one_reminder(flow, clock):
    consent = _sent_with_date(flow, clock, days_ahead=3)

    clock.move(hours=49)  # past the two days after sending, and the planned date is still ahead
    assert clock.today < consent.plan.planned_date
    assert tasks.remind_unsigned() == 1
    assert tasks.remind_unsigned() == 0
    assert _before(consent).count() == 2 and not _after_sending(consent).exists()


def test_a_moved_planned_date_is_a_new_reminder_point(flow, clock):
    consent = _sent_with_date(flow, clock, days_ahead=3)
    first = clock.today + datetime.timedelta(days=3)
    assert tasks.remind_unsigned() == 1

    second = first + datetime.timedelta(days=7)
    services.procedure_plan_set_planned_date(plan=flow.plan, planned_date=second, actor=flow.surgeon_user)
    assert tasks.remind_unsigned() == 0  # the new date is still 10 days away
    clock.to(second - datetime.timedelta(days=1))
    assert tasks.remind_unsigned() == 1
    assert tasks.remind_unsigned() == 0

    keys = set(_before(consent).values_list("dedupe_key", flat=True))
    assert {key.rsplit(":", 1)[0] for key in keys} == {
        f"consent:{consent.pk}:reminder:before:{first.isoformat()}", f"consent:{consent.pk}:reminder:before:{second.isoformat()}"}


def test_no_reminder_for_a_signed_or_declined_consent_or_a_plan_without_a_date(flow, other_flow, clock):
    consent = _sent_with_date(flow, clock, days_ahead=2)
    flow.sign()
    other = other_flow.send()  # no planned date
    services.consent_decline(consent=other, actor=other_flow.patient.user, reason="Not now")

    clock.move(days=1)
    assert tasks.remind_unsigned() == 0
    assert not OutboundMessage.objects.filter(kind__startswith="consent_reminder").exists()
    assert ConsentForm.objects.get(pk=consent.pk).reminded_before_date is None


def test_the_job_is_declared_hourly():
    declared = {p.name: p for p in tasks.PERIODIC_TASKS}
    assert declared["consents.remind_unsigned"].task == "consents.remind_unsigned"
    assert declared["consents.remind_unsigned"].every_seconds == 3600


# --- the planned date ------------------------------------------------------------------------------

def test_the_planned_date_changes_after_approval_without_touching_the_approval(flow, clock):
    plan = flow.approve()
    day = clock.today + datetime.timedelta(days=20)

    plan = services.procedure_plan_set_planned_date(plan=plan, planned_date=day, actor=flow.surgeon_user)

    plan.refresh_from_db()
    assert (plan.planned_date, plan.status, plan.approved_by_id) == (day, "APPROVED", flow.surgeon_user.pk)
    assert plan.events.filter(reason=f"Planned surgery date set to {day:%Y-%m-%d}").count() == 1


@pytest.mark.parametrize("days", [-1, 731])
def test_a_planned_date_in_the_past_or_too_far_ahead_is_refused(flow, clock, days):
    plan = flow.approve()

    with pytest.raises(ValidationFailed) as info:
        services.procedure_plan_set_planned_date(plan=plan, planned_date=clock.today + datetime.timedelta(days=days))

    assert "planned_date" in info.value.extra["fields"]
    plan.refresh_from_db()
    assert plan.planned_date is None


def test_the_planned_date_is_locked_once_the_theatre_is_booked(flow, clock):
    flow.book(start=clock.now + datetime.timedelta(days=7))

    with pytest.raises(DomainError) as info:
        services.procedure_plan_set_planned_date(plan=flow.plan, planned_date=clock.today + datetime.timedelta(days=9))

    assert (info.value.status_code, info.value.code) == (409, "planned_date_locked")


def test_a_new_version_keeps_the_planned_date(flow, clock):
    plan = flow.approve()
    day = clock.today + datetime.timedelta(days=15)
    services.procedure_plan_set_planned_date(plan=plan, planned_date=day)

    new = services.procedure_plan_new_version(plan=plan, reason="Add the right side", actor=flow.surgeon_user)

    assert new.planned_date == day
