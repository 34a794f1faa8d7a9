"""Helpers shared by the staff scheduling page tests (test_views_staff_*.py)."""
import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.audit.models import AccessLog
from apps.scheduling.models import Visit
from tests.factories import PortalPatientFactory


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def assert_portal_redirect(response):
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


def assert_mfa_redirect(response):
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/mfa/")


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


def reads_logged(object_type, ids):
    return set(AccessLog.objects.filter(action="read", object_type=object_type, object_id__in=[str(i) for i in ids])
               .values_list("object_id", flat=True))


def make_visit(slot, visit_type, *, patient=None, status=Visit.Status.PLANNED):
    """A visit booked on `slot` (the slot is set BOOKED directly: arrangement, not the rule
    under test)."""
    patient = patient or PortalPatientFactory()
    slot.status = "BOOKED"
    slot.save(update_fields=["status"])
    return Visit.objects.create(
        patient=patient, provider=slot.provider, slot=slot, visit_type=visit_type, location=slot.location, mode=slot.mode,
        start=slot.start, end=slot.start + datetime.timedelta(minutes=visit_type.duration_minutes), status=status,
    )


def today_at(hour, minute=0):
    """An aware datetime today (clinic timezone) at hour:minute."""
    local = timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)
    return local
