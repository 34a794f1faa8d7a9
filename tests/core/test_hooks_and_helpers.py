"""Extension points (apps/core/hooks.py), the demo registry (apps/core/demo.py) and the one
timezone helper (apps/core/timezones.py)."""
import datetime
import io
import zoneinfo

import pytest
from django.core.management import call_command

from apps.core import demo
from apps.core.hooks import Hook
from apps.core.timezones import local_time, zone_for


def test_a_hook_calls_its_receivers_in_order_and_first_takes_the_first_answer():
    hook = Hook("test", "(*, n) -> str or None")
    calls = []
    hook.connect(lambda *, n: calls.append(("a", n)))  # answers None: passes
    hook.connect(lambda *, n: f"b{n}")
    hook.connect(lambda *, n: "never asked")

    assert hook.first(n=1) == "b1"
    assert calls == [("a", 1)]
    assert hook.all(n=2) == [None, "b2", "never asked"]


def test_connecting_twice_is_one_receiver_and_an_empty_hook_answers_none():
    hook = Hook("test")

    def receiver():
        return "yes"

    hook.connect(receiver)
    hook.connect(receiver)
    assert hook.receivers == (receiver,)
    hook.disconnect(receiver)
    assert not hook and hook.first() is None and hook.all() == []


def test_each_app_contributes_its_own_demo_records_in_floor_order():
    demo.discover()
    modules = [function.__module__ for _, _, function in demo._contributions]

    assert modules[:4] == [
        "apps.accounts.demo", "apps.patients.demo", "apps.scheduling.demo", "apps.scheduling.demo"]


@pytest.mark.django_db
def test_seed_demo_prints_what_each_app_contributed_and_the_logins():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()

    assert "staff: frontdesk@clinic.test (front_desk)" in text
    assert "patient: Maria Garcia (login patient@clinic.test)" in text
    assert "provider: Dr. Priya Shah" in text
    assert "Patients: patient@clinic.test, patient2@clinic.test, patient3@clinic.test" in text
    assert "Password for every demo login: clinic-demo-2026" in text

    again = io.StringIO()
    call_command("seed_demo", stdout=again)  # idempotent: nothing new the second time
    assert "patient: Maria Garcia" not in again.getvalue() and "staff: frontdesk@clinic.test" in again.getvalue()


class _Person:
    def __init__(self, timezone):
        self.timezone = timezone


def test_a_patient_reads_their_own_clock_and_everyone_else_the_clinics(settings):
    settings.DEFAULT_PATIENT_TIMEZONE = "America/New_York"
    noon_utc = datetime.datetime(2026, 7, 1, 16, 0, tzinfo=datetime.timezone.utc)

    assert local_time(noon_utc, _Person("America/Los_Angeles")).hour == 9
    assert local_time(noon_utc, None).hour == 12
    assert zone_for(_Person("Not/AZone")) == zoneinfo.ZoneInfo("America/New_York")
    assert zone_for(_Person("")) == zoneinfo.ZoneInfo("America/New_York")
    assert zone_for(object()) == zoneinfo.ZoneInfo("America/New_York")  # staff have no timezone
